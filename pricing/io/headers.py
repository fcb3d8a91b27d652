"""Header detection: the row of a sheet that names the wanted fields, matched loosely.

Used by every reader of a table people write by hand (price books, request lines, deals).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from pricing.io.sheets import Sheet, normalise_header

HEADER_SEARCH_ROWS = 30
_PLACEHOLDER_TOKENS = {"excl vat", "ex vat", "incl vat", "net"}

_CURRENCY_WORDS = {
    "usd", "eur", "gbp", "jpy", "chf", "sek", "nok", "dkk", "cad", "aud", "nzd", "inr", "cny",
    "hkd", "sgd", "pln", "czk", "huf", "brl", "mxn", "zar", "krw", "try", "ils", "aed", "isk",
}  # fmt: skip


def header_keys(header: object) -> list[str]:
    """Loose forms a header may match: itself, then without a trailing currency or VAT note."""
    norm = normalise_header(header)
    keys = [norm]
    words = norm.split(" ")
    if len(words) > 1 and words[-1] in _CURRENCY_WORDS:
        keys.append(" ".join(words[:-1]))
    for note in _PLACEHOLDER_TOKENS:
        if norm.endswith(" " + note):
            keys.append(norm[: -len(note) - 1])
    return keys


def find_header(
    sheet: Sheet,
    headers: Mapping[str, tuple[str, ...]],
    overrides: Mapping[str, str],
    required: Callable[[dict[str, int]], bool],
) -> tuple[int, dict[str, int]] | None:
    """The first row (in the first 30) whose cells name the required fields, and the mapping.

    Each column serves one field and each field one column: ``--column`` mappings first, then
    exact header matches before loose ones, better-ranked aliases before others, leftmost first.
    """
    wanted_override = {normalise_header(h): f for f, h in overrides.items()}
    for r in range(min(HEADER_SEARCH_ROWS, len(sheet.rows))):
        candidates: list[tuple[tuple[int, int, int], str, int]] = []
        for c, cell in enumerate(sheet.rows[r]):
            if cell is None or cell == "":
                continue
            keys = header_keys(cell)
            if keys[0] in wanted_override:
                candidates.append(((-1, 0, c), wanted_override[keys[0]], c))
                continue
            for name, aliases in headers.items():
                if name in overrides:
                    continue
                for position, alias in enumerate(aliases):
                    if alias in keys:
                        candidates.append(((keys.index(alias), position, c), name, c))
        mapping: dict[str, int] = {}
        used: set[int] = set()
        for _, name, c in sorted(candidates):
            if name not in mapping and c not in used:
                mapping[name] = c
                used.add(c)
        if required(mapping):
            return r, mapping
    return None
