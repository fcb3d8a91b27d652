"""The deal history judged on one deal value (issue 22): a rule bounded by the deal's value
(`min_deal_value`, `max_deal_value`) looks at the deal's sales lines at standard prices, where
the lines stored before this revision were classified on each line's own value. Their classes
are worked out again, with the deals' values as stored (no price changes); a store whose
policies bound no rule by the deal's value is left as it is.

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A data migration runs the domain code of its time (as 0005 does; an import-linter
    # contract lists the exception).
    from pricing.lines.matching import Reference
    from pricing.lines.service import rematch

    conn = op.get_bind()
    if Reference(conn).reads_deal_value():
        rematch(conn, by=None, repriced=False)  # recorded by the migration, not a person


def downgrade() -> None:
    pass  # the classes stay as they were worked out: an older version reads them as they are
