"""The status column of a deals file: lines of a cancelled, void or lost status are left out of
an import unless asked for (``--status``, ``--all-statuses``), and counted by status as written.
The choice is recorded with the import: the same file read with another choice is another
reading of it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from pricing.errors import InputError
from pricing.io.arrow import dictionary_encode, fill_null, texts
from pricing.problems import Problem

if TYPE_CHECKING:
    from pricing.io.arrow import Array
    from pricing.lines.cells import Cells, Mask

# Statuses whose lines are left out unless asked for (``--status``, ``--all-statuses``),
# compared case folded without spaces or punctuation: Closed Lost, closed-lost, CLOSED_LOST.
LEFT_OUT = ("Cancelled", "Canceled", "Void", "Lost", "Closed Lost")


def fold_status(text: str) -> str:
    """A status as compared: case folded, without spaces or punctuation."""
    return re.sub(r"[\W_]+", "", text.casefold())


_LEFT_OUT = frozenset(fold_status(s) for s in LEFT_OUT)


def wanted_statuses(statuses: Sequence[str] | None, all_statuses: bool) -> tuple[str, ...] | None:
    """The statuses to keep, folded: None (all but LEFT_OUT), ``("*",)`` (every one), or those
    named."""
    named = [s.strip() for s in statuses or () if s.strip()]
    if statuses is not None and not named:
        raise InputError(" names no status: give them as S1,S2, e.g. --status Shipped,Resolved",
                         field="status")  # fmt: skip
    if named and all_statuses:
        raise InputError(
            ": give either --status S1,S2 (keep only those) or --all-statuses (keep every "
            "line), not both",
            field="status",
        )
    if all_statuses:
        return ("*",)
    return tuple(sorted({fold_status(s) for s in named})) if named else None


def status_filter(wanted: tuple[str, ...] | None) -> str:
    """How the statuses were filtered, as an import records it."""
    if wanted is None:
        return "default"
    return "all" if wanted == ("*",) else "only:" + ",".join(wanted)


def left_out_by_status(
    cells: Cells, text: dict[str, Array], keep: Mask, wanted: tuple[str, ...] | None
) -> tuple[Mask | None, dict[str, int]]:
    """Which lines are left out by their status (None: every line is kept), and how many of
    each status as written: those of a status in LEFT_OUT, or with ``--status``, of any other.
    A status named that no line has is warned about."""
    import numpy as np

    if "status" not in text or wanted == ("*",):
        return None, {}
    encoded = dictionary_encode(cast("Array", fill_null(text["status"], "")))
    words = texts(encoded.dictionary)
    folded = [fold_status(word) for word in words]
    if wanted is None:
        out = np.array([f in _LEFT_OUT for f in folded], dtype=bool)
    else:
        chosen = set(wanted)
        out = np.array([f not in chosen for f in folded], dtype=bool)
        absent = [w for w in wanted if w not in folded]
        if absent:
            present = ", ".join(dict.fromkeys(w for w in words if w)) or "none"
            cells.found.append(Problem(
                "warning",
                f"--status {', '.join(absent)}: no line has that status (the file's "
                f"statuses: {present})",
                file=cells.name, sheet=cells.sheet,
            ))  # fmt: skip
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    skipped: Mask = (out[codes] if len(out) else np.zeros(len(codes), dtype=bool)) & keep
    counted: dict[str, int] = {}
    if skipped.any():
        counts = np.bincount(codes[skipped], minlength=len(words))
        counted = {
            words[i] or "(blank)": int(counts[i])
            for i in np.argsort(-counts, kind="stable")
            if counts[i]
        }
    return skipped, counted
