"""Nothing in the database can mint identity (issue 23): tokens kept under a key, people sealed.

A token was stored as its plain SHA-256, which anyone holding the database could write for a
token of their own. It is now stored keyed: HMAC-SHA256 of that SHA-256, with a key derived from
the server's audit secret (``pricing.config.token_keys``). The tokens themselves are not needed:
each stored SHA-256 is keyed as it is, and sign-in keys the SHA-256 of the token it is given.

Only a person whose row still holds against its newest audit entry (its seal) is converted; a
row changed behind the tool's back keeps its plain hash, which never signs in again (`pricing
audit verify` names it; `pricing people reset` gives its person a new token). Converting needs
the server's secret: run the upgrade with the server's configuration (``PRICING_CONFIG``), as
the server itself does when it starts; without it, the upgrade stops and changes nothing.

The column ``since_request`` is added: a person registered again after a removal is a new
person, who never owns the earlier person's requests (those up to this number).

Each converted person is recorded again in the audit (``person.token_keyed``, by ``system``),
their row as it now is.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_BEFORE = sa.table(  # people as revision 0010 left them (the audit digested these columns)
    "people",
    *(sa.column(name) for name in ("id", "name", "name_key", "role", "email", "token_hash",
                                   "created_at", "created_by", "removed_at")),
)  # fmt: skip


def upgrade() -> None:
    from pricing import config
    from pricing.errors import ConfigError
    from pricing.storage import audit
    from pricing.storage.people import keyed_hash

    conn = op.get_bind()
    people = conn.execute(sa.select(_BEFORE.c.name_key, _BEFORE.c.token_hash)).all()
    tokens = {key: plain for key, plain in people if plain}
    if people:
        try:
            held = config.audit_keys()
        except ConfigError as exc:
            raise ConfigError(_NEEDS_SECRET.format(why=exc)) from None
    sealed = [key for key, _ in people if _sealed(conn, key)]
    if "since_request" not in {c["name"] for c in sa.inspect(conn).get_columns("people")}:
        with op.batch_alter_table("people") as batch:
            batch.add_column(sa.Column("since_request", sa.Integer))
    if tokens:
        for key in tokens:
            entry = audit.last_entry(conn, audit.subject("person", key))
            if entry is not None and entry.key_id not in held:
                raise ConfigError(_NEEDS_SECRET.format(
                    why=f"the audit's entries are keyed with a secret (key id {entry.key_id}) "
                    "this configuration does not hold"
                ))  # fmt: skip
        current = config.token_keys()[0]
        people_table = sa.table("people", sa.column("name_key"), sa.column("token_hash"))
        for key in sealed:
            if key in tokens:
                conn.execute(
                    people_table.update()
                    .where(people_table.c.name_key == key)
                    .values(token_hash=keyed_hash(current, tokens[key]))
                )
    if sealed:  # the chain holds entries (each sealed person has one): no baseline is written
        audit.record(
            conn, by=audit.SYSTEM, action="person.token_keyed",
            subjects=[audit.subject("person", key) for key in sealed],
            note="schema 0011: token stored under the server's key",
        )  # fmt: skip


_NEEDS_SECRET = (
    "the upgrade to schema 0011 keys the stored tokens with the server's secret, and {why}; "
    "nothing was changed. Run `pricing db upgrade` with the server's configuration "
    "(PRICING_CONFIG=/etc/pricing/server.toml), or start the server, which upgrades with it"
)


def _sealed(conn: sa.Connection, key: str) -> bool:
    """Whether the person's row, as 0010 stored it, holds against its newest entry."""
    import hashlib

    from pricing.storage import audit_entries, audit_subjects

    entry = audit_entries.last_entry(conn, audit_subjects.subject("person", key))
    if entry is None or not audit_entries.holds(conn, entry):
        return False
    rows = audit_subjects.raw_rows(conn, sa.select(_BEFORE).where(_BEFORE.c.name_key == key)
                          .order_by(_BEFORE.c.id))  # fmt: skip
    digest = hashlib.sha256(audit_subjects.rows_digest("people", rows).encode()).hexdigest()
    return digest == entry.digest


def downgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.drop_column("since_request")
