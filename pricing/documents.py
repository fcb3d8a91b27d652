"""The JSON text every front end writes: what ``--json`` prints and what the server answers.

The results themselves are typed (:mod:`pricing.results`: one pydantic model per result,
declared once); :func:`dumps` writes any of them, or a plain value, the one way: indented,
Unicode kept, dates as ISO 8601, datetimes in UTC with ``Z``, Decimals as strings (exactly
what ``model_dump(mode="json")`` gives), so that the CLI's ``--json`` and a server's answer are
the same text.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pricing.text import json_text


def dumps(document: object) -> str:
    """A document as JSON text, exactly as ``--json`` prints it (without the final newline)."""
    return json_text(document, json_default)  # json.dumps(..., indent=2, ensure_ascii=False)


def json_default(value: object) -> object:
    """A typed result as its JSON form, a Decimal, a datetime or a date as its JSON text
    (json.dumps' ``default``)."""
    if hasattr(value, "model_dump"):  # a typed result (pydantic)
        return value.model_dump(mode="json")
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def jsonable(document: object) -> object:
    """A document as JSON's own values (dicts, lists, strings, numbers, booleans, None): what
    :func:`dumps` writes, not yet as text, for a server's answer, which its framework writes
    (the text written once, not written, read back and written again)."""
    if isinstance(document, dict):
        return {_key(key): jsonable(value) for key, value in document.items()}
    if isinstance(document, list | tuple):
        return [jsonable(value) for value in document]
    if document is None or isinstance(document, str | int | float):
        return document  # (bool is an int)
    return jsonable(json_default(document))


def _key(key: object) -> str:
    """A mapping's key as JSON text has it (json.dumps writes a number's, a boolean's or
    None's in JSON's spelling)."""
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, bool):
        return {None: "null", True: "true", False: "false"}[key]
    return str(key)
