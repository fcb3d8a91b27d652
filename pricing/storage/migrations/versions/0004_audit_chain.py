"""Request events carry a hash chained to the previous event's (tamper-evident audit log).

Revision ID: 0004
Revises: 0003
"""

import hashlib
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("request_events") as batch:
        batch.add_column(sa.Column("prev_hash", sa.String(64)))
        batch.add_column(sa.Column("hash", sa.String(64)))
    # Chain the events already stored, oldest first, so `pricing audit verify` holds for them.
    conn = op.get_bind()
    rows = conn.execute(
        sa.text("SELECT id, request_id, at, by, action, note FROM request_events ORDER BY id")
    ).all()
    previous = ""
    for row in rows:
        digest = chain_hash(previous, row.request_id, row.at, row.by, row.action, row.note)
        conn.execute(
            sa.text("UPDATE request_events SET prev_hash = :p, hash = :h WHERE id = :i"),
            {"p": previous, "h": digest, "i": row.id},
        )
        previous = digest


def chain_hash(
    previous: str, request_id: int, at: datetime | str, by: str, action: str, note: str | None
) -> str:
    """The unkeyed chain of this revision (retired by 0007), frozen here as it was."""
    if isinstance(at, str):  # SQLite hands back text inside migrations
        at = datetime.fromisoformat(at)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    stamp = str(at.astimezone(UTC).replace(microsecond=0).isoformat())
    content = "\x1f".join([previous, str(request_id), stamp, by, action, note or ""])
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def downgrade() -> None:
    with op.batch_alter_table("request_events") as batch:
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
