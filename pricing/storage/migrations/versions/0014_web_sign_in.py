"""Signing in to the web pages (issue 25): passwords, and the browsers signed in.

``passwords`` keeps each person's password as an argon2 hash of it keyed with a key derived from
the server's secret and bound to the person, so that a hash written or copied into the table by
hand (by someone holding the database, not the secret) lets nobody sign in. People registered
before this revision have none until `pricing people reset NAME` gives them one.

``web_sessions`` keeps one row per browser signed in: the keyed hash of its cookie (which names
the person and the expiry), so that signing out, a removal or a new password ends it, and a row
written by hand signs nobody in.

A store that has both tables already (its revision set back by hand, as the tests of the
earlier revisions do) keeps them.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    made = set(sa.inspect(op.get_bind()).get_table_names())
    if {"passwords", "web_sessions"} <= made:  # a store whose revision was set back by hand
        return
    op.create_table(
        "passwords",
        sa.Column("name_key", sa.String(200), primary_key=True),
        sa.Column("hash", sa.Text, nullable=False),
        sa.Column("initial", sa.Boolean, nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("name_key", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_web_sessions_name", "web_sessions", ["name_key"])


def downgrade() -> None:
    op.drop_index("ix_web_sessions_name", "web_sessions")
    op.drop_table("web_sessions")
    op.drop_table("passwords")
