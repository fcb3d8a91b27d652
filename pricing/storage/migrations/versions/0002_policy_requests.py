"""Policy versions, deviation requests, their lines and audit events.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from pricing.storage.store import Amount, Timestamp

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policies",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("effective_from", sa.Date, nullable=False),
        sa.Column("loaded_at", Timestamp, nullable=False),
        sa.Column("loaded_by", sa.String(200), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_table(
        "requests",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("customer", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("rep", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("level", sa.String(100)),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("policy_version", sa.Integer, sa.ForeignKey("policies.id"), nullable=False),
        sa.Column("edition_id", sa.Integer, sa.ForeignKey("editions.id"), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("decided_at", Timestamp),
        sa.Column("decided_by", sa.String(200)),
        sa.Column("expires_at", Timestamp),
    )
    op.create_index("ix_requests_status", "requests", ["status"])
    op.create_index("ix_requests_rep", "requests", ["rep"])
    op.create_table(
        "request_lines",
        sa.Column("request_id", sa.Integer, sa.ForeignKey("requests.id"), primary_key=True),
        sa.Column("line_no", sa.Integer, primary_key=True),
        sa.Column("sku", sa.String(200), nullable=False),
        sa.Column("family", sa.String(200)),
        sa.Column("qty", sa.Integer, nullable=False),
        sa.Column("list_price", Amount, nullable=False),
        sa.Column("standard_price", Amount, nullable=False),
        sa.Column("price", Amount, nullable=False),
        sa.Column("discount_pct", Amount, nullable=False),
        sa.Column("unit_cost", Amount),
        sa.Column("hard_floor", Amount),
        sa.Column("decision", sa.String(20), nullable=False),
        sa.Column("level", sa.String(100)),
        sa.Column("reasons", sa.Text, nullable=False),
    )
    op.create_table(
        "request_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.Integer, sa.ForeignKey("requests.id"), nullable=False),
        sa.Column("at", Timestamp, nullable=False),
        sa.Column("by", sa.String(200), nullable=False),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column("note", sa.Text),
    )
    op.create_index("ix_request_events_request", "request_events", ["request_id"])


def downgrade() -> None:
    op.drop_index("ix_request_events_request", table_name="request_events")
    op.drop_table("request_events")
    op.drop_table("request_lines")
    op.drop_index("ix_requests_rep", table_name="requests")
    op.drop_index("ix_requests_status", table_name="requests")
    op.drop_table("requests")
    op.drop_table("policies")
