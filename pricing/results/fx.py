"""Exchange rates: what ``fx import`` stored, and what ``fx show`` found."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

from pydantic import PlainSerializer

from pricing.results.common import FoundProblem, ProblemCount, Result, problem_counts, problems

if TYPE_CHECKING:
    from pricing.fx.rates import Imported, RateOn


class FxImported(Result):
    """A rates file imported: ``id`` null when nothing was stored (its problems say why, or
    every rate was stored already); how many rates it held, added, changed and left as they
    were; its currencies, bases and days."""

    id: int | None
    file: str
    shape: str  # "wide": a column per currency (the ECB's); "long": a rate per line
    rates: int
    added: int
    changed: int
    unchanged: int
    currencies: list[str]
    bases: list[str]
    first_day: date | None
    last_day: date | None
    problems: list[FoundProblem]
    problem_counts: list[ProblemCount]

    @classmethod
    def of(cls, done: Imported) -> FxImported:
        fields = {name: getattr(done, name) for name in cls.model_fields if hasattr(done, name)}
        return cls(**{**fields, "problems": problems(done.problems),
                      "problem_counts": problem_counts(done.problems)})  # fmt: skip

    @property
    def refused(self) -> bool:
        return any(p.severity == "error" for p in self.problems)


def plain(rate: Decimal) -> str:
    """A rate as people write it: no exponent, no trailing zeros (0.0000005446, 136)."""
    return format(rate.normalize(), "f")


Rate = Annotated[Decimal, PlainSerializer(plain, return_type=str, when_used="json")]


class FxRate(Result):
    """One unit of ``currency`` in ``in_currency`` on ``as_of``: the rate published on
    ``published`` (the last day with one on or before), how it was found (``direct``,
    ``inverted``, ``via EUR``), its age in days and whether that is more than ``max_age_days``."""

    currency: str
    in_currency: str
    as_of: date
    rate: Rate
    published: date
    how: str
    age_days: int
    max_age_days: int
    stale: bool
    imports: list[int]

    @classmethod
    def of(cls, found: RateOn) -> FxRate:
        return cls(
            currency=found.currency, in_currency=found.quote, as_of=found.asked, rate=found.rate,
            published=found.published, how=found.how, age_days=found.age_days,
            max_age_days=found.max_age, stale=found.stale, imports=list(found.imports),
        )  # fmt: skip
