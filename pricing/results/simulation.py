"""The policy what-if as a typed result: the stored deals replayed under the policy in force
and under a proposed one, side by side (``policy simulate``).

Its document is written once, with its files (:mod:`pricing.analysis.simulate_files`: the
``.json`` file is that document, the xlsx and html writers read it); these models declare its
types and :meth:`PolicySimulation.of` validates that document into them, so that ``--json``
and the file cannot differ, and a key either side lacks is an error.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Generic, TypeVar

from pydantic import ConfigDict, Field

from pricing.results.common import Result

if TYPE_CHECKING:
    from pricing.analysis.simulate import Simulation

T = TypeVar("T")


class Sides(Result, Generic[T]):
    """A measure under the policy in force (``current``) and under the proposed one."""

    current: T
    proposed: T


class ClassTotals(Result):
    """The lines of a class (approved, pending:<level>, rejected, not_judged), their special
    discount, and how many of them are below a hard floor."""

    lines: int
    special_discount: Decimal
    below_floor: int


class SpecialDiscount(Result):
    """The special discount some level may approve (``inside``) and the one no level may
    (``outside``: the class ``rejected``)."""

    inside: Decimal
    outside: Decimal


class OutOfPolicy(Result):
    """Out of policy as the report counts it (below a hard floor, or needing an approval no
    approved request covers): the lines and their special discount."""

    lines: int
    amount: Decimal


class ChangedLine(Result):
    """A line the proposed policy puts in another class: its deal, line, SKU, the class now
    and the class proposed."""

    deal: str
    line: str
    sku: str
    current: str
    proposed: str


class PolicySimulation(Result):
    """``policy simulate``: the period; the lines compared (``lines``, each side's classes add
    up to them) of which ``unjudged_lines`` no policy judges now; the lines left out
    (``not_judged``: unmatched, returns and stock adjustments, each counted); the weeks; each
    side's classes, approver workload (requests a week per level), special discount inside and
    outside, out of policy; and the lines that change class."""

    # "from" is a Python keyword: the field is read and written by that key.
    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True)

    start: date | None = Field(validation_alias="from", serialization_alias="from")
    to: date | None
    lines: int
    not_judged: int
    unmatched_lines: int
    unjudged_lines: int
    returns_lines: int
    stock_adjustment_lines: int
    weeks: int
    currency: str
    current: dict[str, ClassTotals]
    proposed: dict[str, ClassTotals]
    workload: Sides[dict[str, Decimal]]
    special_discount: Sides[SpecialDiscount]
    out_of_policy: Sides[OutOfPolicy]
    changed: list[ChangedLine]

    @classmethod
    def of(cls, simulation: Simulation, currency: str) -> PolicySimulation:
        """The simulation's document (what its ``.json`` file holds), typed."""
        from pricing.analysis.simulate_files import simulation_document

        return cls.model_validate(simulation_document(simulation, currency))
