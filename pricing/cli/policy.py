"""``pricing policy …``: the owner's guardrails."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from pricing.cli.common import (
    date_option,
    echo_found_problems,
    emit_json,
    exit_with,
    json_option,
    money,
    output_option,
    print_table,
    say,
    settings,
)

if TYPE_CHECKING:
    from pricing.results.policy import PolicyRefused
    from pricing.results.simulation import ClassTotals, PolicySimulation

NOT_JUDGED = "not_judged"  # the class of lines no policy judges (pricing.analysis.simulate)


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
    cfg = settings()
    from pricing.results.policy import ValidPolicy

    checked = cfg.pricing().check_policy(file=file)
    if not isinstance(checked, ValidPolicy):
        refuse_invalid(checked, file, "nothing was loaded")
    if cfg.json:
        emit_json(checked)
        return
    say(
        f"{file.name} is valid: {checked.levels} levels, {checked.rules} rules, "
        f"{checked.people} people."
    )


def refuse_invalid(refused: PolicyRefused, file: Path, consequence: str) -> NoReturn:
    """Every problem of an invalid policy file (line and key), then exit 2 with the refusal."""
    if not settings().json:
        echo_found_problems(refused.problems, refused.problem_counts)
    exit_with(
        click.get_current_context(),
        f"{file.name}: {refused.found():,} problem(s); {consequence}",
        document=refused,
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
    """Store a policy file as the policy in force; every load is kept as a new version
    (loading the newest version's file again stores nothing and says so).

    It is in force from its `effective_from` (default: today). Requests record the version
    they were judged under.
    """
    cfg = settings()
    from pricing.results.policy import PolicyLoadRefused

    loaded = cfg.pricing().load_policy(file=file)
    if isinstance(loaded, PolicyLoadRefused):
        refuse_invalid(loaded, file, "nothing was loaded")
    if cfg.json:
        emit_json(loaded)
        return
    if loaded.unchanged:
        say(
            f"Policy unchanged: {file.name} is already version {loaded.version} (loaded "
            f"{loaded.loaded_at:%Y-%m-%d %H:%M} by {loaded.loaded_by}), in force "
            f"from {loaded.effective_from}; nothing was stored."
        )
    else:
        say(
            f"Loaded policy version {loaded.version} from {loaded.source}, in force from "
            f"{loaded.effective_from}."
        )
    for warning in loaded.warnings:
        say(f"Warning: {warning}.")


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
    cfg = settings()
    version = cfg.pricing().policy(version=number)
    if cfg.json:
        emit_json(version)
        return
    policy = version.policy.as_policy()  # the policy as it was stored
    say(
        f"Policy version {version.version} from {version.source}, in force from "
        f"{version.effective_from} (loaded by {version.loaded_by}). Currency "
        f"{policy.currency}; approvals valid {policy.approval_valid_days} days; rounding "
        f"{policy.rounding.replace('_', '-')}; contracts of at most {policy.contract_days} days"
        + (f", each needing {policy.contract_level} or above" if policy.contract_level else "")
        + f"; exchange rates old after {policy.fx_max_age} days."
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
                    money(str(rule.floor_price)) if rule.floor_price is not None else "",
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
    a line no policy judges is `not_judged` (now: none in force on its date; under FILE: before
    its effective_from, or today when it names none). Returns, stock adjustments (negative
    quantity at price 0) and unmatched lines are left out and counted. Shows lines and special
    discount per class, approver workload per level (requests a week),
    what is out of policy under each (as the report counts it: needs an approval no approved
    request covers, or below a hard floor), the discount some level may approve and the discount
    none may (rejected), and the deals that change class.
    """
    cfg = settings()
    simulated = cfg.pricing().simulate(
        file=file,
        output=output,
        start=start.date() if start else None,
        end=end.date() if end else None,
    )
    from pricing.results.policy import PolicyRefused

    if isinstance(simulated, PolicyRefused):
        refuse_invalid(simulated, file, "nothing was simulated")
    if cfg.json:
        emit_json(simulated)
        return
    _print_simulation(simulated, file.name)
    if output is not None:
        say(f"Wrote {output}.")


def _print_simulation(simulated: PolicySimulation, file_name: str) -> None:
    """The simulation as tables: classes, approver workload, inside/outside, changed lines."""
    unmatched, unjudged = simulated.unmatched_lines, simulated.unjudged_lines
    returns, adjustments = simulated.returns_lines, simulated.stock_adjustment_lines
    left_out = [
        f"{count:,} {what}"
        for count, what in (
            (unmatched, "unmatched (no list price on their dates)"),
            (returns, f"return{_s(returns)} (never judged against a policy)"),
            (adjustments, f"stock adjustment{_s(adjustments)} (negative quantity at price 0)"),
        )
        if count
    ]
    period = (
        f" from {simulated.start} to {simulated.to}" if simulated.start and simulated.to else ""
    )
    say(
        f"{simulated.lines:,} deal lines{period} compared "
        f"under the policy in force and under {file_name}"
        + (f"; lines left out: {', '.join(left_out)}" if left_out else "")
        + "."
    )
    if unjudged:
        not_judged = simulated.proposed.get(NOT_JUDGED)
        still = not_judged.lines if not_judged else 0
        say(
            f"{unjudged:,} of them have no policy in force on their dates: they are compared "
            f'as "{NOT_JUDGED}" now'
            + (
                f"; {still:,} are before {file_name}'s effective_from (today when it names "
                "none) and stay not judged under it: set an earlier effective_from to judge "
                "them."
                if still
                else f", and {file_name} judges them all."
            )
        )
    _print_classes(simulated, file_name)
    _print_workload(simulated, file_name)
    oop, discount = simulated.out_of_policy, simulated.special_discount
    say(
        "Out of policy (as the report counts it: needs an approval no approved request covers, "
        "or below a hard floor): "
        + "; ".join(
            f"{label} {money(out.amount)} in {out.lines:,} lines"
            for label, out in (("now", oop.current), (file_name, oop.proposed))
        )
        + "."
    )
    say(
        "Special discount some level may approve / no level may approve (rejected): "
        + "; ".join(
            f"{label} {money(special.inside)} / {money(special.outside)}"
            for label, special in (("now", discount.current), (file_name, discount.proposed))
        )
        + "."
    )
    changed = simulated.changed
    say(f"{len(changed):,} lines change class" + (":" if changed else "."))
    if changed:
        print_table(
            ["Deal", "Line", "SKU", "Now", file_name],
            [(c.deal, c.line, c.sku, c.current, c.proposed) for c in changed[:20]],
        )
        if len(changed) > 20:
            say(f"... and {len(changed) - 20:,} more (all of them: --json or -o)")


def _print_classes(simulated: PolicySimulation, file_name: str) -> None:
    """Lines and special discount per class, now and under the proposed policy."""
    from decimal import Decimal

    from pricing.money import display_money

    def lines(totals: ClassTotals | None) -> str:
        return f"{totals.lines if totals else 0:,}"

    def discount(totals: ClassTotals | None) -> str:
        amount = totals.special_discount if totals else Decimal(0)
        return display_money(amount, simulated.currency)

    now, proposed = simulated.current, simulated.proposed
    classes = sorted(set(now) | set(proposed), key=_class_order)
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
                lines(now.get(name)),
                discount(now.get(name)),
                lines(proposed.get(name)),
                discount(proposed.get(name)),
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


def _print_workload(simulated: PolicySimulation, file_name: str) -> None:
    now, proposed = simulated.workload.current, simulated.workload.proposed
    levels = sorted(set(now) | set(proposed))
    if levels:
        print_table(
            ["Approver level", "Now: requests/week", f"{file_name}: requests/week"],
            [(lv, now.get(lv, "0.00"), proposed.get(lv, "0.00")) for lv in levels],
            right=["Now: requests/week", f"{file_name}: requests/week"],
        )


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def _class_order(name: str) -> tuple[int, str]:
    rank = {"approved": 0, "rejected": 2, NOT_JUDGED: 3}
    return (rank.get(name, 1), name)
