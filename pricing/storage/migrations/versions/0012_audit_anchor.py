"""The audit's own state: the store's identity, and whether it holds things recorded before the
keyed audit.

Every store gets a random id here (``store``), new stores when their schema is created: the
chain's first entry is keyed over it and the audit's witness records heads by (address, id), so
a database recreated at the same path is another store, with a chain of its own.

A store upgraded from before the keyed chain (0007) holds requests, policies, editions… that
no entry recorded: its first change records them as a baseline. Since this revision a baseline
is written only where this upgrade found that state (``baseline`` = ``pending``): a store that
holds data beside an empty chain is otherwise an audit emptied behind the tool's back, which
`pricing audit verify` and `pricing db check` name and every change refuses to cover
(pricing.storage.audit).

Revision ID: 0012
Revises: 0011
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_DATA = ("requests", "policies", "editions", "people", "deal_imports", "deal_segments")


def upgrade() -> None:
    conn = op.get_bind()
    if sa.inspect(conn).has_table("audit_state"):  # a revision put back by hand (tests do)
        return
    state = op.create_table(
        "audit_state",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.bulk_insert(state, [{"name": "store", "value": secrets.token_hex(16)}])
    if conn.execute(sa.text("SELECT 1 FROM audit_log LIMIT 1")).first() is not None:
        return
    for table in _DATA:
        if conn.execute(sa.text(f"SELECT 1 FROM {table} LIMIT 1")).first() is not None:
            op.bulk_insert(state, [{"name": "baseline", "value": "pending"}])
            return


def downgrade() -> None:
    op.drop_table("audit_state")
