"""Exchange rates (issue 27): ``fx_imports``, one row per rates file imported, and
``fx_series``, the rates each import added or changed, per base and currency a JSON object of
day to the rate's exact decimal text (the rate of a base, currency and day is the newest
import's).

Tables the store has already (its revision set back by hand, as the tests of the earlier
revisions do) are kept as they are.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    there = set(sa.inspect(op.get_bind()).get_table_names())  # (a revision set back by hand)
    if "fx_imports" not in there:
        _imports()
    if "fx_series" not in there:
        _series()


def _imports() -> None:
    op.create_table(
        "fx_imports",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.String(200), nullable=False),
        sa.Column("rates", sa.Integer, nullable=False),
        sa.Column("added", sa.Integer, nullable=False),
        sa.Column("changed", sa.Integer, nullable=False),
        sa.Column("first_day", sa.String(10), nullable=False),
        sa.Column("last_day", sa.String(10), nullable=False),
    )


def _series() -> None:
    op.create_table(
        "fx_series",
        sa.Column("import_id", sa.Integer, sa.ForeignKey("fx_imports.id"), primary_key=True),
        sa.Column("base", sa.String(3), primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("first_day", sa.String(10), nullable=False),
        sa.Column("last_day", sa.String(10), nullable=False),
        sa.Column("days", sa.Integer, nullable=False),
        sa.Column("rates", sa.Text, nullable=False),
    )
    op.create_index("ix_fx_series_pair", "fx_series", ["base", "currency"])


def downgrade() -> None:
    op.drop_table("fx_series")
    op.drop_table("fx_imports")
