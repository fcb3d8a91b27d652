"""Approvals reused by new requests (issue 26): ``approval_reuses``, one row for a request whose
approval is one a person gave an earlier request of the same rep and customer (withdrawn or
lost within its validity, its units not used by another): which approval it kept. A table of
its own, so that what the audit chain digests of the requests stored before this revision is
unchanged.

A table the store has already (its revision set back by hand, as the tests of the earlier
revisions do) is kept as it is.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "approval_reuses" in set(sa.inspect(op.get_bind()).get_table_names()):
        return  # (a revision set back by hand)
    op.create_table(
        "approval_reuses",
        sa.Column("request_id", sa.Integer, sa.ForeignKey("requests.id"), primary_key=True),
        sa.Column("approval_id", sa.Integer, sa.ForeignKey("requests.id"), nullable=False),
    )
    op.create_index("ix_approval_reuses_approval", "approval_reuses", ["approval_id"])


def downgrade() -> None:
    op.drop_index("ix_approval_reuses_approval", "approval_reuses")
    op.drop_table("approval_reuses")
