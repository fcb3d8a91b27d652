"""The team server: every operation over HTTP, for people signed in with their token.

Only the server holds the database and the audit's secret. Each call names its person by the
token (``Authorization: Bearer …``); the operation then runs as that person, so every role check
of the core applies (:mod:`pricing.access.authority`). A call without a valid token is refused
(401) before anything is read. ``POST /api/{operation}`` takes ``{"params": {...}}`` as JSON, or,
for operations that take files, a multipart form (the same JSON as the ``request`` field, and
the files); it answers ``{"document": …}`` (``output``: a written file, base64) or
``{"error": {"kind", "message", "detail", "field"}}``. ``/docs`` describes the operations
(a page of the server's own: it loads nothing from elsewhere); OpenAPI is ``/openapi.json``.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request, Security
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pricing import config, limits
from pricing.access import authority, people
from pricing.access.authority import Action
from pricing.errors import (
    DamagedError,
    InputError,
    NotSignedIn,
    PricingError,
    StoreError,
    Unsealed,
)
from pricing.operations import Operation, check_values, load_all, run
from pricing.operations.library import Pricing
from pricing.server import errors
from pricing.server.guard import SignInGuard
from pricing.storage.store import Store

log = logging.getLogger("pricing.server")
USER_HEADER = "X-Pricing-User"


def _model(op: Operation) -> type[BaseModel]:
    """The operation's parameters as a pydantic model (its request body in OpenAPI)."""
    fields: dict[str, Any] = {}
    for parameter in op.parameters():
        if parameter.name in op.files or parameter.name == "output":
            continue
        annotation = parameter.annotation
        default = ... if parameter.default is parameter.empty else parameter.default
        fields[parameter.name] = (annotation, Field(default))
    params = create_model(
        f"{op.name.replace('.', '_').title().replace('_', '')}Params",
        __config__=ConfigDict(extra="forbid"),
        __module__=op.function.__module__,
        **fields,
    )
    return create_model(
        f"{params.__name__}Call",
        __config__=ConfigDict(extra="forbid"),
        params=(params, Field(default_factory=params)),
        names=(dict[str, str], Field(default_factory=dict)),
        output=(str | None, None),
    )


class Server(FastAPI):
    """The FastAPI application, whose OpenAPI says what the server sends: FastAPI declares a
    422 (its ``HTTPValidationError``) on every route with a body, but a call whose body does
    not fit is answered 400 with the error document (declared on each route), so no route
    says 422 and the unused schemas are left out."""

    def openapi(self) -> dict[str, Any]:
        described = super().openapi()
        for path in described.get("paths", {}).values():
            for operation in path.values():
                operation.get("responses", {}).pop("422", None)
        schemas = described.get("components", {}).get("schemas", {})
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        return described


def create_app(url: str | None = None) -> FastAPI:
    """The server over the database at ``url`` (default: the configured one)."""
    store = Store.open(url, create=True)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        from pricing.server.mailer import Mailer

        mailer = Mailer(store)  # the outbox, sent while the server runs
        mailer.start()
        yield
        mailer.stop()
        store.close()

    app = Server(
        title="pricing",
        summary="Standard list pricing, special prices held to guardrails, drift.",
        version=_version(),
        lifespan=lifespan,
        docs_url=None,  # FastAPI's pages load their script from a CDN: /docs is ours (offline)
        redoc_url=None,
    )
    app.state.store = store
    app.add_middleware(BoundedBody)
    operations = load_all()
    needs = {f"/api/{op.name}": op.needs for op in operations.values() if op.needs}
    heavy = {f"/api/{op.name}" for op in operations.values() if op.files}
    guard = SignInGuard()
    running = Running()
    _remove_stale_copies()
    _record_rotation(store)

    @app.exception_handler(PricingError)
    async def pricing_error(_request: Request, exc: PricingError) -> JSONResponse:
        return errors.error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return errors.error_response(errors.invalid(exc.errors()))

    @app.exception_handler(HTTPException)
    async def not_offered(request: Request, exc: HTTPException) -> JSONResponse:
        return errors.http_error(request, exc)

    @app.middleware("http")
    async def signed_in(request: Request, call_next: Any) -> Any:
        """Every call under /api/ but the health check names its person by a valid token,
        checked before anything else of the call is read (a call without one is a 401 even
        when its body is malformed or its operation unknown); an operation whose role the
        person lacks (:attr:`Operation.needs`) is refused (403) then too, before a byte of
        its upload is received."""
        path = request.url.path
        if not path.startswith("/api/") or path == "/api/health":
            return await call_next(request)
        from starlette.concurrency import run_in_threadpool

        address = request.client.host if request.client else "unknown"
        wait = guard.locked(address)
        if wait:
            return _unread(request, _too_many(
                f"too many failed sign-ins from your address: try again in {wait} s", wait))  # fmt: skip
        try:
            user = await run_in_threadpool(_person, store, request, needs.get(path))
        except _WrongToken as exc:
            guard.failed(address, str(request.headers.get(USER_HEADER) or ""))
            return _unread(request, errors.error_response(exc))
        except PricingError as exc:
            return _unread(request, errors.error_response(exc))
        except (OperationalError, InterfaceError) as exc:
            error = StoreError(f"database: {exc.__class__.__name__}: {exc}")
            return _unread(request, errors.error_response(error))
        request.state.user = user
        if path not in heavy or not _multipart(request):
            return await call_next(request)
        if not running.enter(user):
            return _unread(request, _too_many(
                f"{user}, you have {running.most} uploads running on this server already: "
                "wait for them to finish, then send this one again", 10))  # fmt: skip
        try:
            return await call_next(request)
        finally:
            running.leave(user)

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    async def unavailable(_request: Request, exc: Exception) -> JSONResponse:
        return errors.error_response(StoreError(f"database: {exc.__class__.__name__}: {exc}"))

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return errors.problem(500, "server", "the server failed on this call (a bug); its log has "
                        "the details")  # fmt: skip

    @app.get(
        "/api/health",
        response_model=errors.Health,
        response_model_exclude_none=True,
        responses={503: {"model": errors.Health, "description": "The store does not answer"}},
    )
    def health() -> errors.Health | JSONResponse:
        """200 ``ok`` when the store answers, else 503 ``unavailable`` (a load balancer or a
        monitor then knows; the log has why)."""
        try:
            with store.read() as conn:
                conn.exec_driver_sql("SELECT 1")
        except (PricingError, SQLAlchemyError) as exc:
            log.warning("health check: the store does not answer: %s", exc)
            down = errors.Health(status="unavailable", message=errors.UNAVAILABLE)
            return JSONResponse(down.model_dump(mode="json"), 503)
        return errors.Health(status="ok")

    page = _docs_page(app.title, app.version, operations)

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        """The operations, their parameters and how to call them: one page of the server's
        own, that loads nothing from anywhere (it works offline, and behind any proxy)."""
        return HTMLResponse(page, headers={"Content-Security-Policy": DOCS_POLICY})

    for op in operations.values():
        _route(app, store, op)
    from pricing.server import pages

    pages.mount(app, store)
    return app


DOCS_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


def _docs_page(title: str, version: str, operations: dict[str, Operation]) -> str:
    """``/docs``: every operation with its summary, parameters, files and the role it needs,
    written from the same registry the routes are made from (never a second description)."""
    from html import escape

    rows = []
    for op in sorted(operations.values(), key=lambda op: op.name):
        params = []
        for parameter in op.parameters():
            if parameter.name == "output" and op.output:
                continue
            kind = "file" if parameter.name in op.files else str(parameter.annotation)
            optional = parameter.default is not parameter.empty
            default = f" = {parameter.default!r}" if optional else " (required)"
            params.append(f"<li><code>{escape(parameter.name)}</code>: {escape(kind)}"
                          f"{escape(default)}</li>")  # fmt: skip
        notes = []
        if op.output:
            notes.append('writes a file: give its name as <code>"output"</code>; it comes back '
                         'base64 in <code>"output"</code>')  # fmt: skip
        if op.needs:
            notes.append(f"needs a role that may {escape(op.needs)}")
        rows.append(
            f'<h3 id="{escape(op.name)}"><code>POST /api/{escape(op.name)}</code></h3>'
            f"<p>{escape(op.summary)}</p><ul>{''.join(params) or '<li>no parameters</li>'}</ul>"
            + "".join(f"<p><em>{note}</em></p>" for note in notes)
        )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)} '
        f"API</title><style>body{{font:15px/1.5 system-ui,sans-serif;max-width:52em;margin:2em "
        f"auto;padding:0 1em}}code{{background:#f3f3f3;padding:0 .2em}}h3{{margin-top:1.6em}}"
        f"</style></head><body><h1>{escape(title)} {escape(version)}: the API</h1>"
        "<p>Every call but <code>GET /api/health</code> carries the person's token: "
        "<code>Authorization: Bearer prc_…</code>. A call is <code>POST /api/OPERATION</code> "
        'with <code>{"params": {…}}</code> as JSON, or, with a file, a multipart form: that '
        "JSON as the <code>request</code> field and the file under its parameter's name. The "
        'answer is <code>{"document": …}</code> or <code>{"error": {"kind", "message", '
        '"detail", "field"}}</code>. The machine-readable description is '
        '<a href="/openapi.json">/openapi.json</a>.</p>' + "".join(rows) + "</body></html>"
    )


# The file an operation takes is read by its importer within that importer's size bound: a call
# carrying a larger one is refused as it arrives, not spooled to disk (twice) and then refused.
# Without this, any signed-in rep could make the server write PRICING_MAX_UPLOAD_MB (4 GB) per
# call to its temporary folder, as often as they liked, for a lines file read up to 20 MB.
_FILE_BOUNDS: dict[str, limits.Limit] = {
    "requests.submit": limits.LINES_FILE,
    "requests.change": limits.LINES_FILE,
    "pricebook.import": limits.PRICE_BOOK_FILE,
    "deals.import": limits.DEALS_FILE,
    "policy.check": limits.POLICY_FILE,
    "policy.load": limits.POLICY_FILE,
    "policy.simulate": limits.POLICY_FILE,
}


class _TooLarge(Exception):
    """A call's body went past its bound while it was being received."""


class _Stalled(Exception):
    """A call's body stopped arriving (nothing for ``PRICING_BODY_TIMEOUT`` seconds)."""


BODY_TIMEOUT = "PRICING_BODY_TIMEOUT"  # seconds a call's body may pause before it is cut off


class BoundedBody:
    """Refuse (413) a call whose body exceeds :data:`pricing.limits.UPLOAD` (with files: no
    more than the operation's own file bound, :data:`_FILE_BOUNDS`) or
    :data:`pricing.limits.CALL_BODY` (parameters only), from its Content-Length before anything
    is read, and by counting as it arrives when the length is not declared (chunked): the
    server never spools more than its bound to memory or disk."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.stall = config.seconds(BODY_TIMEOUT, 30.0)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        multipart = headers.get(b"content-type", b"").startswith(b"multipart/form-data")
        bound = limits.UPLOAD if multipart else limits.CALL_BODY
        most = bound.value
        own = _FILE_BOUNDS.get(str(scope.get("path", "")).removeprefix("/api/"))
        if multipart and own is not None and own.value + limits.CALL_BODY.value < most:
            bound, most = own, own.value + limits.CALL_BODY.value  # the file, and its call
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > most:
            await self._refuse(bound, send)
            return
        received = 0
        started = whole = False

        async def counted() -> Message:
            nonlocal received, whole
            if whole:  # the body is in: what comes now is the client leaving, whenever it does
                return await receive()
            try:
                async with asyncio.timeout(self.stall):
                    message = await receive()
            except TimeoutError:
                raise _Stalled from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                whole = not message.get("more_body", False)
                if received > most:
                    raise _TooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if not started:
                await self._refuse(bound, send)
        except _Stalled:
            log.warning("a call's body stalled for %g s: cut off", self.stall)
            if not started:
                message = (f"the call's body stopped arriving for {self.stall:g} s: it was cut "
                           "off and nothing was stored; send it again")  # fmt: skip
                stalled = errors.problem(408, "input", message, headers={"Connection": "close"})
                await stalled({"type": "http"}, _no_body, send)

    @staticmethod
    async def _refuse(bound: limits.Limit, send: Send) -> None:
        raise_it = (
            f"; the server's administrator can raise it with {bound.env}=N ({bound.unit})"
            if bound.env
            else ""
        )
        message = (
            f"the call is larger than this server takes: {bound.what} over the limit of "
            f"{bound.shown()}{raise_it}; nothing was stored"
        )
        await errors.problem(413, "input", message)({"type": "http"}, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


def _version() -> str:
    from pricing import __version__

    return __version__


class _WrongToken(NotSignedIn):
    """A token that signs nobody in (wrong, or revoked): a failed sign-in."""


class Running:
    """The calls with an upload each person has running: at most :attr:`most` at once, so that
    one person cannot fill the server with imports (each can cost seconds of its CPU)."""

    most = 2

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    def enter(self, user: str) -> bool:
        if self.calls.get(user, 0) >= self.most:
            return False
        self.calls[user] = self.calls.get(user, 0) + 1
        return True

    def leave(self, user: str) -> None:
        left = self.calls.get(user, 1) - 1
        if left:
            self.calls[user] = left
        else:
            self.calls.pop(user, None)


def _multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").startswith("multipart/form-data")


def _too_many(message: str, wait: int) -> JSONResponse:
    return errors.problem(429, "server", message, headers={"Retry-After": str(wait)})


def _unread(request: Request, response: JSONResponse) -> JSONResponse:
    """A refusal of a call whose body is not read: the connection is closed after it, so that
    the rest of the body (a 400 MB upload) is not received at all, not even to be dropped."""
    headers = request.headers
    if headers.get("content-length", "0") != "0" or "transfer-encoding" in headers:
        response.headers["Connection"] = "close"
    return response


def _person(store: Store, request: Request, needs: Action | None = None) -> str:
    """The signed-in person's name; 401 for a missing, wrong or revoked token, 400 for a
    ``--user`` that names someone else, 403 for a role that does not allow ``needs``."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotSignedIn("sign in: this server needs your personal token (PRICING_TOKEN)")
    try:
        person = people.sign_in(store, token.strip())
    except Unsealed as exc:
        log.warning("sign-in refused for %r: their row in the database %s", exc.name, exc.why)
        raise
    if person is None:
        raise _WrongToken(
            "your token is wrong or was revoked: ask the owner for a new one "
            "(`pricing people reset NAME`), then sign in again"
        )
    claimed = request.headers.get(USER_HEADER)
    if claimed and claimed.strip().casefold() != person.name.casefold():
        raise InputError(
            f" {claimed!r}: you are signed in as {person.name}; you can act only as yourself",
            field="user",
        )
    if needs is not None:
        authority.require_signed_in(store, person, needs)
    return person.name


# The token, as OpenAPI shows it. The check itself runs before the call's body is read (the
# ``signed_in`` middleware of :func:`create_app`: a rep's 400 MB upload is refused unread);
# this dependency hands the route the person that check signed in.
BEARER = HTTPBearer(
    scheme_name="token",
    description="The person's token (`prc_…`), from `pricing people add` or `reset`",
    auto_error=False,
)


def signed_in_person(
    request: Request, _token: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)]
) -> str:
    """The person the call's token signed in (set by the sign-in check before the body)."""
    user: str = request.state.user
    return user


SignedIn = Annotated[str, Depends(signed_in_person)]


def _answer_model(op: Operation) -> type[BaseModel]:
    """The answer's schema, through which FastAPI writes it: the method's result as
    ``document``, and, for an operation that writes a file, that file (base64) as ``output``
    (left out when none was written)."""
    name = op.name.replace(".", "_").title().replace("_", "")
    return create_model(
        f"{name}Answer",
        document=(op.result(), ...),
        output=(str | None, Field(None, exclude_if=lambda value: value is None)),
    )


def _route(app: FastAPI, store: Store, op: Operation) -> None:
    body_model = _model(op)

    def caller(name: str) -> Pricing:
        return Pricing(user=name, store=store)

    if not op.files:

        def endpoint(call: body_model, user: SignedIn) -> dict[str, Any]:  # type: ignore[valid-type]
            return _run(op, caller(user), call.model_dump())  # type: ignore[attr-defined]

    else:

        async def endpoint(  # type: ignore[misc]
            request: Request, user: SignedIn
        ) -> dict[str, Any]:
            # No file given: the client sends the call as JSON, like any other operation.
            form = None
            try:
                if request.headers.get("content-type", "").startswith("multipart/form-data"):
                    form = await request.form()
                    raw: str | bytes = str(form.get("request") or "{}")
                else:
                    raw = await request.body() or b"{}"
                try:
                    call = body_model.model_validate_json(raw)
                except ValidationError as exc:
                    raise errors.invalid(exc.errors()) from None
                with _uploads(form, op) as saved:
                    from starlette.concurrency import run_in_threadpool

                    values = call.model_dump()
                    values["params"].update({k: path for k, (path, _) in saved.items()})
                    return await run_in_threadpool(_run, op, caller(user), values, saved)
            finally:
                if form is not None:
                    await form.close()  # the received copies, whatever the answer

    if not op.files:
        # This module's annotations are strings (PEP 563): FastAPI needs the model itself.
        endpoint.__annotations__["call"] = body_model
    endpoint.__name__ = op.name.replace(".", "_")
    app.post(
        f"/api/{op.name}",
        summary=op.summary,
        name=op.name,
        response_model=_answer_model(op),  # what the endpoint returns is written through it
        responses=errors.error_answers(op),
        openapi_extra=None if not op.files else _upload_schema(op, body_model),
    )(endpoint)


def _upload_schema(op: Operation, body_model: type[BaseModel]) -> dict[str, Any]:
    """The multipart form of an operation that takes files: the call as JSON in ``request``,
    each file under its parameter's name (the route reads the form itself, so that nothing is
    received before the sign-in and the size bound have been checked)."""
    properties: dict[str, Any] = {
        "request": {"type": "string", "description": f"The call as JSON: {body_model.__name__}"}
    }
    for name in op.files:
        properties[name] = {"type": "string", "format": "binary"}
    return {
        "requestBody": {
            "content": {
                "multipart/form-data": {"schema": {"type": "object", "properties": properties}},
                "application/json": {"schema": body_model.model_json_schema()},
            }
        }
    }


@contextmanager
def _uploads(form: Any | None, op: Operation) -> Iterator[dict[str, tuple[Path, str]]]:
    """The uploaded files, each saved under its own name in a folder of its own."""
    folder = Path(tempfile.mkdtemp(prefix=_copies("upload")))
    try:
        saved: dict[str, tuple[Path, str]] = {}
        for name in op.files:
            upload = form.get(name) if form is not None else None
            if upload is None or not hasattr(upload, "filename"):
                continue
            filename = _file_name(upload.filename or "upload", name) or "upload"
            path = folder / name / filename
            path.parent.mkdir()
            with path.open("wb") as out:
                shutil.copyfileobj(upload.file, out, 1 << 20)
            saved[name] = (path, filename)
        yield saved
    finally:
        shutil.rmtree(folder, ignore_errors=True)


NAME_BYTES = 255  # what a file name may hold on the server's disk (and on most others)


def _file_name(given: str, field: str) -> str:
    """The last part of a file name a client sent, as the server can write it ('' when there
    is none: ``..``); one longer than a disk takes is refused, named (400), never a 500."""
    name = Path(given.replace("\x00", "")).name
    if name in ("", ".", ".."):
        return ""
    size = len(name.encode("utf-8", "surrogatepass"))
    if size > NAME_BYTES:
        shown = name[:40] + "…" + name[-12:]
        raise InputError(
            f" {shown!r}: a file name of {len(name):,} characters ({size:,} bytes) is longer "
            f"than a file name may be ({NAME_BYTES} bytes); rename the file and send it again",
            field=field,
        )
    return name


def _copies(kind: str) -> str:
    """The prefix of this process's temporary folders of ``kind``: its id in their name lets
    a server starting later remove what a killed one left (:func:`_remove_stale_copies`)."""
    return f"pricing-{kind}-{os.getpid()}-"


def _record_rotation(store: Store) -> None:
    """A secret rotated since the chain's newest entry is recorded before anyone is answered:
    from then on an entry keyed with the old secret signs nobody in. A chain that does not
    hold (its newest entry's secret unknown, or cut back against its witness) leaves the
    server running, its log saying why; every change is refused for the same reason."""
    from pricing.storage import audit

    try:
        number = audit.record_rotation(store)
    except DamagedError as exc:
        log.error("the rotation of the audit's secret is not recorded: %s", exc)
        return
    if number is not None:
        log.warning("the audit's secret was rotated: recorded as entry %d", number)


def _remove_stale_copies() -> None:
    """Remove the upload and output folders left in the temporary folder by a server process
    that no longer runs (killed with -9, or the host lost power): a folder of a process that
    still runs (another worker of this host) is its own and left alone."""
    pattern = re.compile(r"pricing-(?:upload|output)-(\d+)-")
    for folder in Path(tempfile.gettempdir()).glob("pricing-*-*-*"):
        found = pattern.match(folder.name)
        if found is None or not folder.is_dir() or folder.is_symlink():
            continue
        pid = int(found.group(1))
        if pid == os.getpid() or _running(pid):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        log.info("removed %s, left by server process %d that no longer runs", folder, pid)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's process (or not a process id): not ours to judge
    return True


def _run(
    op: Operation,
    caller: Pricing,
    call: dict[str, Any],
    saved: dict[str, tuple[Path, str]] | None = None,
) -> dict[str, Any]:
    """Run the operation. A file it writes goes to a copy of the server's own: the result's
    fields that hold its path (:data:`pricing.results.common.Written`) answer with the name the
    client gave instead. An error's message names the files as the client did (a problem says
    ``book.xlsx``, not a temporary folder)."""
    from pricing.results.common import written_as

    params = dict(call["params"])
    for parameter in op.parameters():
        required = parameter.name in op.files and parameter.default is parameter.empty
        if required and not (saved and parameter.name in saved):
            raise InputError(f": send the {parameter.name} (a file) with this call",
                             field=parameter.name)  # fmt: skip
    names: dict[str, str] = call.get("names") or {}
    answer: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix=_copies("output")) as folder:
        ours = {str(path): names.get(key, path.name) for key, (path, _) in (saved or {}).items()}
        output = None
        if op.output and call.get("output"):
            shown = _file_name(str(call["output"]), "output")
            if not shown:
                raise InputError(f" {call['output']!r}: name the file to write", field="output")
            output = Path(folder) / shown
            params["output"] = output
            ours[str(output)] = call["output"]
        try:
            check_values(params)
            document = run(op, caller, params)
        except InputError as exc:
            raise InputError(_as_named(exc.detail, ours), field=exc.field) from None
        except PricingError as exc:
            raise type(exc)(_as_named(str(exc), ours)) from None
        if output is not None:
            document = written_as(document, str(output), str(call["output"]))
            if output.exists():
                answer["output"] = base64.b64encode(output.read_bytes()).decode("ascii")
        answer["document"] = document  # typed: written once, by the route's response model
    return answer


def _as_named(text: str, ours: dict[str, str]) -> str:
    for path, shown in ours.items():
        text = text.replace(path, shown)
    return text
