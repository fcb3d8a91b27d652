"""The keys things are found by, each written once: a SKU's key, a SKU pattern (a glob), a
request's id.

Each rule is read in more than one place: a SKU's key when a price book is read, when a request
line is priced and when a million deal lines are matched (in Arrow); a glob when one request line
is judged (Python's ``re``) and when a million deal lines are (RE2, in Arrow); a request id
where a person types one and in a deals file's column (RE2). A rule written twice drifts, so
each is here once, in a form every reader of it can use.
"""

from __future__ import annotations

import re
from collections.abc import Callable


def sku_key(sku: str) -> str:
    """SKUs that differ only in case or surrounding space are the same SKU.

    In Arrow (:func:`pricing.lines.matching.casefold` of text trimmed by
    ``utf8_trim_whitespace``, which trims the very characters ``str.strip`` does) a column of
    SKUs gets the same keys; ``tests/test_keys.py`` holds the two to each other."""
    return sku.strip().casefold()


def person_key(name: str) -> str:
    """A person's name as it is compared (who acts, who asked, who decided): case folded,
    surrounding spaces dropped."""
    return name.strip().casefold()


def customer_key(name: str) -> str:
    """Customers whose names differ only in case or surrounding space are the same customer
    (a contract's and a deal line's, a request's): lower-cased as DuckDB's ``lower(trim(...))``
    does in the drift report, which compares the deal lines' names with these keys."""
    return name.strip().lower()


def glob_regex(glob: str) -> str:
    """A SKU pattern as a regular expression matching exactly what :func:`fnmatch.fnmatchcase`
    matches (``*``, ``?``, ``[seq]``, ``[!seq]``, ranges), written so that Python's ``re`` and
    RE2 (Arrow's) read it alike: every character but a letter, a digit or a non-ASCII one is
    written ``\\xNN``, and a set holds no syntax either engine reads its own way (``[:``,
    ``&&``, ``--``). Anchor it with :func:`glob_matcher` (Python) or :func:`glob_re2` (Arrow).

    Sets follow fnmatch's reading: ``]`` first in a set is a member; ``!`` first negates;
    ``-`` between two members is a range, first or last it is a member; a range running
    backwards (``z-a``) is dropped; an empty set matches nothing, ``[!]`` any one character;
    a ``[`` without its ``]`` is a ``[``."""
    out: list[str] = []
    i, n = 0, len(glob)
    while i < n:
        char = glob[i]
        i += 1
        if char == "*":
            if not out or out[-1] != ".*":  # consecutive stars are one
                out.append(".*")
        elif char == "?":
            out.append(".")
        elif char == "[":
            j = i
            if j < n and glob[j] == "!":
                j += 1
            if j < n and glob[j] == "]":
                j += 1
            while j < n and glob[j] != "]":
                j += 1
            if j >= n:
                out.append(_literal("["))
            else:
                out.append(_one_of(glob[i:j]))
                i = j + 1
        else:
            out.append(_literal(char))
    return "".join(out)


def glob_matcher(glob: str) -> Callable[[str], bool]:
    """Whether a whole text matches ``glob`` (Python's ``re``)."""
    pattern = re.compile(f"(?s:{glob_regex(glob)})")
    return lambda text: pattern.fullmatch(text) is not None


def glob_re2(glob: str) -> str:
    """``glob`` as an anchored RE2 pattern (``pyarrow.compute.match_substring_regex``)."""
    return f"^(?s:{glob_regex(glob)})\\z"


def _literal(char: str) -> str:
    """One character matched as itself, written alike for ``re`` and RE2."""
    if (char.isalnum() and char.isascii()) or not char.isascii():
        return char
    return f"\\x{ord(char):02x}"


def _one_of(inside: str) -> str:
    """A set (the text between ``[`` and ``]``) as fnmatch reads it (see :func:`glob_regex`)."""
    negated = inside.startswith("!")
    members = inside[1:] if negated else inside
    if "-" not in members[1:]:
        chunks = [members]
    else:  # split at each range's "-", as fnmatch does: "a-c-e" is a-c, "-" and "e"
        chunks, start, k = [], 0, 1
        while True:
            k = members.find("-", k)
            if k < 0:
                break
            chunks.append(members[start:k])
            start, k = k + 1, k + 3
        if members[start:]:
            chunks.append(members[start:])
        else:  # a trailing "-" is a member
            chunks[-1] += "-"
        for k in range(len(chunks) - 1, 0, -1):  # drop a range running backwards
            if chunks[k - 1][-1] > chunks[k][0]:
                chunks[k - 1] = chunks[k - 1][:-1] + chunks[k][1:]
                del chunks[k]
    written = "-".join("".join(_literal(c) for c in chunk) for chunk in chunks)
    if not written:
        return "." if negated else "\\b\\B"  # an empty set matches nothing; negated, anything
    return f"[{'^' if negated else ''}{written}]"


# A request's id as people write it: R-000123, r-123, r123 or 123 (the number: group ``n``),
# once trimmed; read by Python's ``re`` (:func:`request_number`) and by RE2 in a deals file's
# column alike (``[0-9]``, not ``\d``: RE2's is ASCII, Python's any script's digits).
REQUEST_ID = r"^(?i:R-?)?0*(?P<n>[0-9]{1,9})$"
_REQUEST_ID = re.compile(REQUEST_ID)


def request_number(text: str) -> int | None:
    """The number of a request id as people write it (``R-000123``, ``r123``, ``123``, space
    around it aside), or None when ``text`` is not one."""
    found = _REQUEST_ID.match(text.strip())
    return None if found is None else int(found.group("n"))


def request_code(number: int) -> str:
    """A request's id as it is shown: ``R-000123``."""
    return f"R-{number:06d}"
