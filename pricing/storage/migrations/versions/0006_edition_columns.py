"""Each price book edition's items, kept once more as one compressed Arrow blob for matching.

A deals import looks up every line's SKU among an edition's items; reading 100,000 items as rows
took longer than matching a million lines. Editions never change, so the blob, written the first
time an edition is matched against, never goes stale.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "edition_columns",
        sa.Column("edition_id", sa.Integer, sa.ForeignKey("editions.id"), primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("edition_columns")
