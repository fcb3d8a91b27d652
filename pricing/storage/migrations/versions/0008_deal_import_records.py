"""What each deals import was, so that it can be listed, recognised and taken back: the file's
SHA-256, the column mapping and date format it was read with, the date range of its lines, and
the keys of the lines it held that an earlier import had stored already (kept when that earlier
import is undone). Imports recorded before this revision read these as nulls.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deal_imports") as batch:
        batch.add_column(sa.Column("sha256", sa.String(64)))
        batch.add_column(sa.Column("columns", sa.Text))
        batch.add_column(sa.Column("date_format", sa.String(100)))
        batch.add_column(sa.Column("decimal", sa.String(10)))
        batch.add_column(sa.Column("first_date", sa.Date))
        batch.add_column(sa.Column("last_date", sa.Date))
        batch.add_column(sa.Column("held_keys", sa.LargeBinary))
    op.create_index("ix_deal_imports_sha256", "deal_imports", ["sha256"])


def downgrade() -> None:
    op.drop_index("ix_deal_imports_sha256", "deal_imports")
    with op.batch_alter_table("deal_imports") as batch:
        for name in (
            "held_keys",
            "last_date",
            "first_date",
            "decimal",
            "date_format",
            "columns",
            "sha256",
        ):
            batch.drop_column(name)
