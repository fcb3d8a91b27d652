"""Deal lines: what was actually sold, matched to the list and policy in force on its date.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from pricing.storage.store import Amount, Timestamp

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deal_imports",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("imported_at", Timestamp, nullable=False),
        sa.Column("imported_by", sa.String(200), nullable=False),
        sa.Column("lines", sa.Integer, nullable=False),
        sa.Column("added", sa.Integer, nullable=False),
    )
    op.create_table(
        "deal_lines",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("line_key", sa.String(300), nullable=False, unique=True),
        sa.Column("deal_id", sa.String(200), nullable=False),
        sa.Column("deal_first", sa.Integer, nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("customer", sa.String(300)),
        sa.Column("rep", sa.String(200)),
        sa.Column("sku", sa.String(200), nullable=False),
        sa.Column("sku_key", sa.String(200), nullable=False),
        sa.Column("qty", Amount, nullable=False),
        sa.Column("amount", Amount),
        sa.Column("unit_price", Amount),
        sa.Column("discount_pct", Amount),
        sa.Column("request_id", sa.Integer),
        sa.Column("currency", sa.String(3)),
        sa.Column("import_id", sa.Integer, sa.ForeignKey("deal_imports.id"), nullable=False),
        sa.Column("edition_id", sa.Integer),
        sa.Column("family", sa.String(200)),
        sa.Column("list_price", Amount),
        sa.Column("standard_price", Amount),
        sa.Column("net_amount", Amount),
        sa.Column("list_revenue", Amount),
        sa.Column("standard_revenue", Amount),
        sa.Column("cost_amount", Amount),
        sa.Column("hard_floor", Amount),
        sa.Column("policy_version", sa.Integer),
        sa.Column("level_rank", sa.Integer),
        sa.Column("level", sa.String(100)),
        sa.Column("below_floor", sa.Integer),
    )


def downgrade() -> None:
    op.drop_table("deal_lines")
    op.drop_table("deal_imports")
