"""Problems found in user files, as data.

Importers never raise for bad content; they return every problem they found, each with the
place a person would look (file, sheet, cell or line), the value found there and what is wrong.
The edge (CLI) decides what problems mean: errors block, warnings are shown.

A file can hold millions of the same mistake (three million copies of one SKU). Importers
collect into :class:`Problems`, which keeps the first :data:`pricing.limits.PROBLEMS_PER_KIND`
of each kind with their cells and only counts the rest, so that neither memory nor the screen
fills with them; documents carry the counts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from pricing.limits import PROBLEMS_PER_KIND

Severity = Literal["error", "warning"]
_PARTICULAR = re.compile(r"[^'\"0-9]*")  # a message up to its first quoted value or number


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input, located precisely enough to fix it."""

    severity: Severity
    message: str
    file: str | None = None
    sheet: str | None = None
    cell: str | None = None
    line: int | None = None
    value: str | None = None

    @property
    def where(self) -> str:
        """The location as people write it: ``'Price Book'!D14`` or ``deals.csv line 14``."""
        if self.sheet is not None:
            quoted = "'" + self.sheet.replace("'", "''") + "'"
            return f"{quoted}!{self.cell}" if self.cell else quoted
        if self.line is not None:
            where = f"{self.file} line {self.line}" if self.file else f"line {self.line}"
            column = _column_letters(self.cell)
            return f"{where}, column {column}" if column else where
        return self.file or ""

    @property
    def kind(self) -> str:
        """What the message says before its first particular (a quoted value, a number, a
        cell): ``duplicate SKU: `` for every duplicate, whichever SKU and cell."""
        return kind_of(self.message)

    def as_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "file": self.file,
            "sheet": self.sheet,
            "cell": self.cell,
            "line": self.line,
            "value": self.value,
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Problem:
        """A problem back from its JSON form (:meth:`as_dict`), as a client receives it."""
        return cls(
            data["severity"], data["message"], data.get("file"), data.get("sheet"),
            data.get("cell"), data.get("line"), data.get("value"),
        )  # fmt: skip

    def render(self) -> str:
        """One line: ``error: 'Price Book'!D14: "12,5O": list price is not a number``."""
        parts: list[str] = [self.severity]
        if self.where:
            parts.append(self.where)
        if self.value is not None and self.value != "":
            parts.append(_quote(self.value))
        parts.append(self.message)
        return ": ".join(parts)


def kind_of(message: str) -> str:
    """The kind of a problem saying ``message`` (see :attr:`Problem.kind`)."""
    match = _PARTICULAR.match(message)
    return match.group() if match else message


@dataclass(frozen=True, slots=True)
class KindCount:
    """How many problems of one kind were found: its severity, what the first of them says
    (``message``) and ``count`` in all, listed or not (a document's ``problem_counts``)."""

    severity: Severity
    message: str
    count: int

    def as_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "message": self.message, "count": self.count}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> KindCount:
        return cls(data["severity"], data["message"], data["count"])


class Problems(list[Problem]):
    """Problems as an importer finds them: the first ``per_kind`` of each kind (severity and
    :attr:`Problem.kind`) are kept with their cells, the rest are only counted.

    Add with :meth:`append` or :meth:`extend` (slicing and ``+`` bypass the count). A reader in
    a loop over millions of rows asks :meth:`only_counted` first and builds the Problem only
    when it will be listed.
    """

    def __init__(self, found: Iterable[Problem] = (), *, per_kind: int = PROBLEMS_PER_KIND) -> None:
        super().__init__()
        self.per_kind = per_kind
        self._listed: dict[tuple[Severity, str], int] = {}
        self._omitted: dict[tuple[Severity, str], int] = {}
        self.extend(found)

    def only_counted(self, severity: Severity, message: str, *, kind: str | None = None) -> bool:
        """True when a problem of this severity saying ``message`` would not be listed (its
        kind is full): it is then counted, and the caller need not build it. ``kind``: the
        message's kind, when the caller knows it without writing the message."""
        key = (severity, kind_of(message) if kind is None else kind)
        if self._listed.get(key, 0) < self.per_kind:
            return False
        self._omitted[key] = self._omitted.get(key, 0) + 1
        return True

    def room(self, severity: Severity, kind: str, count: int = 1) -> int:
        """Count ``count`` more problems of one kind at once (a reader that finds them a column
        at a time); how many of them are still to be listed (then :meth:`append` each)."""
        key = (severity, kind)
        listed = self._listed.get(key, 0)
        free = max(0, min(count, self.per_kind - listed))
        if count > free:
            self._omitted[key] = self._omitted.get(key, 0) + count - free
        return free

    def full(self, severity: Severity, kind: str) -> bool:
        """Whether problems of this kind are no longer listed, only counted."""
        return self._listed.get((severity, kind), 0) >= self.per_kind

    def append(self, problem: Problem) -> None:
        key = (problem.severity, problem.kind)
        listed = self._listed.get(key, 0)
        if listed < self.per_kind:
            self._listed[key] = listed + 1
            super().append(problem)
        else:
            self._omitted[key] = self._omitted.get(key, 0) + 1

    def extend(self, found: Iterable[Problem]) -> None:
        for problem in found:
            self.append(problem)
        if isinstance(found, Problems):
            for key, count in found._omitted.items():
                self._omitted[key] = self._omitted.get(key, 0) + count

    def demoted(self, prefix: str) -> Problems:
        """The same problems with every error made a warning whose message starts with
        ``prefix`` (the errors of rows an import leaves out), those only counted included."""
        found = Problems(per_kind=self.per_kind)
        for problem in self:
            if problem.severity == "error":
                problem = replace(problem, severity="warning", message=prefix + problem.message)
            found.append(problem)
        for (severity, kind), count in self._omitted.items():
            key: tuple[Severity, str] = (
                ("warning", prefix + kind) if severity == "error" else (severity, kind)
            )
            found._omitted[key] = found._omitted.get(key, 0) + count
        return found

    def kind_counts(self) -> list[KindCount]:
        """Each kind found, in the order met: what the first listed says, and how many."""
        return kind_counts(self)

    @property
    def total(self) -> int:
        """Every problem found, listed or only counted."""
        return len(self) + sum(self._omitted.values())

    @property
    def counts(self) -> dict[str, int]:
        """``{"error": N, "warning": M}``: every problem found, listed or only counted."""
        counts = {"error": 0, "warning": 0}
        for kind in self.kind_counts():
            counts[kind.severity] += kind.count
        return counts


def kind_counts(found: Iterable[Problem]) -> list[KindCount]:
    """How many problems of each kind ``found`` holds, those :class:`Problems` only counted
    included, in the order the kinds were met."""
    first: dict[tuple[Severity, str], str] = {}
    count: dict[tuple[Severity, str], int] = {}
    for problem in found:
        key = (problem.severity, problem.kind)
        first.setdefault(key, problem.message)
        count[key] = count.get(key, 0) + 1
    if isinstance(found, Problems):
        for key, more in found._omitted.items():
            first.setdefault(key, key[1])
            count[key] = count.get(key, 0) + more
    return [KindCount(key[0], first[key], n) for key, n in count.items()]


def has_errors(problems: Iterable[Problem]) -> bool:
    return any(p.severity == "error" for p in problems)


def errors(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def warnings(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "warning"]


def _column_letters(cell: str | None) -> str:
    if not cell:
        return ""
    return "".join(ch for ch in cell if ch.isalpha())


def _quote(value: str) -> str:
    shown = value if len(value) <= 60 else value[:57] + "..."
    return '"' + shown.replace("\n", "\\n") + '"'
