"""What every command shares: settings, the --json switch, output helpers, exiting."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal, NoReturn, TypeVar

import click

from pricing.errors import InputError, PricingError
from pricing.text import json_visible, visible

if TYPE_CHECKING:
    from decimal import Decimal

    from pricing.operations.library import Pricing
    from pricing.problems import KindCount, Problem
    from pricing.results.common import FoundProblem, ProblemCount

F = TypeVar("F", bound=Callable[..., Any])
Align = Literal["left", "right"]

# The core names the fields of its inputs; the command line calls them by their flags.
FLAGS: dict[str, str] = {
    "columns": "--column",
    "currency": "--currency",
    "customer": "--customer",
    "note": "--note",
    "qty": "--qty",
    "reason": "--reason",
    "start": "--from",
    "status": "--status",
    "window": "--window",
}


def error_message(exc: PricingError) -> str:
    """An error as the command line says it: an input named by its flag."""
    if isinstance(exc, InputError) and exc.field:
        return exc.for_input(FLAGS.get(exc.field, "--" + exc.field.replace("_", "-")))
    return str(exc)


@dataclass
class Settings:
    """Global options, whichever position they were given in."""

    db_url: str | None = None
    user: str | None = None
    json: bool = False
    _pricing: Pricing | None = None

    def acting_user(self) -> str:
        from pricing import config

        return config.acting_user(self.user)

    def pricing(self, *, progress: Callable[[int, int], None] | None = None) -> Pricing:
        """The library object the command calls (:class:`pricing.Pricing`), opened where the
        configuration says (:func:`pricing.operations.library.open_configured`: ``--db``, else
        the team's server in client mode, else the configured database), closed when the
        command ends."""
        from pricing.operations.library import open_configured

        if self._pricing is None:
            self._pricing = open_configured(self.db_url, user=self.user)
            click.get_current_context().call_on_close(self._pricing.close)
        self._pricing.progress = progress
        return self._pricing


def settings() -> Settings:
    return click.get_current_context().ensure_object(Settings)


def _set_json(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    if value:
        ctx.ensure_object(Settings).json = True
    return value


def json_option(func: F) -> F:
    """``--json`` accepted before the command (``pricing --json X``) and after it."""
    return click.option(
        "--json",
        "json_flag",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=_set_json,
        help="Print one JSON document on stdout instead of tables.",
    )(func)


def column_option(fields: Sequence[str], example: str) -> Callable[[F], F]:
    """``--column FIELD=HEADER`` (repeatable): map a header the loose matching does not know."""
    return click.option(
        "--column",
        "columns",
        multiple=True,
        metavar="FIELD=HEADER",
        help=f"Map a header the loose matching does not know, e.g. --column {example}. "
        f"Fields: {', '.join(fields)}.",
    )


def output_option(help: str) -> Callable[[F], F]:
    """``-o/--output FILE``: the kind of file is its suffix."""
    from pathlib import Path

    return click.option(
        "-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help=help
    )


def date_option(*names: str, help: str) -> Callable[[F], F]:
    return click.option(
        *names, type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD", help=help
    )


def as_date(value: datetime | None, default: date | None = None) -> date:
    if value is None:
        return default or date.today()
    return value.date()


def say(text: str, *, err: bool = False, fg: str | None = None, bold: bool | None = None) -> None:
    """The one way a command's words reach people: one line on stdout (``err``: stderr), every
    control character in it shown as an escape (:func:`pricing.text.visible`).

    Lines are made of values from files and the database (a SKU, a customer, a reason, a file
    name, an error quoting any of them): escaped here, none of them can clear the screen, make a
    link, or split or overwrite the line. Our own layout is one call per line; ``fg`` and
    ``bold`` style the whole line (click drops the styles when the output is not a terminal).
    """
    click.secho(visible(text), err=err, fg=fg, bold=bold)


def emit_json(document: object) -> None:
    """A document of :mod:`pricing.documents` on stdout, as every front end writes it: exact
    (json.loads gives back every value as stored), with no character a terminal would act on
    left raw (:func:`pricing.text.json_visible`)."""
    from pricing.documents import dumps

    click.echo(json_visible(dumps(document)))


def exit_with(ctx: click.Context, message: str, code: int = 2, document: object = None) -> NoReturn:
    """Say what went wrong on stderr (and as JSON on stdout with --json), then exit."""
    if ctx.ensure_object(Settings).json:
        emit_json(document if document is not None else {"error": message})
    say(f"error: {message}", err=True)
    ctx.exit(code)
    raise AssertionError("unreachable")  # pragma: no cover


def money(amount: Decimal | str | None) -> str:
    """Money (``Decimal("1234.50")``, or a document's ``"1234.50"``) as people read it:
    ``1,234.50`` (blank for none)."""
    if amount is None:
        return ""
    from decimal import Decimal

    return f"{Decimal(amount):,}"


def when(text: str | None, form: str = "%Y-%m-%d %H:%M") -> str:
    """A document's point in time (ISO 8601) as the tables show it."""
    if not text:
        return ""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).strftime(form)


def echo_found_problems(found: Sequence[FoundProblem], counts: Sequence[ProblemCount] = ()) -> None:
    """The problems of a result (its ``problems``, and its ``problem_counts`` when it has
    them), as :func:`echo_problems` says them."""
    from pricing.problems import KindCount

    echo_problems(
        [p.problem() for p in found], [KindCount(c.severity, c.message, c.count) for c in counts]
    )


def echo_problems(problems: Sequence[Problem], counts: Sequence[KindCount] = ()) -> None:
    """Problems on stderr, errors first, the first few of each kind with their cells. A kind
    found more often than listed (``counts``: how many of each kind were found) is grouped and
    closed by ``... and 2,999,990 more like this``; a list with nothing left out keeps the
    order it was found in."""
    from pricing.problems import Problems, kind_of

    listed = Problems(problems)  # a document made elsewhere may list more of a kind
    shown: dict[tuple[str, str], int] = {}
    for problem in listed:
        key = (problem.severity, problem.kind)
        shown[key] = shown.get(key, 0) + 1
    more: dict[tuple[str, str], int] = {}
    for count in [*counts, *listed.kind_counts()]:
        key = (count.severity, kind_of(count.message))
        more[key] = max(more.get(key, 0), count.count - shown.get(key, 0))
    more = {key: left for key, left in more.items() if left > 0}
    for severity in ("error", "warning"):
        colour = "red" if severity == "error" else "yellow"
        groups: dict[str, list[Problem]] = {}
        for problem in listed:
            if problem.severity == severity:
                groups.setdefault(problem.kind if more else "", []).append(problem)
        for kind, group in groups.items():
            for problem in group:
                say(problem.render(), fg=colour, err=True)
            left = more.pop((severity, kind), 0)
            if left:
                say(f"... and {left:,} more like this", err=True)
        for (of, kind), left in list(more.items()):
            if of == severity:  # a kind none of which is listed
                say(f"... and {left:,} more {severity}s: {kind}...", err=True)
                del more[(of, kind)]


def print_table(
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    title: str | None = None,
    right: Sequence[str] = (),
) -> None:
    """A table people can scan: rich on a terminal; plain aligned text, unwrapped, when piped
    (scripts and files get no box-drawing, and short commands do not load rich).

    Cells, headers and the title are values (a header can be a file name): each is shown as
    :func:`say` shows a line, control characters escaped, and on a terminal as plain rich
    ``Text``, never parsed as markup (a SKU ``[/bold]`` is a SKU, not a closing tag)."""
    header = [visible(str(c)) for c in columns]
    cells = [["" if v is None else visible(str(v)) for v in row] for row in rows]
    aligned: list[Align] = ["right" if c in right else "left" for c in columns]
    if not _on_terminal():
        _plain_table(
            header, cells, title=None if title is None else visible(title), aligned=aligned
        )
        return
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(highlight=False)
    table = Table(
        title=None if title is None else Text(visible(title)),
        box=box.SIMPLE_HEAD,
        title_justify="left",
        pad_edge=False,
        show_edge=False,
    )
    for name, justify in zip(header, aligned, strict=True):
        table.add_column(Text(name), justify=justify, overflow="fold")
    for row in cells:
        table.add_row(*(Text(value) for value in row))
    console.print(table)


def _on_terminal() -> bool:
    """Whether stdout is a terminal (rich tables) rather than a pipe or a file (plain text)."""
    return sys.stdout.isatty()


def _plain_table(
    header: list[str], cells: list[list[str]], *, title: str | None, aligned: list[Align]
) -> None:
    """Shown values (escaped already) in aligned columns, a line each."""
    widths = [max(len(row[i]) for row in (header, *cells)) for i in range(len(header))]

    def line(row: list[str]) -> str:
        return "  ".join(
            value.rjust(width) if justify == "right" else value.ljust(width)
            for value, width, justify in zip(row, widths, aligned, strict=True)
        ).rstrip()

    if title:
        say(title)
    say(line(header))
    say("  ".join("-" * width for width in widths))
    for row in cells:
        say(line(row))


@contextmanager
def progress(
    label: str, *then: Callable[[int], str]
) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on a terminal's stderr; nothing when piped or with --json.

    ``then`` labels the phases that follow, for an operation that reports one phase after
    another through the one callback: once a phase reaches its total, the next report starts
    the next phase, labelled by its function of that phase's total."""
    if settings().json or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(visible(label), total=None)
        phases = list(then)
        finished = False

        def update(done: int, total: int) -> None:
            nonlocal finished
            if finished and phases:
                bar.reset(task, description=visible(phases.pop(0)(total)))
            finished = done >= total
            bar.update(task, completed=done, total=total)

        yield update
