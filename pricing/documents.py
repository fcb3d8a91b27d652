"""The JSON text every front end writes: what ``--json`` prints and what the server answers.

The results themselves are typed (:mod:`pricing.results`: one pydantic model per result,
declared once); :func:`dumps` writes any of them, or a plain value, the one way: indented,
Unicode kept, dates as ISO 8601, datetimes in UTC with ``Z``, Decimals as strings (exactly
what ``model_dump(mode="json")`` gives), so that the CLI's ``--json`` and a server's answer
(written by its routes' response models from the same results) are the same document.
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
