"""The server's answers when a call is refused or fails: one error document (:class:`ErrorAnswer`)
for every status, whatever refused it (the core's error, the sign-in, the framework's own 404
and 405), and what OpenAPI declares of them; and the health check's answer. Apart from the
routes (:mod:`pricing.server.app`) so that what a client may be told is read in one place."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from pricing.errors import (
    DamagedError,
    InputError,
    NotFoundError,
    NotSignedIn,
    PricingError,
    Refused,
    ServerError,
    StoreBusy,
    StoreError,
)
from pricing.operations import Operation

log = logging.getLogger("pricing.server")
Kind = Literal["input", "not_found", "refused", "server", "store"]  # of an error, to a client
KINDS: list[tuple[type[PricingError], Kind, int]] = [
    (InputError, "input", 400),
    (NotFoundError, "not_found", 404),
    (Refused, "refused", 403),
    (NotSignedIn, "server", 401),
    (ServerError, "server", 500),
    (PricingError, "store", 503),
]


# What a client is told when the database fails: never its address, user or name, nor a setting
# of the server (the server's log has the whole message, for its administrator).
UNAVAILABLE = "the store is unavailable; try again later (the server's log says why)"
BUSY = "the store is busy; try again in a moment (nothing was changed)"


class Problem(BaseModel):
    """What went wrong with a call: its kind (the client raises the core's error of that kind
    again), the message people read, and for an input the part it names (``detail``) and the
    parameter (``field``)."""

    kind: Kind
    message: str
    detail: str | None = None
    field: str | None = None


class ErrorAnswer(BaseModel):
    """The one answer of every refused or failed call, whatever its status: a call's own
    error, a refused sign-in, a body too large or too slow, a path or a method the server does
    not have."""

    error: Problem


def problem(
    status: int,
    kind: Kind,
    message: str,
    *,
    detail: str | None = None,
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """The error document (:class:`ErrorAnswer`) with its status: the one way every error
    the server sends is written. An input's ``detail`` is its message when it names no
    ``field`` (what the client raises again as the core's :class:`InputError`); any other
    error is its kind and its message alone."""
    if kind == "input" and detail is None and field is None:
        detail = message
    answer = ErrorAnswer(error=Problem(kind=kind, message=message, detail=detail, field=field))
    document = answer.model_dump(mode="json", exclude_none=kind != "input")
    return JSONResponse(document, status_code=status, headers=headers)


def http_error(request: Request, exc: HTTPException) -> JSONResponse:
    """What the framework refuses itself, as the error document: a path the server does not
    have (404), a method a path is not called with (405), a form it cannot read (400)."""
    path, status = request.url.path, exc.status_code
    if status == 404:
        name = path.removeprefix("/api/")
        said = (
            f"this server has no operation {name!r} (is it an older version of pricing?); "
            "/docs lists the operations it has"
            if path.startswith("/api/")
            else f"there is nothing at {path}: the operations are POST /api/OPERATION, "
            "listed at /docs"
        )
        return problem(404, "not_found", said, headers=exc.headers)
    if status == 405:
        allowed = (exc.headers or {}).get("Allow")
        said = f"{path} is not called with {request.method}" + (
            f": it takes {allowed}" if allowed else ""
        )
        return problem(405, "input", said, headers=exc.headers)
    said = f"the call cannot be read: {exc.detail}" if status < 500 else str(exc.detail)
    return problem(status, "input" if status < 500 else "server", said, headers=exc.headers)


class Health(BaseModel):
    """``GET /api/health``: ``ok`` when the store answers, else ``unavailable`` and why, as
    people are told (never the database's address)."""

    status: Literal["ok", "unavailable"]
    message: str | None = None


def error_response(exc: PricingError) -> JSONResponse:
    if isinstance(exc, StoreError) and not isinstance(exc, DamagedError):
        log.warning("the store failed a call: %s", exc)
        return problem(503, "store", BUSY if isinstance(exc, StoreBusy) else UNAVAILABLE)
    for kind, name, status in KINDS:
        if isinstance(exc, kind):
            if isinstance(exc, InputError):
                return problem(status, name, str(exc), detail=exc.detail, field=exc.field)
            return problem(status, name, str(exc))
    raise AssertionError("unreachable")  # pragma: no cover


def invalid(errors: Sequence[Any]) -> InputError:
    """A call whose parameters do not fit the operation, said in one line."""
    first = errors[0] if errors else {}
    where = ".".join(str(part) for part in first.get("loc", ()) if part not in ("body", "params"))
    return InputError(
        f"the call's parameters are not valid: {where}: {first.get('msg', 'invalid')}"
    )


# What each status of a refused or failed call means: every one of them is an ErrorAnswer.
ERROR_STATUSES: dict[int, str] = {
    400: "The call's input is wrong (named), its body malformed or its parameters unknown",
    401: "No token, or one that signs nobody in",
    403: "The person's role does not allow it, or a business no (an approval refused)",
    404: "What the call names does not exist",
    408: "The call's body stopped arriving (PRICING_BODY_TIMEOUT)",
    413: "The call is larger than the server takes",
    429: "Too many failed sign-ins, or uploads running",
    500: "The server failed on the call (a bug; its log has the details)",
    503: "The store is unavailable or busy",
}
# The operations that name nothing stored (no request, person, edition, policy version,
# import, SKU or rate, nor the price book or policy in force): they never answer 404.
NAMES_NOTHING = frozenset({
    "audit.head", "audit.verify", "db.check", "deals.imports", "people.list", "people.whoami",
    "pricebook.editions", "policy.check",
})  # fmt: skip


def error_answers(op: Operation) -> dict[int | str, dict[str, Any]]:
    """The error statuses ``op`` can answer with, each with the one error document."""
    return {
        status: {"model": ErrorAnswer, "description": description}
        for status, description in ERROR_STATUSES.items()
        if not (status == 404 and op.name in NAMES_NOTHING)
    }
