"""What a deals import left out by the lines' status: which statuses it kept (the default,
every one, or those named) and how many lines of each status it left out. Part of what makes
the same reading of a file. Imports recorded before this revision read these as nulls (they
kept every line: no status column was read then).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deal_imports") as batch:
        batch.add_column(sa.Column("status_filter", sa.Text))
        batch.add_column(sa.Column("skipped_by_status", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("deal_imports") as batch:
        batch.drop_column("skipped_by_status")
        batch.drop_column("status_filter")
