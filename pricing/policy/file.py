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

from pricing.errors import InputError
from pricing.limits import POLICY_DEPTH, POLICY_FILE, POLICY_LEVELS, POLICY_RULES, POLICY_STRING
from pricing.money import LARGEST, is_currency_code
from pricing.policy.model import Person, Policy, Rule
from pricing.problems import Problem

# An approval valid longer than this is no approval (it must also stay within the calendar).
LONGEST_APPROVAL_DAYS = 3650
LONGEST_CONTRACT_DAYS = 3660  # ten years and their leap days


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
    approval_valid_days: int = Field(default=30, ge=1, le=LONGEST_APPROVAL_DAYS)
    rounding: Literal["half_even", "half_up"] = "half_even"
    effective_from: date | None = None
    levels: list[str] = Field(min_length=1)
    limits: dict[str, Decimal]
    rule: list[RuleModel] = Field(default_factory=list)
    person: list[PersonModel] = Field(default_factory=list)
    contract_max_days: int | None = Field(default=None, ge=1, le=LONGEST_CONTRACT_DAYS, strict=True)
    contract_level: str | None = None
    fx_max_age_days: int | None = Field(default=None, ge=0, le=3660, strict=True)

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
            contract_max_days=self.contract_max_days,
            contract_level=self.contract_level,
            fx_max_age_days=self.fx_max_age_days,
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
    contract_level = data.get("contract_level")
    if isinstance(contract_level, str) and contract_level not in levels:
        found.append((["contract_level"],
                      f"{contract_level!r} is not one of the levels {', '.join(levels)}"))  # fmt: skip
    elif isinstance(contract_level, str) and levels and contract_level == levels[0]:
        found.append((["contract_level"], f"{contract_level!r} is the lowest level, whose people "
                      "ask for contracts: name a level above it"))  # fmt: skip
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
    """Validate a policy's TOML text; every problem names its line and key.

    A text beyond the bounds of :mod:`pricing.limits` (size, nesting, one string, rules,
    levels) is refused whole with an InputError naming the bound: nesting and strings before
    TOML reads the text (its reader recurses once per level), the rest from what it read."""
    check_bounds(text, source)
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        line = _toml_error_line(str(exc))
        return PolicyFile(source, text, None, [
            Problem("error", f"not valid TOML: {exc}", file=source, line=line)
        ])  # fmt: skip
    except RecursionError:  # the scan counts what TOML nests; should it ever miss, this holds
        raise InputError(POLICY_DEPTH.message(source)) from None
    check_shape(data, text, source)
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
    lines = _KeyLines(text) if found else None
    problems = [
        Problem(
            "error",
            f"{_where(loc, data)}: {message}" if loc else message,
            file=source,
            line=lines.line(loc) if lines else None,
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


class _KeyLines:
    """Where the keys and tables of a policy's text are written, found in one pass over it:
    a file with thousands of problems costs one pass, not one per problem (3,000 people with
    an unknown role took 31 s when each problem read the file again)."""

    def __init__(self, text: str) -> None:
        self.first: dict[tuple[str, ...], int] = {}  # each key (table + key): its first line
        self.last: dict[tuple[str, ...], int] = {}  # and its last
        self.header: dict[tuple[str, ...], int] = {}  # each table: its first header line
        counts: dict[str, int] = {}
        table: tuple[str, ...] = ()
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
                self.header.setdefault(table, number)
                continue
            key = _KEY.match(line)
            if key:
                path = (*table, key.group(1))
                self.first.setdefault(path, number)
                self.last[path] = number

    def line(self, loc: Sequence[str]) -> int | None:
        """The line where a key (``rule.1.limits.rep``) is written; else the last line of a key
        holding it (an inline table: ``limits = { rep = 5 }``); else its table's header; else
        the same for the key's parent, and so on; None when nothing is found."""
        wanted = tuple(loc)
        while wanted:
            if wanted in self.first:
                return self.first[wanted]
            holders = [
                self.last[wanted[:n]] for n in range(1, len(wanted)) if wanted[:n] in self.last
            ]
            if holders:
                return max(holders)
            if wanted in self.header:
                return self.header[wanted]
            wanted = wanted[:-1] if len(wanted) > 1 else ()
        return None


# Bounds -------------------------------------------------------------------------------------

# What a scan needs to tell nesting from text, as TOML reads it: strings of the four kinds (a
# multi-line one may end with up to two extra quotes; an unterminated one runs to the end of its
# line, or of the text, where TOML stops reading anyway), comments, and brackets and braces.
# Possessive repeats: a token never backtracks, so the scan is linear whatever the text.
_TOKENS = re.compile(
    r'"""(?:[^"\\]|\\.?|"{1,2}(?!"))*+(?:"{3,5}|\Z)'
    r"|'''(?:[^']|'{1,2}(?!'))*+(?:'{3,5}|\Z)"
    r'|"(?:[^"\\\n]|\\[^\n])*+"?'
    r"|'[^'\n]*+'?"
    r"|#[^\n]*+"
    r"|[\[\]{}]",
    re.DOTALL,
)


def check_bounds(text: str, source: str) -> None:
    """Refuse a policy text larger than a policy file may be, nested deeper than
    :data:`~pricing.limits.POLICY_DEPTH` (brackets and braces, outside strings and comments),
    or holding a string longer than :data:`~pricing.limits.POLICY_STRING`, before TOML reads
    it: Python's TOML reader recurses once per level of nesting (600 levels, 1.2 KB, were a
    RecursionError). One linear pass; nothing else about the text is judged here."""
    check_size(len(text), source)  # characters: never more than the file's bytes
    depth_bound, string_bound = POLICY_DEPTH.value, POLICY_STRING.value
    depth = deepest = 0
    too_deep: int | None = None  # where the nesting first goes beyond the bound
    for token in _TOKENS.finditer(text):
        start, end = token.span()
        first = text[start]
        if first in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if depth > depth_bound and too_deep is None:
                too_deep = start
        elif first in "]}":
            depth = max(depth - 1, 0)
        elif first in "\"'":
            quotes = 3 if text.startswith(first * 3, start) else 1
            length = end - start - 2 * quotes
            if length > string_bound:
                raise InputError(POLICY_STRING.message(_at(text, start, source), f"{length:,}"))
    if too_deep is not None:
        raise InputError(POLICY_DEPTH.message(_at(text, too_deep, source), f"{deepest:,}"))


def check_shape(data: dict[str, Any], text: str, source: str) -> None:
    """Refuse what TOML read that is beyond the bounds: nesting deeper than POLICY_DEPTH that
    no bracket shows (dotted keys and table headers, ``a.b.c.d = 1``), a key longer than
    POLICY_STRING, more rules than POLICY_RULES, more levels than POLICY_LEVELS. Counted here,
    from the data, because only TOML's own grammar tells a rule (``[[rule]]`` or an inline
    ``rule = [{…}]``); the file's size bounds what TOML reads to get there."""
    string_bound = POLICY_STRING.value
    deepest = 0
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(value, dict):
            for key, item in value.items():
                if len(key) > string_bound:
                    raise InputError(POLICY_STRING.message(source, f"{len(key):,} in a key"))
                if isinstance(item, (dict, list)):
                    stack.append((item, depth + 1))
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value if isinstance(item, (dict, list)))
    if deepest > POLICY_DEPTH.value:
        raise InputError(POLICY_DEPTH.message(source, f"{deepest:,}"))
    for key, bound in (("rule", POLICY_RULES), ("levels", POLICY_LEVELS)):
        found = data.get(key)
        if isinstance(found, list) and len(found) > bound.value:
            line = _KeyLines(text).line([key]) if key == "levels" else None
            where = f"{source} line {line}" if line else source
            raise InputError(bound.message(where, f"{len(found):,}"))


def _at(text: str, position: int, source: str) -> str:
    return f"{source} line {text.count(chr(10), 0, position) + 1}"


def check_size(size: int, source: str) -> None:
    """Refuse a policy of more than POLICY_FILE bytes, saying its size in MB."""
    if size > POLICY_FILE.value:
        raise InputError(POLICY_FILE.message(source, f"{size / POLICY_FILE.scale:,.1f} MB"))
