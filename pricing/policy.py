"""The owner's guardrails: who may grant which discount, and the floors nobody may go below.

A policy is a TOML file (comments, clean diffs). It is validated into a :class:`Policy`; every
mistake is a Problem naming the line and key. Judging a special price is a list of plain check
functions (:data:`CHECKS`), each returning findings; :func:`judge` combines them into the
decision, the lowest level that may approve, and reasons a person can read.
"""

from __future__ import annotations

import fnmatch
import itertools
import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pricing.money import format_pct, is_currency_code, quantum
from pricing.problems import Problem

Decision = Literal["approved", "pending", "rejected"]
_GLOB = re.compile(r"[*?\[]")


class Rule(BaseModel):
    """A narrower scope: its conditions all must match a line for its limits and floors to apply."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = None
    sku: str | None = None
    family: str | None = None
    min_qty: int | None = Field(default=None, ge=1)
    max_qty: int | None = Field(default=None, ge=1)
    min_deal_value: Decimal | None = Field(default=None, ge=0)
    max_deal_value: Decimal | None = Field(default=None, gt=0)
    limits: dict[str, Decimal] = Field(default_factory=dict)
    floor_price: Decimal | None = Field(default=None, gt=0)
    min_margin_pct: Decimal | None = Field(default=None, ge=0, lt=100)

    @model_validator(mode="after")
    def _has_condition_and_effect(self) -> Rule:
        if not any(
            v is not None
            for v in (self.sku, self.family, self.min_qty, self.max_qty, self.min_deal_value,
                      self.max_deal_value)
        ):  # fmt: skip
            raise ValueError(
                "a rule needs a condition: sku, family, min_qty/max_qty or "
                "min_deal_value/max_deal_value (use [limits] for everything)"
            )
        if not self.limits and self.floor_price is None and self.min_margin_pct is None:
            raise ValueError("a rule must set limits, floor_price or min_margin_pct")
        if self.min_qty and self.max_qty and self.min_qty > self.max_qty:
            raise ValueError("min_qty is above max_qty")
        return self

    @field_validator("limits")
    @classmethod
    def _limits_are_percentages(cls, value: dict[str, Decimal]) -> dict[str, Decimal]:
        for level, pct in value.items():
            if not 0 <= pct <= 100:
                raise ValueError(f"limit for {level} must be between 0 and 100 (a percentage)")
        return value

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


class Person(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    role: str


class Policy(BaseModel):
    """The guardrails in force: levels and their limits, narrower rules, floors, the team."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    currency: str = "USD"
    approval_valid_days: int = Field(default=30, ge=1)
    rounding: Literal["half_even", "half_up"] = "half_even"
    effective_from: date | None = None
    levels: list[str] = Field(min_length=1)
    limits: dict[str, Decimal]
    rule: list[Rule] = Field(default_factory=list)
    person: list[Person] = Field(default_factory=list)

    @field_validator("currency")
    @classmethod
    def _currency_code(cls, value: str) -> str:
        if not is_currency_code(value.upper()):
            raise ValueError("currency must be a 3-letter ISO code such as USD")
        return value.upper()

    @field_validator("levels")
    @classmethod
    def _distinct_levels(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("levels must be distinct")
        return value

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


def cross_checks(data: dict[str, Any]) -> list[tuple[list[str], str]]:
    """Checks across keys (levels, limits, roles), on the raw data so that they run even
    when a field elsewhere is invalid: every problem is reported at once."""
    found: list[tuple[list[str], str]] = []
    levels = data.get("levels")
    if not isinstance(levels, list) or not all(isinstance(x, str) for x in levels):
        return found
    limits = data.get("limits")
    if isinstance(limits, dict):
        missing = [level for level in levels if level not in limits]
        if missing:
            found.append(
                (["limits"], f"every level needs a limit here; missing: {', '.join(missing)}")
            )
        found.extend(_limit_problems(limits, levels, ["limits"]))
    rules = data.get("rule", [])
    for i, rule in enumerate(rules if isinstance(rules, list) else []):
        if isinstance(rule, dict) and isinstance(rule.get("limits"), dict):
            found.extend(_limit_problems(rule["limits"], levels, ["rule", str(i), "limits"]))
    people = data.get("person", [])
    names: set[str] = set()
    for i, person in enumerate(people if isinstance(people, list) else []):
        if not isinstance(person, dict):
            continue
        role, name = person.get("role"), person.get("name")
        if isinstance(role, str) and role not in levels:
            found.append(
                (
                    ["person", str(i), "role"],
                    f"{role!r} is not one of the levels {', '.join(levels)}",
                )
            )
        if isinstance(name, str):
            if name.casefold() in names:
                found.append((["person", str(i), "name"], f"{name!r} is listed twice"))
            names.add(name.casefold())
    return found


def _limit_problems(
    limits: dict[str, Any], levels: list[str], where: list[str]
) -> list[tuple[list[str], str]]:
    found = [
        ([*where, level], f"{level!r} is not one of the levels {', '.join(levels)}")
        for level in limits
        if level not in levels
    ]
    given = [(lv, limits[lv]) for lv in levels if isinstance(limits.get(lv), (int, Decimal))]
    for (low, low_pct), (high, high_pct) in itertools.pairwise(given):
        if high_pct < low_pct:
            found.append(
                ([*where, high], f"{high} may grant less ({high_pct}%) than {low} ({low_pct}%)")
            )
    return found


def _band(label: str, low: object, high: object) -> str:
    if low is not None and high is not None:
        return f"{label} {low}-{high}"
    return f"{label} >= {low}" if low is not None else f"{label} <= {high}"


# Reading the file ---------------------------------------------------------------------------


@dataclass
class PolicyFile:
    """A parsed policy file: the policy (None when invalid), its text, and problems."""

    source: str
    text: str
    policy: Policy | None
    problems: list[Problem]


def parse_policy(text: str, source: str = "guardrails.toml") -> PolicyFile:
    """Validate a policy's TOML text; every problem names its line and key."""
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        line = _toml_error_line(str(exc))
        return PolicyFile(source, text, None, [
            Problem("error", f"not valid TOML: {exc}", file=source, line=line)
        ])  # fmt: skip
    found: list[tuple[list[str], str, Any]] = []
    policy: Policy | None = None
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = [str(part) for part in error["loc"]]
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = f"unknown key; {_allowed_keys(loc)}"
            found.append((loc, message, error.get("input")))
    found.extend((loc, message, None) for loc, message in cross_checks(data))
    problems = [
        Problem(
            "error",
            f"{'.'.join(loc)}: {message}" if loc else message,
            file=source,
            line=_key_line(text, loc),
            value=_short(value),
        )
        for loc, message, value in found
    ]
    return PolicyFile(source, text, None if problems else policy, problems)


def _allowed_keys(loc: list[str]) -> str:
    model: type[BaseModel] = Policy
    if loc and loc[0] == "rule":
        model = Rule
    elif loc and loc[0] == "person":
        model = Person
    return "the keys here are " + ", ".join(model.model_fields)


def _short(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value)


def _toml_error_line(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None


_TABLE = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-]+)\s*\]\]?")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*=")


def _key_line(text: str, loc: Sequence[str]) -> int | None:
    """The line where a key (``rule.1.limits.rep``) is written, or its table, or None."""
    if not loc:
        return None
    counts: dict[str, int] = {}
    table: tuple[str, ...] = ()
    best: int | None = None
    wanted = list(loc)
    for number, line in enumerate(text.splitlines(), start=1):
        header = _TABLE.match(line)
        if header:
            name = header.group(2)
            if header.group(1) == "[[":
                index = counts.get(name, 0)
                counts[name] = index + 1
                table = (name, str(index))
            else:
                table = tuple(name.split("."))
            if list(table) == wanted[: len(table)] and best is None and len(table) == len(wanted):
                best = number
            continue
        key = _KEY.match(line)
        if not key:
            continue
        path = [*table, key.group(1)]
        if wanted[: len(path)] == path:
            if len(path) == len(wanted):
                return number
            if best is None or path[-1] == wanted[len(path) - 1]:
                best = number  # an inline table holding the key (limits = { rep = 5 })
    if best is None and len(wanted) > 1:
        return _key_line(text, wanted[:-1])
    return best


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
