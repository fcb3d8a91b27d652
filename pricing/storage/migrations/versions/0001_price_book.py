"""Price book editions, their items and standard volume tiers.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from pricing.storage.store import Amount, Timestamp

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "editions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("effective_from", sa.Date, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("imported_at", Timestamp, nullable=False),
        sa.Column("imported_by", sa.String(200), nullable=False),
        sa.Column("item_count", sa.Integer, nullable=False),
        sa.Column("source_sha256", sa.String(64), nullable=False),
    )
    op.create_table(
        "price_items",
        sa.Column("edition_id", sa.Integer, sa.ForeignKey("editions.id"), primary_key=True),
        sa.Column("sku_key", sa.String(200), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("sku", sa.String(200), nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("family", sa.String(200)),
        sa.Column("list_price", Amount, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("unit_cost", Amount),
        sa.Column("floor_price", Amount),
        sa.Column("status", sa.String(100)),
    )
    op.create_table(
        "price_tiers",
        sa.Column("edition_id", sa.Integer, sa.ForeignKey("editions.id"), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("sku", sa.String(200)),
        sa.Column("family", sa.String(200)),
        sa.Column("min_qty", sa.Integer, nullable=False),
        sa.Column("price", Amount),
        sa.Column("discount_pct", Amount),
    )


def downgrade() -> None:
    op.drop_table("price_tiers")
    op.drop_table("price_items")
    op.drop_table("editions")
