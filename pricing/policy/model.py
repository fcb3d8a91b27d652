"""The owner's guardrails as data, and what judging a line takes in and gives back.

A :class:`Policy` says who may grant which discount (levels and limits), narrower scopes
(rules, the most specific one setting the limits), the floors nobody may go below, and the team.
Policies are written as TOML and validated by :mod:`pricing.policy.file`; here they are plain
data, cheap to restore on every request. The checks are in :mod:`pricing.policy.checks`; the
engine that runs them, for one line or a million, in :mod:`pricing.policy.engine`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import Any, Literal

from pricing.money import quantum
from pricing.policy import Decision

_GLOB = re.compile(r"[*?\[]")


CONTRACT_DAYS = 366  # a contract's longest period when the policy does not say (a leap year)
FX_MAX_AGE_DAYS = 7  # an exchange rate older than this is said to be old, unless the policy says


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
    # Contracted prices: the longest period one may run (None: CONTRACT_DAYS), and the level
    # every contract needs at least (None: its lines' own levels, as any request).
    contract_max_days: int | None = None
    contract_level: str | None = None
    # Exchange rates: a rate published more than this many days before the day it is used for
    # is said to be old (None: FX_MAX_AGE_DAYS).
    fx_max_age_days: int | None = None

    @property
    def contract_days(self) -> int:
        return self.contract_max_days or CONTRACT_DAYS

    @property
    def fx_max_age(self) -> int:
        return FX_MAX_AGE_DAYS if self.fx_max_age_days is None else self.fx_max_age_days

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (amounts as strings): what the store keeps and --json shows
        (the contract settings only when set: a policy stored before them reads the same)."""
        plain: dict[str, Any] = _plain(self)
        for name in ("contract_max_days", "contract_level", "fx_max_age_days"):
            if plain[name] is None:
                del plain[name]
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
            contract_max_days=data.get("contract_max_days"),
            contract_level=data.get("contract_level"),
            fx_max_age_days=data.get("fx_max_age_days"),
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

    def rule_order(self) -> list[int]:
        """The rules' positions, most specific first (file order breaks full ties): a level's
        limit comes from the first rule in this order that covers the line and names the level."""
        return list(self.scope_order)

    @cached_property
    def scope_order(self) -> tuple[int, ...]:
        """:meth:`rule_order`, worked out once per policy."""
        return tuple(
            sorted(
                range(len(self.rule)),
                key=lambda i: (
                    -self.rule[i].specificity,
                    -(self.rule[i].min_qty or 0),
                    -(self.rule[i].min_deal_value or 0),
                    i,
                ),
            )
        )

    @cached_property
    def reads_deal_value(self) -> bool:
        """Whether a rule is bounded by the deal's value (else no line's deal value matters)."""
        return any(r.min_deal_value is not None or r.max_deal_value is not None for r in self.rule)

    @cached_property
    def limit_grid(self) -> tuple[int, tuple[tuple[int, ...], ...]]:
        """Every limit over one common denominator ``B`` (a limit ``L`` is ``keep / B``): ``B``,
        and for each level ``100B - keep`` in each scope, the default limits' first, then each
        rule's by position (a rule that does not name the level: 0, never used)."""
        limits = [*self.limits.values(), *(v for rule in self.rule for v in rule.limits.values())]
        common = math.lcm(*((limit * 1).as_integer_ratio()[1] for limit in limits))
        grid = tuple(
            tuple(
                int((100 - limit) * common)
                for limit in (
                    self.limits[level],
                    *(rule.limits.get(level, Decimal(0)) for rule in self.rule),
                )
            )
            for level in self.levels
        )
        return common, grid


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
    """What the guardrails look at for one deal line. Its deal's value is not a fact of the
    line: the engine takes it from all the lines judged together (one request, one deal) by
    :func:`pricing.policy.checks.deal_values`."""

    sku: str
    family: str | None
    qty: int | Decimal
    list_price: Decimal
    standard_price: Decimal
    currency: str
    unit_cost: Decimal | None = None
    item_floor: Decimal | None = None


@dataclass(frozen=True)
class Finding:
    """One check's verdict on one line, said in words: reject it, or require at least ``level``."""

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
