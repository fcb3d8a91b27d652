"""The team server's own tables: passwords and sessions for the web pages, the mail outbox
(schema revision 0014); the periods of contracted prices (0015); approvals reused (0017). Part of the store's metadata (:mod:`pricing.storage.store` loads this
module), kept apart so that the store's module stays readable."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, ForeignKey, Index, Integer, String, Table, Text

from pricing.storage.store import Timestamp, metadata

# A person's password for the web pages (since 0014): an argon2 hash of the password keyed
# with a key derived from the server's secret and bound to the person (pricing.access.passwords),
# so that a hash written or copied here by hand lets nobody sign in. ``initial``: the password
# printed by `people add` or `reset`, which the person is asked to change.
passwords = Table(
    "passwords",
    metadata,
    Column("name_key", String(200), primary_key=True),
    Column("hash", Text, nullable=False),
    Column("initial", Boolean, nullable=False),
    Column("changed_at", Timestamp, nullable=False),
)

# The web pages' sign-ins (since 0014): one row per browser signed in, until it signs out or
# expires. The browser's cookie names the person, the expiry and a random part; only the cookie's
# hash keyed with the server's secret is kept here, so a row written or edited by hand signs
# nobody in (pricing.access.sessions).
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("name_key", String(200), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("expires_at", Timestamp, nullable=False),
    Index("ix_web_sessions_name", "name_key"),
)

# The mail to send (since 0014): written in the transaction of the change it tells of (a request
# waiting for a decision, a decision, an expiry), sent by the server (pricing.server.mailer),
# retried with backoff until the mail server takes it, then marked sent. ``seal``: an HMAC of
# the mail keyed with the server's secret, so that a row written by hand is never sent.
mail_outbox = Table(
    "mail_outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", Timestamp, nullable=False),
    Column("kind", String(30), nullable=False),
    Column("request_id", Integer),
    Column("recipient", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("link", Text),  # the page it points to (its path; the server adds its base URL)
    Column("seal", String(64), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_at", Timestamp, nullable=False),
    Column("sent_at", Timestamp),
    Column("last_error", Text),
    Index("ix_mail_outbox_due", "sent_at", "next_at"),
)

# The period of a contract (since 0015): a request asking for standing prices, whose approved
# lines are the customer's prices from ``starts`` to ``ends`` (both days included). An owner
# ending it early moves ``ends`` and says who and when. A request for one deal has no row.
contract_terms = Table(
    "contract_terms",
    metadata,
    Column("request_id", Integer, ForeignKey("requests.id"), primary_key=True),
    Column("starts", Date, nullable=False),
    Column("ends", Date, nullable=False),
    Column("ended_at", Timestamp),
    Column("ended_by", String(200)),
)

# An approval a new request kept (since 0017): the earlier request of the same rep and customer
# whose approval by a person covers every line of ``request_id`` (its units not used by another).
approval_reuses = Table(
    "approval_reuses",
    metadata,
    Column("request_id", Integer, ForeignKey("requests.id"), primary_key=True),
    Column("approval_id", Integer, ForeignKey("requests.id"), nullable=False),
    Index("ix_approval_reuses_approval", "approval_id"),
)
