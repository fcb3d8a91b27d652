"""``pricing audit verify`` and ``audit head``: has anything changed behind the tool's back?"""

from __future__ import annotations

import click

from pricing.cli.common import emit_json, json_option, say, settings


@click.group()
def audit() -> None:
    """Check that nothing stored was changed behind the tool's back (the keyed audit chain)."""


@audit.command(
    "verify",
    epilog="""
\b
Examples:
  pricing audit verify
  pricing audit verify --head 412:5be1…   (a head you kept from `pricing audit head`)
  pricing audit verify --json
""",
)
@click.option(
    "--head",
    "kept",
    metavar="SEQ:MAC",
    help="A head you kept (from `pricing audit head`): also find entries cut from the end.",
)
@json_option
def verify(kept: str | None) -> None:
    """Check every entry's MAC and every request, policy, edition, person and deals import
    against the chain; exit 1 naming each place that was changed behind the tool's back."""
    cfg = settings()
    verdict = cfg.pricing().audit_verify(kept=kept)
    if cfg.json:
        emit_json(verdict)
    elif verdict.intact and not verdict.started:
        say(
            "Nothing has been recorded in the audit yet: it starts with the next change"
            + (
                f" (a baseline of the {_count(verdict.subjects, 'thing', 'things')} stored "
                "before the keyed audit was installed)."
                if verdict.subjects
                else "."
            )
        )
    elif verdict.intact:
        say(
            f"The audit is intact: {_count(verdict.entries, 'entry', 'entries')}, each keyed and "
            f"chained to the one before; {_count(verdict.subjects, 'stored subject', 'stored subjects')} "
            f"match what it recorded. Head: {verdict.head}"
        )
        witnessed = verdict.witnessed
        say(
            f"Its witness ({verdict.witness}) recorded entry {witnessed.split(':')[0]}, "
            "which the chain still holds."
            if witnessed
            else f"Its witness ({verdict.witness}) holds nothing of this store yet."
        )
    if verdict.earlier_stores and not cfg.json:
        say(
            f"(Its witness also holds the heads of "
            f"{_count(verdict.earlier_stores, 'earlier database', 'earlier databases')} at "
            "this address, recreated since: not compared with this one.)"
        )
    if not verdict.intact:
        for damage in verdict.damage:
            say(f"error: {damage.where}: {damage.why}", err=True)
        if verdict.keyed_elsewhere:
            say(
                "Every entry is keyed with a secret this configuration does not hold: verify "
                "with the server's configuration (PRICING_CONFIG), or the whole chain was "
                "re-keyed by someone without the secret.",
                err=True,
            )
        else:
            say(
                f"The audit found {len(verdict.damage)} change(s) made behind the tool's back.",
                err=True,
            )
        click.get_current_context().exit(1)


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


@audit.command(
    "head",
    epilog="""
\b
Examples:
  pricing audit head            (keep what it prints somewhere the database is not)
  pricing audit head --json
""",
)
@json_option
def head() -> None:
    """The audit chain's newest entry (SEQ:MAC): keep it elsewhere, verify against it later."""
    cfg = settings()
    found = cfg.pricing().audit_head()
    if cfg.json:
        emit_json(found)
    elif found.head is None:
        say("The audit is empty: nothing has been recorded yet.")
    else:
        say(found.head)
