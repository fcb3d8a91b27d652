"""What results of several domains share: problems found in a file, and their counts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from pricing.problems import KindCount, Problem


class Result(BaseModel):
    """The base of every result: immutable, and nothing but its declared fields (a client
    validating a server's answer refuses one it does not know)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class WrittenFile:
    """The mark of a result's field that holds the path of the file its operation wrote (the
    ``output`` it was given): a server writes to a copy of its own and answers with the name
    the caller gave (:func:`written_as`), field by field, never by rewriting the answer's text."""


Written = Annotated[str, WrittenFile()]  # a field holding the path of a file written
_R = TypeVar("_R")


def written_as(result: _R, written: str, shown: str) -> _R:
    """``result`` (a result, or a list of them) with each :data:`Written` field that holds
    ``written`` holding ``shown`` instead: what the server answers for a file it wrote to its
    own copy of ``shown``."""
    if isinstance(result, list):
        return [written_as(item, written, shown) for item in result]  # type: ignore[return-value]
    if not isinstance(result, BaseModel):
        return result
    marked = [
        name
        for name, field in type(result).model_fields.items()
        if any(isinstance(mark, WrittenFile) for mark in field.metadata)
        and getattr(result, name) == written
    ]
    return result.model_copy(update=dict.fromkeys(marked, shown)) if marked else result


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
