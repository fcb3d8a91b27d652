"""What results of several domains share: problems found in a file, and their counts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from pricing.problems import KindCount, Problem


class Result(BaseModel):
    """The base of every result: immutable, and nothing but its declared fields (a client
    validating a server's answer refuses one it does not know)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class FoundProblem(Result):
    """A problem as data: severity, what it says, and where (file, sheet, cell, line, value)."""

    severity: Literal["error", "warning"]
    file: str | None
    sheet: str | None
    cell: str | None
    line: int | None
    value: str | None
    message: str

    @classmethod
    def of(cls, problem: Problem) -> FoundProblem:
        return cls.model_validate(problem.as_dict())

    def problem(self) -> Problem:
        from pricing.problems import Problem

        return Problem.from_dict(self.model_dump())


class ProblemCount(Result):
    """One kind of problem: its severity, what the first of that kind says, how many in all."""

    severity: Literal["error", "warning"]
    message: str
    count: int

    @classmethod
    def of(cls, counted: KindCount) -> ProblemCount:
        return cls.model_validate(counted.as_dict())


def problems(found: Sequence[Problem]) -> list[FoundProblem]:
    """The problems listed (up to limits.PROBLEMS_PER_KIND of each kind, with their cells)."""
    return [FoundProblem.of(p) for p in found]


def problem_counts(found: Sequence[Problem]) -> list[ProblemCount]:
    """One entry per kind of problem found, with how many were found in all."""
    from pricing.problems import kind_counts

    return [ProblemCount.of(k) for k in kind_counts(found)]
