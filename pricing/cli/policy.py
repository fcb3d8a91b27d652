"""``pricing policy …``: the owner's guardrails."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from pricing.cli.common import (
    date_option,
    echo_problems,
    emit_json,
    exit_with,
    json_option,
    output_option,
    print_table,
    settings,
)

if TYPE_CHECKING:
    from pricing.analysis.simulate import Simulation
    from pricing.policy.file import PolicyFile


@click.group()
def policy() -> None:
    """Write, check, load and read the guardrails every special price is held to."""


@policy.command(
    "check",
    epilog="""
\b
Examples:
  pricing policy check guardrails.toml
  pricing policy check guardrails.toml --json
""",
)
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@json_option
def check(file: Path) -> None:
    """Validate a policy file without storing it; every problem names its line and key (exit 2)."""
    from pricing import api, documents

    cfg = settings()
    parsed = api.check_policy(file)
    document = documents.policy_check(parsed)
    if parsed.policy is None:
        refuse_invalid(parsed, "nothing was loaded", document)
    if cfg.json:
        emit_json(document)
        return
    counts = documents.policy_counts(parsed.policy)
    click.echo(
        f"{file.name} is valid: {counts['levels']} levels, {counts['rules']} rules, "
        f"{counts['people']} people."
    )


def refuse_invalid(parsed: PolicyFile, consequence: str, document: dict[str, Any]) -> NoReturn:
    """Every problem of an invalid policy file (line and key), then exit 2."""
    from pricing import documents

    if not settings().json:
        echo_problems(parsed.problems)
    exit_with(
        click.get_current_context(),
        f"{parsed.source}: {len(parsed.problems)} problem(s); {consequence}",
        document=documents.policy_refused(parsed, document),
    )


@policy.command(
    "load",
    epilog="""
\b
Examples:
  pricing policy load guardrails.toml
  pricing --user dana policy load guardrails.toml --json
""",
)
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@json_option
def load(file: Path) -> None:
    """Store a policy file as the policy in force; every load is kept as a new version.

    It is in force from its `effective_from` (default: today). Requests record the version
    they were judged under.
    """
    from pricing import api, documents

    cfg = settings()
    parsed = api.check_policy(file)
    if parsed.policy is None:
        refuse_invalid(parsed, "nothing was loaded", {"version": None})
    version = api.load_policy(cfg.store(create=True), parsed, user=cfg.acting_user())
    if cfg.json:
        emit_json(documents.policy_version(version))
        return
    click.echo(
        f"Loaded policy version {version.version} from {version.source}, in force from "
        f"{version.effective_from.isoformat()}."
    )


@policy.command(
    "show",
    epilog="""
\b
Examples:
  pricing policy show
  pricing policy show --version 1 --json
""",
)
@click.option(
    "--version", "number", type=int, help="Show this version instead of the one in force."
)
@json_option
def show(number: int | None) -> None:
    """Print the policy in force as tables: levels and limits, rules, floors and the team."""
    from pricing import api, documents

    cfg = settings()
    version = api.show_policy(cfg.store(), number)
    policy = version.policy
    if cfg.json:
        emit_json(documents.policy(version))
        return
    click.echo(
        f"Policy version {version.version} from {version.source}, in force from "
        f"{version.effective_from.isoformat()} (loaded by {version.loaded_by}). Currency "
        f"{policy.currency}; approvals valid {policy.approval_valid_days} days; rounding "
        f"{policy.rounding.replace('_', '-')}."
    )
    print_table(
        ["Level", "Max discount %", "People"],
        [
            (
                level,
                f"{policy.limits[level]:.2f}",
                ", ".join(p.name for p in policy.person if p.role == level),
            )
            for level in policy.levels
        ],
        title="Approval levels (lowest authority first) and default limits",
        right=["Max discount %"],
    )
    if policy.rule:
        print_table(
            ["#", "Scope", *policy.levels, "Floor price", "Min margin %"],
            [
                (
                    i + 1,
                    rule.describe(),
                    *(
                        f"{rule.limits[lv]:.2f}" if lv in rule.limits else ""
                        for lv in policy.levels
                    ),
                    rule.floor_price,
                    f"{rule.min_margin_pct:.2f}" if rule.min_margin_pct is not None else "",
                )
                for i, rule in enumerate(policy.rule)
            ],
            title="Rules (the most specific matching rule sets the limits; every floor applies)",
            right=[*policy.levels, "Floor price", "Min margin %"],
        )


@policy.command(
    "simulate",
    epilog="""
\b
Examples:
  pricing policy simulate guardrails-2027.toml
  pricing policy simulate stricter.toml --from 2026-01-01 --to 2026-06-30 --json
  pricing policy simulate stricter.toml -o what-if.xlsx
""",
)
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@date_option("--from", "start", help="First deal date replayed (default: the first deal).")
@date_option("--to", "end", help="Last deal date replayed (default: the last deal).")
@output_option("Also write the comparison: .xlsx, .html, .csv or .json.")
@json_option
def simulate(file: Path, start: datetime | None, end: datetime | None, output: Path | None) -> None:
    """What-if: replay the stored deals under the policy in force and under FILE, side by side.

    Each line gets the class `request --check` would give it (approved, pending:<level>, rejected);
    shows lines and special discount per class, approver workload per level (requests a week),
    the discount given inside and outside each policy, and the deals that change class.
    """
    from pricing import api, documents

    cfg = settings()
    parsed = api.check_policy(file)
    if parsed.policy is None:
        refuse_invalid(parsed, "nothing was simulated", {})
    result = api.simulate_policy(
        cfg.store(),
        parsed.policy,
        start=start.date() if start else None,
        end=end.date() if end else None,
    )
    currency = parsed.policy.currency
    document = documents.simulation(result, currency)
    if output is not None:
        api.write_simulation(result, output, currency=currency, document=document)
    if cfg.json:
        emit_json(document)
        return
    _print_simulation(result, document, file.name)
    if output is not None:
        click.echo(f"Wrote {output}.")


def _print_simulation(result: Simulation, document: dict[str, Any], file_name: str) -> None:
    """The simulation as tables: classes, approver workload, inside/outside, changed lines."""
    click.echo(
        f"{result.lines:,} deal lines from {document['from']} to {document['to']} judged under the "
        f"policy in force and under {file_name}"
        + (
            f" ({result.not_judged:,} unmatched or unjudged lines left out)"
            if result.not_judged
            else ""
        )
        + "."
    )
    _print_classes(document, file_name)
    _print_workload(document, file_name)
    from pricing.money import display_money

    sides = {"now": result.current, file_name: result.proposed}
    click.echo(
        "Special discount inside / outside policy: "
        + "; ".join(
            f"{label} {display_money(side.inside, document['currency'])} / "
            f"{display_money(side.outside, document['currency'])}"
            for label, side in sides.items()
        )
        + "."
    )
    click.echo(f"{len(result.changed):,} lines change class" + (":" if result.changed else "."))
    if result.changed:
        print_table(
            ["Deal", "Line", "SKU", "Now", file_name],
            [
                (c["deal"], c["line"], c["sku"], c["current"], c["proposed"])
                for c in result.changed[:20]
            ],
        )
        if len(result.changed) > 20:
            click.echo(f"... and {len(result.changed) - 20:,} more (all of them: --json or -o)")


def _print_classes(document: dict[str, Any], file_name: str) -> None:
    """Lines and special discount per class, now and under the proposed policy."""
    from decimal import Decimal

    from pricing.money import display_money

    def money(side: str, name: str) -> str:
        amount = document[side].get(name, {}).get("special_discount", "0")
        return display_money(Decimal(amount), document["currency"])

    classes = sorted(set(document["current"]) | set(document["proposed"]), key=_class_order)
    print_table(
        [
            "Class",
            "Now: lines",
            "Now: special discount",
            f"{file_name}: lines",
            f"{file_name}: special discount",
        ],
        [
            (
                name,
                f"{document['current'].get(name, {}).get('lines', 0):,}",
                money("current", name),
                f"{document['proposed'].get(name, {}).get('lines', 0):,}",
                money("proposed", name),
            )
            for name in classes
        ],
        right=[
            "Now: lines",
            "Now: special discount",
            f"{file_name}: lines",
            f"{file_name}: special discount",
        ],
    )


def _print_workload(document: dict[str, Any], file_name: str) -> None:
    levels = sorted(set(document["workload"]["current"]) | set(document["workload"]["proposed"]))
    if levels:
        print_table(
            ["Approver level", "Now: requests/week", f"{file_name}: requests/week"],
            [
                (
                    lv,
                    document["workload"]["current"].get(lv, "0.00"),
                    document["workload"]["proposed"].get(lv, "0.00"),
                )
                for lv in levels
            ],
            right=["Now: requests/week", f"{file_name}: requests/week"],
        )


def _class_order(name: str) -> tuple[int, str]:
    return (0 if name == "approved" else 2 if name == "rejected" else 1, name)
