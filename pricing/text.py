"""Text from files and the database, made safe to show: data, never control.

A SKU, a customer, a reason or a file name is whatever someone typed or a file held. Written raw
to a terminal, some characters are commands, not text: ESC and the 8-bit C1 controls start
sequences that clear the screen, move the cursor, retitle the window or make a link that says
one thing and opens another; a newline or a carriage return splits or overwrites a line; the
bidirectional overrides (U+202E) show a value reversed. :func:`visible` writes each of them out
as the escape a person can read and type back (``\\x1b``, ``\\n``, ``\\u202e``), and leaves every
other character as it is (accents, CJK, emoji, backslashes: a Windows path stays readable).
The shown text is for people; ``--json`` carries the exact value.

:func:`json_visible` does the same for JSON text, whose strings must still decode to the exact
value: ``json.dumps(..., ensure_ascii=False)`` escapes C0 controls itself but writes DEL, C1,
bidi controls and line separators raw.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

# The two-character escapes people know; every other control is \xNN or \uNNNN, as Python
# writes them (so the shown value can be pasted into a string literal).
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

# Ranges of code points (first, last), as the escapes are written:
# C0 and DEL; C1 (0x80-0x9f: 0x9b is CSI, 0x9d OSC on terminals that take 8-bit controls).
_CONTROLS = [(0x00, 0x1F), (0x7F, 0x9F)]
# Bidirectional formatting (marks, embeddings, overrides, isolates) and the Unicode line and
# paragraph separators, which some terminals and editors take as line breaks.
_FORMATTING = [(0x061C, 0x061C), (0x200E, 0x200F), (0x2028, 0x202E), (0x2066, 0x2069)]
# Lone surrogates: a file name's undecodable bytes (Python's surrogateescape); written raw they
# stop the output with UnicodeEncodeError. Shown as the byte they stand for (\udcff -> \xff).
_SURROGATES = [(0xD800, 0xDFFF)]


def _escape(char: str) -> str:
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _any_of(ranges: list[tuple[int, int]]) -> re.Pattern[str]:
    """A regular expression matching one character of ``ranges`` (a scan: fast where none is)."""
    return re.compile("[" + "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in ranges) + "]")


_VISIBLE = _any_of([*_CONTROLS, *_FORMATTING, *_SURROGATES])
# In JSON text these characters can only stand inside a string, where \uNNNN decodes to the same
# character: the document stays exact. (json.dumps has escaped C0 already.)
_JSON = _any_of([(0x7F, 0x9F), *_FORMATTING, *_SURROGATES])


def visible(text: str) -> str:
    """``text`` with every control character written out as a visible escape, the rest as is."""
    return _VISIBLE.sub(lambda found: _escape(found.group()), text)


def json_visible(json_text: str) -> str:
    """JSON text (of ``json.dumps(..., ensure_ascii=False)``) with the characters a terminal acts
    on that it leaves raw written as ``\\uNNNN``: it decodes to exactly the same document."""
    return _JSON.sub(lambda found: f"\\u{ord(found.group()):04x}", json_text)


# A text cell a spreadsheet program would run as a formula starts with one of these; tab and
# carriage return too, which some programs strip before looking.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# What an xlsx cell cannot hold at all (XML 1.0 forbids these C0 controls; openpyxl refuses
# them with IllegalCharacterError), and lone surrogates, which cannot be encoded.
_NOT_IN_A_CELL = _any_of([(0x00, 0x08), (0x0B, 0x0C), (0x0E, 0x1F), *_SURROGATES])


def xlsx_safe(value: str) -> str:
    """``value`` with the characters an xlsx cell cannot hold written out visibly (``\\x1b``),
    so that a customer named with an escape sequence cannot break the owner's export."""
    return _NOT_IN_A_CELL.sub(lambda found: _escape(found.group()), value)


def spreadsheet_text(value: str) -> str:
    """``value`` as a spreadsheet cell shows it: :func:`xlsx_safe`, and never a live formula
    (a leading ``'``, as a person types it)."""
    value = xlsx_safe(value)
    return "'" + value if value.startswith(FORMULA_START) else value


def json_text(document: object, default: Callable[[Any], object]) -> str:
    """``json.dumps(document, indent=2, ensure_ascii=False, default=default)``, the same text,
    written twice as fast: Python 3.11's C encoder cannot indent, and its Python one runs a
    generator per value (a report by customer is 1.5 million values). A document is a tree
    (no value reached twice on one path; a cycle would end in RecursionError, not ValueError)."""
    # C's, as json.dumps uses (loaded here: a command that writes no JSON does not load json)
    from json.encoder import encode_basestring as _encode_string

    def text(value: Any, pad: str) -> str:
        kind = value.__class__
        if kind is str:
            return _encode_string(value)
        if kind is int:
            return _int(value)
        if value is None or value is True or value is False:
            return _CONSTANTS[value]
        if isinstance(value, str):
            return _encode_string(value)
        if isinstance(value, int):
            return _int(value)
        if isinstance(value, float):
            return _float(value)
        if isinstance(value, list | tuple):
            if not value:
                return "[]"
            inner = pad + "  "
            return f"[{inner}{f',{inner}'.join([text(v, inner) for v in value])}{pad}]"
        if isinstance(value, dict):
            if not value:
                return "{}"
            inner = pad + "  "
            items = [f"{_key(k, _encode_string)}: {text(v, inner)}" for k, v in value.items()]
            return f"{{{inner}{f',{inner}'.join(items)}{pad}}}"
        return text(default(value), pad)

    return text(document, "\n")


_CONSTANTS = {None: "null", True: "true", False: "false"}
_int = int.__repr__


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (math.inf, -math.inf):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


def _key(key: object, encode: Callable[[str], str]) -> str:
    """A dict key as json writes it: text, or a number, a boolean or null as text."""
    if isinstance(key, str):
        return encode(key)
    if isinstance(key, float):
        return f'"{_float(key)}"'
    if key is True or key is False or key is None:
        return f'"{_CONSTANTS[key]}"'
    if isinstance(key, int):
        return f'"{_int(key)}"'
    raise TypeError(f"keys must be str, int, float, bool or None, not {key.__class__.__name__}")
