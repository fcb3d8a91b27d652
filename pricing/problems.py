"""Problems found in user files, as data.

Importers never raise for bad content; they return every problem they found, each with the
place a person would look (file, sheet, cell or line), the value found there and what is wrong.
The edge (CLI) decides what problems mean: errors block, warnings are shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Severity = Literal["error", "warning"]


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
