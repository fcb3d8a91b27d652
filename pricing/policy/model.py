"""The owner's guardrails and the rules engine that holds special prices to them.

A :class:`Policy` says who may grant which discount (levels and limits), narrower scopes
(rules, the most specific one setting the limits), the floors nobody may go below, and the team.
Policies are written as TOML and validated by :mod:`pricing.policy.file`; here they are plain
data, cheap to restore on every request. Judging a special price is a list of plain check
functions (:data:`CHECKS`), each returning findings; :func:`judge` combines them into the
decision, the lowest level that may approve, and reasons a person can read.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any, Literal

from pricing.money import format_pct, quantum

Decision = Literal["approved", "pending", "rejected"]
_GLOB = re.compile(r"[*?\[]")


@dataclass(frozen=True)
class Rule:
    """A narrower scope: its conditions all must match a line for its limits and floors to apply."""

    name: str | None = None
    sku: str | None = None
    family: str | None = None
    min_qty: int | None = None
    max_qty: int | None = None
    min_deal_value: Decimal | None = None
    max_deal_value: Decimal | None = None
    limits: dict[str, Decimal] = field(default_factory=dict)
    floor_price: Decimal | None = None
    min_margin_pct: Decimal | None = None

    @property
    def specificity(self) -> int:
        """4 exact SKU, 3 SKU pattern, 2 family, 1 quantity or deal-size only."""
        if self.sku is not None:
            return 3 if _GLOB.search(self.sku) else 4
        if self.family is not None:
            return 2
        return 1

    def describe(self) -> str:
        if self.name:
            return self.name
        parts = []
        if self.sku is not None:
            parts.append(f"SKU {self.sku}")
        if self.family is not None:
            parts.append(self.family)
        if self.min_qty is not None or self.max_qty is not None:
            parts.append(_band("qty", self.min_qty, self.max_qty))
        if self.min_deal_value is not None or self.max_deal_value is not None:
            parts.append(_band("deal value", self.min_deal_value, self.max_deal_value))
        return ", ".join(parts)

    def matches(self, line: LineFacts) -> bool:
        if self.sku is not None:
            if self.specificity == 4:
                if self.sku.strip().casefold() != line.sku.strip().casefold():
                    return False
            elif not fnmatch.fnmatchcase(line.sku.casefold(), self.sku.casefold()):
                return False
        if self.family is not None and (line.family or "").casefold() != self.family.casefold():
            return False
        if self.min_qty is not None and line.qty < self.min_qty:
            return False
        if self.max_qty is not None and line.qty > self.max_qty:
            return False
        if self.min_deal_value is not None and line.deal_value < self.min_deal_value:
            return False
        return not (self.max_deal_value is not None and line.deal_value > self.max_deal_value)


@dataclass(frozen=True)
class Person:
    name: str
    role: str


@dataclass(frozen=True)
class Policy:
    """The guardrails in force: levels and their limits, narrower rules, floors, the team."""

    levels: list[str]
    limits: dict[str, Decimal]
    currency: str = "USD"
    approval_valid_days: int = 30
    rounding: Literal["half_even", "half_up"] = "half_even"
    effective_from: date | None = None
    rule: list[Rule] = field(default_factory=list)
    person: list[Person] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (amounts as strings): what the store keeps and --json shows."""
        plain: dict[str, Any] = _plain(self)
        return plain

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Policy:
        """Restore a policy saved by :meth:`to_dict` (it was validated when it was loaded)."""

        def amounts(values: dict[str, str]) -> dict[str, Decimal]:
            return {k: Decimal(v) for k, v in values.items()}

        def amount(value: str | None) -> Decimal | None:
            return None if value is None else Decimal(value)

        return cls(
            levels=list(data["levels"]),
            limits=amounts(data["limits"]),
            currency=data["currency"],
            approval_valid_days=data["approval_valid_days"],
            rounding=data["rounding"],
            effective_from=date.fromisoformat(data["effective_from"])
            if data["effective_from"]
            else None,
            rule=[
                Rule(
                    name=r["name"],
                    sku=r["sku"],
                    family=r["family"],
                    min_qty=r["min_qty"],
                    max_qty=r["max_qty"],
                    min_deal_value=amount(r["min_deal_value"]),
                    max_deal_value=amount(r["max_deal_value"]),
                    limits=amounts(r["limits"]),
                    floor_price=amount(r["floor_price"]),
                    min_margin_pct=amount(r["min_margin_pct"]),
                )
                for r in data["rule"]
            ],
            person=[Person(p["name"], p["role"]) for p in data["person"]],
        )

    # The team ---------------------------------------------------------------------------

    def role_of(self, user: str) -> str | None:
        for person in self.person:
            if person.name.casefold() == user.casefold():
                return person.role
        return None

    def rank(self, level: str) -> int:
        return self.levels.index(level)

    def covers(self, role: str | None, level: str) -> bool:
        return role is not None and self.rank(role) >= self.rank(level)

    def round_price(self, amount: Decimal) -> Decimal:
        mode = ROUND_HALF_EVEN if self.rounding == "half_even" else ROUND_HALF_UP
        return amount.quantize(quantum(self.currency), rounding=mode)

    # Scopes -------------------------------------------------------------------------------

    def matching_rules(self, line: LineFacts) -> list[Rule]:
        """Rules that apply to a line, most specific first (file order breaks full ties)."""
        found = [(i, r) for i, r in enumerate(self.rule) if r.matches(line)]
        found.sort(
            key=lambda ir: (
                -ir[1].specificity,
                -(ir[1].min_qty or 0),
                -(ir[1].min_deal_value or 0),
                ir[0],
            )
        )
        return [rule for _, rule in found]

    def limits_for(self, line: LineFacts) -> list[tuple[str, Decimal, str]]:
        """Each level's limit for this line and the scope it came from, lowest level first."""
        rules = self.matching_rules(line)
        result = []
        for level in self.levels:
            for rule in rules:
                if level in rule.limits:
                    result.append((level, rule.limits[level], rule.describe()))
                    break
            else:
                result.append((level, self.limits[level], "default limits"))
        return result


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {name: _plain(getattr(value, name)) for name in value.__dataclass_fields__}
    return value


def _band(label: str, low: object, high: object) -> str:
    if low is not None and high is not None:
        return f"{label} {low}-{high}"
    return f"{label} >= {low}" if low is not None else f"{label} <= {high}"


# Judging a line -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LineFacts:
    """What the guardrails look at for one deal line."""

    sku: str
    family: str | None
    qty: int | Decimal
    list_price: Decimal
    standard_price: Decimal
    currency: str
    unit_cost: Decimal | None = None
    item_floor: Decimal | None = None
    deal_value: Decimal = Decimal(0)


@dataclass(frozen=True)
class Finding:
    """One check's verdict: reject the line, or require at least ``level``."""

    reason: str
    reject: bool = False
    level: str | None = None


@dataclass
class LineDecision:
    decision: Decision
    level: str | None
    discount_pct: Decimal
    reasons: list[str] = field(default_factory=list)
    hard_floor: Decimal | None = None


def discount_pct(standard: Decimal, price: Decimal) -> Decimal:
    """Exact discount from the standard price, in percent."""
    return (standard - price) / standard * 100


def hard_floor(policy: Policy, line: LineFacts) -> tuple[Decimal | None, list[str], list[str]]:
    """The highest floor that applies, where each comes from, and floors that cannot be checked."""
    floors: list[tuple[Decimal, str]] = []
    unknown: list[str] = []
    if line.item_floor is not None:
        floors.append((line.item_floor, f"the price book's floor price {line.item_floor}"))
    for rule in policy.matching_rules(line):
        if rule.floor_price is not None:
            if line.currency != policy.currency:
                unknown.append(
                    f"{rule.describe()}: floor price {rule.floor_price} {policy.currency} cannot be "
                    f"checked against a price in {line.currency}"
                )
            else:
                floors.append(
                    (rule.floor_price, f"{rule.describe()}: floor price {rule.floor_price}")
                )
        if rule.min_margin_pct is not None:
            if line.unit_cost is None:
                unknown.append(
                    f"{rule.describe()}: minimum margin {format_pct(rule.min_margin_pct)}% cannot be "
                    f"checked: SKU {line.sku} has no unit cost in the price book"
                )
                continue
            floor = (line.unit_cost / (1 - rule.min_margin_pct / 100)).quantize(
                quantum(line.currency), rounding=ROUND_CEILING
            )
            floors.append(
                (floor, f"{rule.describe()}: minimum margin {format_pct(rule.min_margin_pct)}% over "
                        f"unit cost {line.unit_cost} needs at least {floor}")
            )  # fmt: skip
    if not floors:
        return None, [], unknown
    highest = max(amount for amount, _ in floors)
    return highest, [why for amount, why in floors if amount == highest], unknown


def check_hard_floors(policy: Policy, line: LineFacts, price: Decimal) -> list[Finding]:
    """Below a hard floor nobody may approve; a floor that cannot be checked goes to the top."""
    floor, sources, unknown = hard_floor(policy, line)
    findings = [Finding(reason, level=policy.levels[-1]) for reason in unknown]
    if floor is not None and price < floor:
        findings.append(
            Finding(f"below the hard floor {floor} ({'; '.join(sources)})", reject=True)
        )
    return findings


def check_discount_limits(policy: Policy, line: LineFacts, price: Decimal) -> list[Finding]:
    """The lowest level whose limit covers the discount (a limit is inclusive)."""
    pct = discount_pct(line.standard_price, price)
    if pct <= 0:
        return [Finding("at or above the standard price: no discount to approve")]
    limits = policy.limits_for(line)
    summary = describe_limits(limits)
    for level, limit, _ in limits:
        if pct <= limit:
            return [Finding(summary, level=level)]
    return [
        Finding(
            f"{summary}; {format_pct(pct)}% is beyond the top level ({limits[-1][0]})", reject=True
        )
    ]


def describe_limits(limits: list[tuple[str, Decimal, str]]) -> str:
    """``Hardware: rep may grant up to 10.00%, manager up to 20.00%`` (each scope named)."""
    scopes = {scope for _, _, scope in limits}
    parts = [
        f"{level} {'may grant ' if i == 0 else ''}up to {format_pct(limit)}%"
        + ("" if len(scopes) == 1 else f" ({scope})")
        for i, (level, limit, scope) in enumerate(limits)
    ]
    text = ", ".join(parts)
    return f"{limits[0][2]}: {text}" if len(scopes) == 1 else text


Check = Callable[[Policy, LineFacts, Decimal], list[Finding]]
CHECKS: list[Check] = [check_hard_floors, check_discount_limits]


def judge(policy: Policy, line: LineFacts, price: Decimal) -> LineDecision:
    """The decision for one special price: approved, pending at a level, or rejected."""
    findings = [finding for check in CHECKS for finding in check(policy, line, price)]
    pct = discount_pct(line.standard_price, price)
    floor, _, _ = hard_floor(policy, line)
    reasons = [f.reason for f in findings]
    if any(f.reject for f in findings):
        return LineDecision("rejected", None, pct, reasons, floor)
    needed = [policy.rank(f.level) for f in findings if f.level is not None]
    rank = max(needed, default=0)
    if rank == 0:
        return LineDecision("approved", None, pct, reasons, floor)
    return LineDecision("pending", policy.levels[rank], pct, reasons, floor)


def lowest_prices(policy: Policy, line: LineFacts) -> list[tuple[str, Decimal, Decimal]]:
    """For each level: its limit and the lowest price it may grant (never below the hard floor)."""
    floor, _, _ = hard_floor(policy, line)
    result = []
    for level, limit, _ in policy.limits_for(line):
        lowest = (line.standard_price * (100 - limit) / 100).quantize(
            quantum(line.currency), rounding=ROUND_CEILING
        )
        if floor is not None and lowest < floor:
            lowest = floor
        result.append((level, limit, lowest))
    return result
