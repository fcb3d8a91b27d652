"""Reading a policy file: TOML validated with pydantic, every problem with its line and key.

Validation happens once, when the owner checks or loads a file; the validated policy is then
kept as plain data (:class:`pricing.policy.model.Policy`), so judging a request never pays for it.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pricing.money import LARGEST, is_currency_code
from pricing.policy.model import Person, Policy, Rule
from pricing.problems import Problem


class RuleModel(BaseModel):
    """A narrower scope: its conditions all must match a line for its limits and floors to apply."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = None
    sku: str | None = None
    family: str | None = None
    min_qty: int | None = Field(default=None, ge=1, lt=LARGEST)
    max_qty: int | None = Field(default=None, ge=1, lt=LARGEST)
    min_deal_value: Decimal | None = Field(default=None, ge=0, lt=LARGEST)
    max_deal_value: Decimal | None = Field(default=None, gt=0, lt=LARGEST)
    limits: dict[str, Decimal] = Field(default_factory=dict)
    floor_price: Decimal | None = Field(default=None, gt=0, lt=LARGEST)
    min_margin_pct: Decimal | None = Field(default=None, ge=0, lt=100)

    @model_validator(mode="after")
    def _has_condition_and_effect(self) -> RuleModel:
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


class PersonModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    role: str


class PolicyModel(BaseModel):
    """The guardrails in force: levels and their limits, narrower rules, floors, the team."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    currency: str = "USD"
    approval_valid_days: int = Field(default=30, ge=1)
    rounding: Literal["half_even", "half_up"] = "half_even"
    effective_from: date | None = None
    levels: list[str] = Field(min_length=1)
    limits: dict[str, Decimal]
    rule: list[RuleModel] = Field(default_factory=list)
    person: list[PersonModel] = Field(default_factory=list)

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

    def to_policy(self) -> Policy:
        return Policy(
            levels=list(self.levels),
            limits=dict(self.limits),
            currency=self.currency,
            approval_valid_days=self.approval_valid_days,
            rounding=self.rounding,
            effective_from=self.effective_from,
            rule=[Rule(**r.model_dump()) for r in self.rule],
            person=[Person(p.name, p.role) for p in self.person],
        )


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
        policy = PolicyModel.model_validate(data).to_policy()
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
            f"{_where(loc, data)}: {message}" if loc else message,
            file=source,
            line=_key_line(text, loc),
            value=_short(value),
        )
        for loc, message, value in found
    ]
    return PolicyFile(source, text, None if problems else policy, problems)


def _where(loc: list[str], data: dict[str, Any]) -> str:
    """A problem's key as the owner counts: ``[[rule]]`` and ``[[person]]`` tables by number
    from 1 and by name (``rule 2 ("bulk hardware"), limits.rep``), other keys dotted."""
    if len(loc) >= 2 and loc[0] in ("rule", "person") and loc[1].isdigit():
        index = int(loc[1])
        tables = data.get(loc[0])
        table = tables[index] if isinstance(tables, list) and index < len(tables) else None
        name = table.get("name") if isinstance(table, dict) else None
        label = f"{loc[0]} {index + 1}" + (f" ({name!r})" if isinstance(name, str) and name else "")
        return label + (f", {'.'.join(loc[2:])}" if loc[2:] else "")
    return ".".join(loc)


def _allowed_keys(loc: list[str]) -> str:
    model: type[BaseModel] = PolicyModel
    if loc and loc[0] == "rule":
        model = RuleModel
    elif loc and loc[0] == "person":
        model = PersonModel
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
