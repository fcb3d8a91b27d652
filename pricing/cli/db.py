"""``pricing db …``: where the database is, its schema version, upgrading and checking it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from pricing.cli.common import emit_json, json_option, print_table, progress, say, settings

if TYPE_CHECKING:
    from pricing.results.store import DbCheck, DbStatus


@click.group()
def db() -> None:
    """Where the database is, its schema version, upgrading and checking it."""


@db.command(
    "status",
    epilog="""
\b
Examples:
  pricing db status
  pricing --db postgresql://pricing@db.example/pricing db status --json
""",
)
@json_option
def status() -> None:
    """Say where the database is, its schema version and what it holds (changes nothing)."""
    cfg = settings()
    status = cfg.pricing().db_status()
    if cfg.json:
        emit_json(status)
    else:
        _echo_status(status)


def _echo_status(status: DbStatus) -> None:
    revision = status.schema_revision
    rows = [
        ("Database", status.url),
        ("Engine", status.dialect),
        (
            "Schema revision",
            f"{revision or '(none)'} (this version of pricing: {status.latest_revision})",
        ),
        ("State", status.state),
        *((name.replace("_", " ").capitalize(), f"{n:,}") for name, n in status.counts.items()),
    ]
    mail = status.outbox
    if mail is not None:
        oldest = (
            f", the oldest from {mail.oldest_waiting:%Y-%m-%d %H:%M} UTC"
            if mail.oldest_waiting
            else ""
        )
        rows.append(("Mail waiting", f"{mail.waiting:,}{oldest}"))
        if mail.failing:
            rows.append(("Mail the mail server has not taken",
                         f"{mail.failing:,} (tried again, up to hourly): {mail.last_error}"))  # fmt: skip
        rows.append(("Mail sent", f"{mail.sent:,}"))
        if mail.unsent:
            rows.append(
                ("Mail left unsent", f"{mail.unsent:,} (no longer needed, or not the server's)")
            )
    print_table(["What", "Value"], rows)


@db.command(
    "upgrade",
    epilog="""
\b
Examples:
  pricing db upgrade
  PRICING_DATABASE_URL=postgresql://pricing@db.example/pricing pricing db upgrade
""",
)
@json_option
def upgrade() -> None:
    """Apply the schema migrations this version of pricing needs (safe to run any time)."""
    cfg = settings()
    upgraded = cfg.pricing().db_upgrade()
    if cfg.json:
        emit_json(upgraded)
    elif not upgraded.changed:
        say(f"Already at schema revision {upgraded.to}; nothing to do.")
    else:
        say(f"Upgraded the schema from {upgraded.from_ or '(empty)'} to {upgraded.to}.")


@db.command(
    "check",
    epilog="""
\b
Examples:
  pricing db check
  pricing db check --json
""",
)
@json_option
def check() -> None:
    """Verify the store: exit 1 naming each damaged thing and how to recover.

    Every deal-data segment must decode and hold what was stored (its seal, its line count, its
    dates), each edition the items recorded at its import, each policy version the text and
    rules it was loaded with, and every request, policy, edition, person and deals import the
    content its newest audit entry recorded. Nothing is changed. The owner's command (through
    the server in client mode); an SQLite file every local user may read is a warning.
    """
    cfg = settings()
    with progress("Checking the deal data") as update:
        checked = cfg.pricing(progress=update).db_check()
    if cfg.json:
        emit_json(checked)
    else:
        _echo_check(checked)
    if not checked.sound:
        click.get_current_context().exit(1)


def _echo_check(checked: DbCheck) -> None:
    n = checked.checked
    audit = (
        f"; {_count(n.audited_subjects, 'record')} (requests, editions, policies, people, "
        "imports) match what the audit recorded of them"
        if checked.audit_started
        else " (the audit holds no entry)"
    )
    say(
        f"Checked the deal history ({n.deal_lines:,} lines, stored in "
        f"{_count(n.segments, 'block')}), {_count(n.editions, 'price book edition')} and "
        f"{_count(n.policies, 'policy version')}{audit}."
    )
    damaged = 0
    for finding in checked.findings:
        word = "error" if finding.severity == "damage" else "warning"
        damaged += word == "error"
        say(f"{word}: {finding.what}: {finding.problem}", err=True)
        say(f"  to recover: {finding.recover}", err=True)
    if damaged:
        say(f"The store is damaged: {_count(damaged, 'finding')} above.", err=True)
    else:
        say("The store is sound.")


def _count(n: int, one: str) -> str:
    return f"{n:,} {one if n == 1 else one + 's'}"
