"""Contracted prices (issue 26): a request may ask for a standing price, its lines the
customer's prices for a period.

``contract_terms`` keeps the period of each contract request (one row; none for a request for
one deal): the first and last day it covers, both inclusive, and when an owner ended it early,
who and when. The request, its lines and its events stay where they are: a contract is judged,
routed, decided and audited as any request. A table of its own, so that what the audit chain
digests of the requests stored before this revision is unchanged.

A table the store has already (its revision set back by hand, as the tests of the earlier
revisions do) is kept as it is.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "contract_terms" in set(sa.inspect(op.get_bind()).get_table_names()):
        return  # (a revision set back by hand)
    op.create_table(
        "contract_terms",
        sa.Column("request_id", sa.Integer, sa.ForeignKey("requests.id"), primary_key=True),
        sa.Column("starts", sa.Date, nullable=False),
        sa.Column("ends", sa.Date, nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("ended_by", sa.String(200)),
    )


def downgrade() -> None:
    op.drop_table("contract_terms")
