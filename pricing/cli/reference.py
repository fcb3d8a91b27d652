"""Generated documentation: the CLI reference from ``--help``, and the accepted header names.

``python -m pricing.cli.reference`` rewrites docs/cli.md and docs/formats.md; a test fails when
the committed files differ from what the code says, so the reference cannot go stale.
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import click

DOCS = Path(__file__).resolve().parents[2] / "docs"
HELP_OPTIONS = ["-h", "--help"]


def _commands(group: click.Group, prefix: list[str]) -> list[tuple[list[str], click.Command]]:
    context = click.Context(group, info_name=" ".join(prefix), help_option_names=HELP_OPTIONS)
    found: list[tuple[list[str], click.Command]] = []
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        if command is None:
            continue
        path = [*prefix, name]
        found.append((path, command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, path))
    return found


def _help(command: click.Command, path: list[str]) -> str:
    context = click.Context(
        command,
        info_name=" ".join(path),
        terminal_width=100,
        max_content_width=100,
        help_option_names=HELP_OPTIONS,  # as the CLI's own contexts have them
    )
    return command.get_help(context)


def cli_reference() -> str:
    from pricing.cli import main

    parts = [
        "# CLI reference\n",
        "Generated from `--help` by `python -m pricing.cli.reference` (`make docs`); a test fails "
        "when it is stale. Every command also takes `--json` (before or after the command), "
        "`--db URL` and `--user NAME`.\n",
        "## pricing\n",
        "```text\n" + _help(main, ["pricing"]) + "\n```\n",
    ]
    for path, command in _commands(main, ["pricing"]):
        parts.append(f"## {' '.join(path)}\n")
        parts.append("```text\n" + _help(command, path) + "\n```\n")
    return "\n".join(parts)


def _header_table(headers: dict[str, tuple[str, ...]], required: tuple[str, ...]) -> str:
    rows = [
        "| field | accepted headers (case, spaces and punctuation do not matter) |",
        "| --- | --- |",
    ]
    for field, aliases in headers.items():
        name = f"`{field}`" + (" (required)" if field in required else "")
        rows.append(f"| {name} | {', '.join(aliases)} |")
    return "\n".join(rows) + "\n"


def formats_reference() -> str:
    from pricing.analysis.export import columns as export_columns
    from pricing.lines.reader import DEAL_HEADERS
    from pricing.lines.reader import REQUIRED as DEAL_REQUIRED
    from pricing.pricebook.file import (
        ITEM_HEADERS,
        PRICE_SHEET_NAMES,
        TIER_HEADERS,
        TIER_SHEET_NAMES,
    )
    from pricing.requests.lines_file import LINE_HEADERS

    return "\n".join(
        [
            "# File formats\n",
            "Generated from the code's own header lists by `python -m pricing.cli.reference` "
            "(`make docs`); a test fails when it is stale. `--column FIELD=HEADER` maps any other "
            "header. The guides explain what each file means: the marketer's for price books and "
            "tiers, the salesperson's for request lines, the owner's for policies and deals.\n",
            "## Price book (xlsx or csv)\n",
            f"The sheet named like {', '.join(repr(n) for n in PRICE_SHEET_NAMES)}, else the first; "
            "the header row is found in the first 30 rows. A book without a `currency` column is "
            "in the currency its list price header or prices name (`List Price (EUR)`, `€12.00`, "
            "`EUR 12.00`), else in `--currency`; a `--currency` that disagrees is an error.\n",
            _header_table(ITEM_HEADERS, ("sku", "list_price")),
            "## Volume tiers (a sheet of the price book workbook)\n",
            f"A sheet named like {', '.join(repr(n) for n in TIER_SHEET_NAMES)}. Each row names a "
            "SKU or a family, a minimum quantity, and a price or a discount %.\n",
            _header_table(TIER_HEADERS, ("min_qty",)),
            "## Request lines (`pricing request --file`, csv or xlsx)\n",
            "One line per row: a SKU, a quantity, and a price or a discount % (not both).\n",
            _header_table(LINE_HEADERS, ("sku", "qty")),
            "## Deals (`pricing deals import`, csv or xlsx)\n",
            "Required: date, SKU, quantity and one of amount, unit price or discount. When several "
            "money columns are present the actual money wins: amount, then unit price, then "
            "discount. A ship or delivery date is never taken for the deal date. Slashed dates "
            "that no value shows to be day- or month-first need `--date-format`; money written "
            "as text whose values do not show a decimal comma or point (every one like `1,234`) "
            "needs `--decimal comma` or `--decimal point`. Without a `deal_id` each line is a "
            "deal of its own (a warning says so). Headers are compared without their case, "
            "spaces, underscores and punctuation (`ORDERDATE` is `Order Date`). A `line_id` "
            "headed like a line's number within its deal (Line No, Order Line, "
            "ORDERLINENUMBER), or one that repeats in the file, is read with the `deal_id` "
            "(order 10107 line 1); a repeating one without a `deal_id` is an error. Lines whose "
            "`status` is Cancelled, Canceled, Void, Lost or Closed Lost are left out and counted "
            "(`--status S1,S2`, `--all-statuses`). The headers include those of the line-item "
            "exports of HubSpot, Salesforce, Pipedrive, Zoho Books, Odoo and ERPNext. Of a "
            "workbook, the sheet named Deals, Orders, Sales, Invoices or Lines is read, else the "
            "first with a header row (a cover sheet is passed over); `--sheet NAME` chooses.\n",
            _header_table(DEAL_HEADERS, DEAL_REQUIRED),
            "## Deals export (`pricing deals export`, Parquet or csv)\n",
            "One row per stored deal line, in the order they were stored. Amounts and "
            "quantities are exact decimals, in the line's `item_currency` (Parquet "
            "`DECIMAL(38,6)`; in csv written with six places: read them as decimals, not "
            "floats); dates are dates; the flags are booleans. The last columns are what the "
            "drift report decides of the line.\n",
            "| Column | What it holds |\n|---|---|\n"
            + "\n".join(f"| `{name}` | {meaning} |" for name, meaning in export_columns())
            + "\n",
            "## Policy (TOML)\n",
            "See [the owner's guide](owner.md#the-policy-file) for every key and its semantics.\n",
        ]
    )


LIBRARY_INTRO = """# The library: `pricing.Pricing`

Generated from the docstrings by `python -m pricing.cli.reference` (`make docs`); a test fails
when it is stale, and the example below runs in the test suite as written.

`pricing` is a library first. `pricing.open` gives the one object every front end stands on: the
CLI calls one of its methods per command, the team server routes each call to the same method,
and a script uses it the same way. Over a database (a SQLAlchemy URL) the methods run here, as
`user`; over a server's `https://` address (with `token=`) they are sent there, and answer with
the same types.

```python
import pricing

with pricing.open("sqlite:///shop.db", user="dana") as p:  # or open(server_url, token=...)
    p.import_price_book("book.xlsx", effective="2026-01-01")
    p.load_policy("guardrails.toml")
    p.import_deals("deals.csv")
    rep = p.report(by=["rep"])
    rep.totals.net_revenue  # a Decimal
    rep.model_dump(mode="json")  # exactly what `pricing --json report --by rep` prints
```

Each method takes keyword arguments (the file it reads or writes may come first); dates may be
given as `datetime.date` or `YYYY-MM-DD`. Each answers with a typed result (a pydantic model,
`pricing.results`), whose `model_dump(mode="json")` is the command's `--json` document. A method
that cannot be done raises a `pricing.PricingError`: `InputError` (bad input, naming the
parameter), `NotFoundError`, `Refused` (a business "no": the role does not allow it),
`StoreError`. Problems with a file come back as data in the result.

Each method below: its signature, what it answers with, its call on the server
(`POST /api/NAME`, see `/docs` on a running server) and, where the server refuses a role before
reading the call, the action it needs. A few work only on a database of this host (`db_status`,
`db_upgrade`, `new_demo`): no server serves them, and an object opened on one refuses them
(`InputError`) saying where to run them instead.
"""


def _type_name(kind: object) -> str:
    """A result type as people read it (``list[Person]``, ``RequestResult | RequestRefused``)."""
    import re
    import typing

    if not typing.get_args(kind) and isinstance(kind, type):
        return kind.__name__
    return re.sub(r"\b(?:typing|pricing\.results\.\w+)\.", "", str(kind))


def _signature(parameters: list[inspect.Parameter]) -> str:
    """``(file: Path, *, effective: date | None = None)``: annotations as written."""
    shown, starred = [], False
    for parameter in parameters:
        if parameter.kind is parameter.KEYWORD_ONLY and not starred:
            shown.append("*")
            starred = True
        text = f"{parameter.name}: {parameter.annotation}"
        if parameter.default is not parameter.empty:
            text += f" = {parameter.default!r}"
        shown.append(text)
    return "(" + ", ".join(shown) + ")"


def _heading(doc: str) -> str:
    """A domain's heading: its docstring up to the colon that ends its first clause (a role
    such as ``:class:`` is no such colon), roles written as plain code."""
    import re

    plain = re.sub(r":[a-z]+:`~?([^`]+)`", r"`\1`", " ".join(doc.split()))
    return plain.split(": ")[0].rstrip(":. ")


def library_reference() -> str:
    """docs/library.md: the methods of :class:`pricing.Pricing`, by domain, from their code."""
    from pricing.operations import load_all
    from pricing.operations.library import Pricing

    operations = {op.method: op for op in load_all(local=True).values()}
    parts = [LIBRARY_INTRO]
    for mixin in Pricing.__mro__[1:]:
        names = [n for n in vars(mixin) if n in operations]
        if not names:
            continue
        parts.append(f"## {_heading(mixin.__doc__ or mixin.__name__)}\n")
        for name in names:
            op = operations[name]
            shown = _signature(op.parameters())
            parts.append(f"### `{name}`\n")
            parts.append(f"```python\np.{name}{shown} -> {_type_name(op.result())}\n```\n")
            doc = inspect.cleandoc(op.function.__doc__ or "")
            parts.append(doc + "\n")
            facts = [
                f"Server: `POST /api/{op.name}`"
                if op.local is None
                else "Local only: no server serves it (an object opened on one refuses it)"
            ]
            if op.needs:
                facts.append(f"needs a role that may `{op.needs}`")
            if op.files:
                facts.append("uploads " + ", ".join(f"`{f}`" for f in op.files))
            if op.output:
                facts.append("writes `output` (sent back by the server)")
            parts.append("; ".join(facts) + ".\n")
    return "\n".join(parts)


GENERATED = {
    "cli.md": cli_reference,
    "formats.md": formats_reference,
    "library.md": library_reference,
}


def main() -> None:
    for name, render in GENERATED.items():
        (DOCS / name).write_text(render(), encoding="utf-8")
        print(f"wrote docs/{name}", file=sys.stderr)


if __name__ == "__main__":
    main()
