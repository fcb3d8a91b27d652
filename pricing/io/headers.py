"""Header detection: the row of a sheet that names the wanted fields, matched loosely.

Used by every reader of a table people write by hand (price books, request lines, deals).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

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


def squash(header: str) -> str:
    """A header's loose form (:func:`header_keys`) without its spaces: ``ORDERDATE``,
    ``Order_Date`` and ``order date`` are one header."""
    return header.replace(" ", "")


def find_header(
    sheet: Sheet,
    headers: Mapping[str, tuple[str, ...]],
    overrides: Mapping[str, str],
    required: Callable[[dict[str, int]], bool],
) -> tuple[int, dict[str, int]] | None:
    """The first row (in the first 30) whose cells name the required fields, and the mapping.

    Each column serves one field and each field one column: ``--column`` mappings first, then
    exact header matches before loose ones (a trailing currency or VAT note left out), a name
    with its spaces before one run together (``Order Date`` before ``ORDERDATE``), better-ranked
    aliases before others, leftmost first.
    """
    for r in range(min(HEADER_SEARCH_ROWS, len(sheet.rows))):
        mapping = _row_mapping(sheet.rows[r], headers, overrides)
        if required(mapping):
            return r, mapping
    return None


def _row_mapping(
    row: list[object], headers: Mapping[str, tuple[str, ...]], overrides: Mapping[str, str]
) -> dict[str, int]:
    """The fields one row's cells name (see :func:`find_header`)."""
    wanted_override = {normalise_header(h): f for f, h in overrides.items()}
    candidates: list[tuple[tuple[int, int, int, int], str, int]] = []
    for c, cell in enumerate(row):
        if cell is None or cell == "":
            continue
        keys = header_keys(cell)
        if keys[0] in wanted_override:
            candidates.append(((-1, 0, 0, c), wanted_override[keys[0]], c))
            continue
        folded = [squash(key) for key in keys]
        for name, aliases in headers.items():
            if name in overrides:
                continue
            for position, alias in enumerate(aliases):
                if alias in keys:
                    candidates.append(((keys.index(alias), 0, position, c), name, c))
                elif squash(alias) in folded:  # ORDERDATE, Order_Date, order-date
                    candidates.append(((folded.index(squash(alias)), 1, position, c), name, c))
    mapping: dict[str, int] = {}
    used: set[int] = set()
    for _, name, c in sorted(candidates):
        if name not in mapping and c not in used:
            mapping[name] = c
            used.add(c)
    return mapping


def likely_header(
    sheet: Sheet, headers: Mapping[str, tuple[str, ...]], overrides: Mapping[str, str]
) -> tuple[int, dict[str, int]] | None:
    """The row (in the first 30) that names the most fields, when no row names every required
    one: at least two, else None (the header is not there at all)."""
    best: tuple[int, dict[str, int]] | None = None
    for r in range(min(HEADER_SEARCH_ROWS, len(sheet.rows))):
        mapping = _row_mapping(sheet.rows[r], headers, overrides)
        if len(mapping) >= 2 and (best is None or len(mapping) > len(best[1])):
            best = r, mapping
    return best


def closest_header(
    row: list[object], aliases: tuple[str, ...], taken: Iterable[int] = ()
) -> str | None:
    """The cell of a header row most like one of a field's names (difflib), among the columns
    not ``taken`` by other fields; None when nothing is close."""
    import difflib

    skip = set(taken)
    best, best_score = None, 0.599  # below 0.6, nothing is "close"
    for c, cell in enumerate(row):
        if c in skip or cell is None or str(cell).strip() == "":
            continue
        for key in header_keys(cell):
            for alias in aliases:
                score = difflib.SequenceMatcher(None, key, alias).ratio()
                if score > best_score:
                    best, best_score = str(cell).strip(), score
    return best


def unknown_overrides(
    sheet: Sheet, overrides: Mapping[str, str]
) -> list[tuple[str, str, str | None]]:
    """The ``--column FIELD=HEADER`` mappings whose header no cell of the first 30 rows has
    (a typo): each field, the header given, and the cell most like it (None: nothing close).
    Said before anything else, since every other message would be about its consequences."""
    if not overrides:
        return []  # (nothing to look for: difflib is not even loaded)
    import difflib

    cells = {
        str(cell).strip(): normalise_header(cell)
        for row in sheet.rows[:HEADER_SEARCH_ROWS]
        for cell in row
        if cell is not None and str(cell).strip()
    }
    present = set(cells.values())
    unknown = []
    for field_name, header in overrides.items():
        wanted = normalise_header(header)
        if wanted in present:
            continue
        close = difflib.get_close_matches(wanted, list(cells.values()), n=1, cutoff=0.6)
        shown = next((text for text, norm in cells.items() if close and norm == close[0]), None)
        unknown.append((field_name, header, shown))
    return unknown


def unknown_override_message(field_name: str, header: str, closest: str | None) -> str:
    """``--column sku="Item Nmbr"``: what is wrong with one such mapping, and the likely fix."""
    said = f'--column {field_name}="{header}": no column of the first 30 rows has that header'
    return said + (f'; the closest is "{closest}"' if closest else "; check its spelling")
