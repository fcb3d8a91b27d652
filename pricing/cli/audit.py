"""``pricing audit verify``: is the audit log of requests intact?"""

from __future__ import annotations

import click

from pricing.cli.common import emit_json, json_option, settings


@click.group()
def audit() -> None:
    """Check that the audit log of requests was not edited behind the tool's back."""


@audit.command(
    "verify",
    epilog="""
\b
Examples:
  pricing audit verify
  pricing audit verify --json
""",
)
@json_option
def verify() -> None:
    """Walk the hash chain of every request event; exit 1 naming the first event where it breaks."""
    from pricing import api, documents

    cfg = settings()
    verdict = api.verify_audit(cfg.store())
    if cfg.json:
        emit_json(documents.audit(verdict))
    elif verdict.intact:
        click.echo(
            f"The audit log is intact: {verdict.events:,} events, each chained to the one before."
        )
    if not verdict.intact:
        assert verdict.broken is not None
        b = verdict.broken
        click.echo(
            f"error: the audit log is broken at event {b['event']} ({b['request']}, {b['action']} by "
            f"{b['by']}): {b['why']}",
            err=True,
        )
        click.get_current_context().exit(1)
