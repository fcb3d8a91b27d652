"""The operations every front end offers, each answering with its JSON document.

An operation is a named function over a :class:`Caller` (the store and who is acting) and
keyword parameters of plain JSON types, returning the document that ``--json`` prints
(:mod:`pricing.documents`). The CLI runs an operation here (embedded mode) or asks the server
to (client mode), then prints the document: as it is with ``--json``, else through the
command's renderer. So both modes print the same bytes and exit with the same codes by
construction, and the server (:mod:`pricing.server`) needs nothing but this registry.

Input files are parameters named in ``files``: the CLI passes a path, a client uploads the
file and the server passes the path of its copy. An operation that writes a file takes it as
``output``; the server writes to a copy and sends it back.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pricing.errors import InputError

if TYPE_CHECKING:
    from pricing.access.authority import Action
    from pricing.storage.store import Store

Document = Any  # a JSON value: a dict or a list of them (pricing.documents)
Progress = Callable[[int, int], None]
F = TypeVar("F", bound=Callable[..., Document])


# How an operation opens the store: only what is there ("existing"; a missing SQLite file is
# an error), starting a new one if need be ("create": the operations that bring data in), or
# for a dry run of those ("dry-run": where nothing is stored yet, an empty one in memory).
OpenMode = Literal["existing", "create", "dry-run"]


@dataclass
class Caller:
    """Who is acting, on which store. ``open_store`` is called on first use (an operation
    that fails on its input first then opens no database); ``create`` lets the operations that
    bring data in start a new one, and their dry runs (``dry_run``) never do."""

    user: str
    open_store: Callable[[OpenMode], Store]
    progress: Progress | None = None
    opened: Store | None = field(default=None, repr=False)  # open already (the server's)

    def store(self, *, create: bool = False, dry_run: bool = False) -> Store:
        if self.opened is None:
            self.opened = self.open_store(
                "dry-run" if dry_run else "create" if create else "existing"
            )
        return self.opened


@dataclass(frozen=True)
class Operation:
    """One operation: its name (``requests.approve``), its function, the parameters that are
    input files, whether it writes an ``output`` file, and the action its caller's role must
    allow whatever the call says (``needs``): the server decides it from the token alone,
    before it reads a byte of the call's body (a rep's deals upload is refused at once, never
    received, spooled and then refused)."""

    name: str
    function: Callable[..., Document]
    files: tuple[str, ...] = ()
    output: bool = False
    summary: str = ""
    needs: Action | None = None

    def parameters(self) -> list[inspect.Parameter]:
        """The operation's keyword parameters (after the caller)."""
        return list(inspect.signature(self.function).parameters.values())[1:]


def day(text: str | None, field: str) -> date | None:
    """A ``YYYY-MM-DD`` parameter as a date (None stays None)."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f": {text!r} is not a date (YYYY-MM-DD)", field=field) from None


REGISTRY: dict[str, Operation] = {}


def operation(
    name: str,
    *,
    files: tuple[str, ...] = (),
    output: bool = False,
    needs: Action | None = None,
) -> Callable[[F], F]:
    """Register a function as the operation ``name`` (``needs``: see :class:`Operation`)."""

    def register(function: F) -> F:
        summary = (function.__doc__ or "").strip().split("\n")[0]
        REGISTRY[name] = Operation(name, function, files, output, summary, needs)
        return function

    return register


def modules() -> list[str]:
    """The modules of operations: every module of this package (one per domain)."""
    import pkgutil

    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def load_all() -> dict[str, Operation]:
    """Every operation (each module registers its own when imported)."""
    for module in modules():
        importlib.import_module(f"pricing.operations.{module}")
    return REGISTRY


def find(name: str) -> Operation:
    """The operation ``name`` (``requests.approve`` is registered by module ``requests``)."""
    module = f"pricing.operations.{name.split('.', 1)[0]}"
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
    if name not in REGISTRY:
        raise KeyError(name)
    return REGISTRY[name]


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


def run(name: str, caller: Caller, params: dict[str, Any]) -> Document:
    """Run an operation in this process and answer with its document as JSON would carry it
    (dates and Decimals as text), exactly what a server answers."""
    import json

    from pricing.documents import json_default

    check_values(params)
    document = find(name).function(caller, **params)
    # The values a server's answer carries: json.loads of the compact text (C's encoder; the
    # indented text --json prints, Python's, would load to the same values, 5x slower).
    return json.loads(json.dumps(document, ensure_ascii=False, default=json_default))
