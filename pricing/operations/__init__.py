"""The library object: :class:`pricing.Pricing`, whose methods are the operations.

Every front end stands on it. ``pricing.open(url, user=...)`` (embedded: the database at
``url``) or ``pricing.open(server_url, token=...)`` (client mode: the team's server) returns the
same object, and each method is one command of the CLI, with keyword arguments::

    with pricing.open("sqlite:///shop.db", user="dana") as p:
        p.import_price_book("book.xlsx", effective="2026-01-01")
        rep = p.report(by=["rep"])

A method is written once, as the embedded operation (the body runs over the store, as the
acting person); :func:`operation` registers it under its name on the wire
(``requests.submit``) and makes the same method, on an object opened on a server, send the
call there instead. The server (:mod:`pricing.server`) routes each registered operation to
the method of an object opened on its store as the signed-in person. So the CLI, a Python
script and the server run one code path, and a call can be followed by reading: the CLI calls
``p.request(...)``, whose body calls the core.

Input files are parameters named in ``files``: in client mode the file is uploaded and the
server passes the path of its copy. An operation that writes a file takes it as ``output``;
the server writes to a copy and sends it back, and a result that names the file does so in a
field typed :data:`pricing.results.common.Written`, which the server maps to the name the
client gave. What the method needs of its caller's role
whatever the call says (``needs``) is decided by the server from the token alone, before it
reads a byte of the call's body.

Whether a method runs here or on the server is decided in one place, by the session: a
session opened on a server sends every call there, except an operation declared ``local``
(it works on a database of this host, which a server's client does not hold: ``db status``),
which it refuses, saying why; no server serves those (:func:`load_all`).
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pricing.errors import InputError

if TYPE_CHECKING:
    from types import TracebackType

    from pricing.access.authority import Action
    from pricing.config import Login
    from pricing.storage.store import Store

Document = Any  # a JSON value: a dict or a list of them (pricing.documents)
Progress = Callable[[int, int], None]
F = TypeVar("F", bound=Callable[..., Any])
S = TypeVar("S", bound="Session")

# How an operation opens the store: only what is there ("existing"; a missing SQLite file is
# an error), starting a new one if need be ("create": the operations that bring data in), or
# for a dry run of those ("dry-run": where nothing is stored yet, an empty one in memory).
OpenMode = Literal["existing", "create", "dry-run"]


class Session:
    """Who is acting, on which store (embedded) or server (``login``: client mode).

    The store is opened on first use, so that an operation that fails on its input first
    opens no database; ``create`` lets the operations that bring data in start a new one, and
    their dry runs never do. ``progress`` is told how far a long import or check has gone.
    A session opened on a store it was given (the server's) leaves that store open."""

    def __init__(
        self,
        url: str | None = None,
        *,
        user: str | None = None,
        login: Login | None = None,
        store: Store | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.url = url
        self.login = login
        self.progress = progress
        self._user = user
        self._store = store
        self._owned = store is None
        self.requiring: Action | None = None  # the running operation's action, not checked yet
        # Client mode on the sign-in `pricing login` kept (its token read from there): a new
        # token of the caller's own is kept there in its place (pricing.operations.people).
        self.keeps_login = False

    @property
    def user(self) -> str:
        """Who acts: the name given, else ``PRICING_USER``, else the login name (in client
        mode the server decides from the token; this is only the name claimed)."""
        from pricing import config

        return config.acting_user(self._user)

    @property
    def claimed(self) -> str | None:
        """The name a client claims (``--user`` or ``PRICING_USER``; the token decides)."""
        from pricing import config

        return self._user or config.user()

    def store(self, *, create: bool = False, dry_run: bool = False) -> Store:
        """The database (embedded mode), opened on first use."""
        if self._store is None:
            from pricing import api

            self._store = api.open_store(self.url, create=create, dry_run=dry_run)
        if self.requiring is not None:
            from pricing.access.authority import authorize

            action, self.requiring = self.requiring, None
            authorize(self._store, self.user, action)
        return self._store

    def refuse_if_client(self, why: str) -> None:
        """In client mode, refuse (an :class:`InputError`) what works only on a database of
        this host: ``why`` says where to run it instead, and the refusal names the server."""
        if self.login is None:
            return
        from pricing import config

        raise InputError(
            f"{why} (client mode is on: {self.login.server}, from {config.SERVER} or "
            "`pricing login`)"
        )

    def close(self) -> None:
        """Close the database this session opened (never one it was given)."""
        if self._owned and self._store is not None:
            self._store.close()
            self._store = None

    def __enter__(self: S) -> S:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


@dataclass(frozen=True)
class Operation:
    """One operation: its name on the wire (``requests.approve``), the method (``function``,
    the embedded body), the parameters that are input files, whether it writes an ``output``
    file, the action its caller's role must allow whatever the call says (``needs``), and
    for a ``local`` one (served by no server) why it runs only here. A client sends the name
    it claims (``--user``) with each call unless ``claims_user`` is false (``whoami`` asks
    who the token is), and hands a server's answer to ``answered`` when one is declared."""

    name: str
    function: Callable[..., Any]
    files: tuple[str, ...] = ()
    output: bool = False
    summary: str = ""
    needs: Action | None = None
    needs_when: tuple[str, Action] | None = None
    local: str | None = None
    claims_user: bool = True
    answered: Callable[[Any, Any], Any] | None = None

    def action(self, params: dict[str, Any]) -> Action | None:
        """What the caller's role must allow for this call: ``needs``, or the action of
        ``needs_when`` (``("impact", "report")``) when that parameter is set."""
        if self.needs_when is not None and params.get(self.needs_when[0]):
            return self.needs_when[1]
        return self.needs

    @property
    def method(self) -> str:
        """The method's name on :class:`pricing.Pricing` (``approve``)."""
        return self.function.__name__

    def parameters(self) -> list[inspect.Parameter]:
        """The operation's parameters (after ``self``)."""
        return list(inspect.signature(self.function).parameters.values())[1:]

    def result(self) -> Any:
        """The type the method answers with (its return annotation, resolved). Modules of
        operations name their results through :mod:`pricing.results` (``results.requests.
        RequestResult``), which imports a domain's models when first named: here, when a client
        or the server first needs them, so that loading the library loads no pydantic."""
        import typing

        return typing.get_type_hints(self.function)["return"]

    def answer(self, document: Any) -> Any:
        """A server's answer (JSON) as the typed result the method returns here."""
        kind = self.result()
        if kind is Any:
            return document
        from pydantic import TypeAdapter

        return TypeAdapter(kind).validate_python(document)


class lazy_module:
    """A module imported when one of its names is first used, not when this one is: the
    operations' modules name the core's entry points (:mod:`pricing.api`: 35 M instructions
    to import) but a command in client mode, or one whose answer is a refusal, never calls
    them. Each use looks the name up in the module again (a test's monkeypatch holds)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)


REGISTRY: dict[str, Operation] = {}


def operation(
    name: str,
    *,
    files: tuple[str, ...] = (),
    output: bool = False,
    needs: Action | None = None,
    needs_when: tuple[str, Action] | None = None,
    local: str | None = None,
    claims_user: bool = True,
    answered: Callable[[Any, Any], Any] | None = None,
) -> Callable[[F], F]:
    """Make a method of :class:`pricing.Pricing` the operation ``name`` (see :class:`Operation`):
    on a session opened on a server the call is sent there, else the body runs here.

    ``needs`` (or ``needs_when`` a parameter is set) is the one place that says who may call
    it: the action the caller's role must allow (:data:`pricing.access.authority.MAY`),
    checked when the body first opens the store (so a file with errors is refused for what it
    is, before anyone's role is looked at) and, on the server, from the token before the
    call's body is read.

    ``local`` is the one place that says an operation works only on a database of this host
    (``why``: where to run it instead): a session opened on a server refuses it with that
    reason, and no server serves it. ``claims_user=False``: a client sends no name of its own
    with the call. ``answered(session, result)``: what a client does with the server's
    answer (it returns the result the method answers with)."""

    def register(function: F) -> F:
        summary = (function.__doc__ or "").strip().split("\n")[0]
        op = Operation(
            name, function, files, output, summary, needs, needs_when, local=local,
            claims_user=claims_user, answered=answered,
        )  # fmt: skip
        REGISTRY[name] = op
        signature = inspect.signature(function)

        @functools.wraps(function)
        def call(self: Session, /, *args: Any, **kwargs: Any) -> Any:
            try:
                bound = signature.bind(self, *args, **kwargs)
            except TypeError as exc:
                raise TypeError(f"{function.__name__}(): {exc}") from None
            params = dict(bound.arguments)
            del params["self"]
            params = _coerced(op, params)
            check_values(params)
            return _dispatch(self, op, params)

        call.operation = op  # type: ignore[attr-defined]
        return call  # type: ignore[return-value]

    return register


def _coerced(op: Operation, params: dict[str, Any]) -> dict[str, Any]:
    """What a script may pass as text in the types the method takes: a date as ``YYYY-MM-DD``
    (refused naming the parameter when it is not one), a file as a ``str`` path."""
    hints = {p.name: str(p.annotation) for p in op.parameters()}
    for key, value in params.items():
        if not isinstance(value, str):
            continue
        if "date" in hints.get(key, "") and "str" not in hints[key]:
            params[key] = day(value, key)
        elif key in op.files or (key == "output" and op.output):
            params[key] = Path(value)
    return params


def _dispatch(session: Session, op: Operation, params: dict[str, Any]) -> Any:
    """Run the operation here, or send it to the server in client mode; either way the answer
    as JSON carries it (dates and Decimals as text), exactly what a server answers."""
    from pricing.io.names import openable

    if op.local is not None:
        session.refuse_if_client(op.local)
    given = {k: v for k in op.files if (v := params.pop(k, None)) is not None}
    with openable(given) as usable:  # a file name that is not UTF-8 reads too
        if session.login is not None:
            from pricing import client

            output = params.pop("output", None)
            answer = client.call(
                session.login, op.name, _plain(params), files=usable,
                user=session.claimed if op.claims_user else None, output=output,
            )  # fmt: skip
            result = op.answer(answer)
            return result if op.answered is None else op.answered(session, result)
        return run(op, session, {**params, **usable})


def run(op: Operation, session: Session, params: dict[str, Any]) -> Any:
    """The embedded body of ``op`` over ``session``: its typed result (a pydantic model, or a
    list of them). The action it needs is checked when the body first opens the store."""
    session.requiring = op.action(params)
    try:
        return op.function(session, **params)
    finally:
        session.requiring = None


def _plain(value: Any) -> Any:
    """A parameter as JSON carries it to the server (dates and Decimals as text)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, date | Decimal | Path):
        return str(value)
    return value


def day(text: str | None, field: str) -> date | None:
    """A ``YYYY-MM-DD`` parameter as a date (None stays None)."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f": {text!r} is not a date (YYYY-MM-DD)", field=field) from None


def load_all(*, local: bool = False) -> dict[str, Operation]:
    """Every operation a server serves: the methods of :class:`pricing.Pricing` (``local``:
    with those that work only on a database of this host, which no server serves)."""
    from pricing.operations.library import Pricing  # noqa: F401  (registers them all)

    return {name: op for name, op in REGISTRY.items() if local or op.local is None}


def find(name: str) -> Operation:
    """The operation ``name`` (``requests.approve``)."""
    operations = load_all(local=True)
    if name not in operations:
        raise KeyError(name)
    return operations[name]


INT_RANGE = 2**31 - 1  # numbers, identifiers and quantities fit the database's integers


def check_values(value: object, where: str = "") -> None:
    """Refuse what no operation takes and a database could choke on, from any front end: NUL
    characters in text, text that is not Unicode (a command-line argument of bytes that are not
    UTF-8 arrives with lone surrogates), whole numbers beyond the database's integers."""
    if isinstance(value, str) and "\x00" in value:
        raise _refused(where, "a NUL character is not allowed in text")
    if isinstance(value, str) and not _unicode(value):
        raise _refused(where, "is not UTF-8 text; type it again or check the terminal's encoding")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > INT_RANGE:
        raise _refused(where, f"{value} is out of range (at most {INT_RANGE:,})")
    if isinstance(value, dict):
        for key, item in value.items():
            check_values(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for position, item in enumerate(value, 1):
            check_values(item, f"{where}.{position}")


def _refused(where: str, why: str) -> InputError:
    """The error naming the parameter (``sku``) and, inside it, the place (``lines`` ``2.sku``)."""
    if not where:
        return InputError(f"text: {why}")
    field, _, inside = where.partition(".")
    return InputError((f" {inside}" if inside else "") + f": {why}", field=field)


def _unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
