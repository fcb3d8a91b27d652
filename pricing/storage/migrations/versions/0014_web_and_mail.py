"""Signing in to the web pages, and mail (issue 25): passwords, the browsers signed in, the
outbox.

``passwords`` keeps each person's password as an argon2 hash of it keyed with a key derived from
the server's secret and bound to the person, so that a hash written or copied into the table by
hand (by someone holding the database, not the secret) lets nobody sign in. People registered
before this revision have none until `pricing people reset NAME` gives them one.

``web_sessions`` keeps one row per browser signed in: the keyed hash of its cookie (which names
the person and the expiry), so that signing out, a removal or a new password ends it, and a row
written by hand signs nobody in.

``mail_outbox`` keeps every mail to send (an approval needed, a decision, an expiry), written in
the transaction of the change it tells of, so that a change never waits on a mail server and a
mail is never lost; the server sends them and marks each sent (pricing.server.mailer).

A table the store has already (its revision set back by hand, as the tests of the earlier
revisions do) is kept as it is.

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
    made = set(sa.inspect(op.get_bind()).get_table_names())  # a revision set back by hand
    if "passwords" not in made:
        op.create_table(
            "passwords",
            sa.Column("name_key", sa.String(200), primary_key=True),
            sa.Column("hash", sa.Text, nullable=False),
            sa.Column("initial", sa.Boolean, nullable=False),
            sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        )
    if "web_sessions" not in made:
        op.create_table(
            "web_sessions",
            sa.Column("id_hash", sa.String(64), primary_key=True),
            sa.Column("name_key", sa.String(200), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        )
        op.create_index("ix_web_sessions_name", "web_sessions", ["name_key"])
    if "mail_outbox" not in made:
        op.create_table(
            "mail_outbox",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("kind", sa.String(30), nullable=False),
            sa.Column("request_id", sa.Integer),
            sa.Column("recipient", sa.Text, nullable=False),
            sa.Column("subject", sa.Text, nullable=False),
            sa.Column("body", sa.Text, nullable=False),
            sa.Column("link", sa.Text),
            sa.Column("seal", sa.String(64), nullable=False),
            sa.Column("attempts", sa.Integer, nullable=False),
            sa.Column("next_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("sent_at", sa.DateTime(timezone=True)),
            sa.Column("last_error", sa.Text),
        )
        op.create_index("ix_mail_outbox_due", "mail_outbox", ["sent_at", "next_at"])


def downgrade() -> None:
    op.drop_index("ix_mail_outbox_due", "mail_outbox")
    op.drop_table("mail_outbox")
    op.drop_index("ix_web_sessions_name", "web_sessions")
    op.drop_table("web_sessions")
    op.drop_table("passwords")
