"""The policy what-if as a document and as files (json, csv, xlsx, html)."""

from __future__ import annotations

import csv
import html
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from pricing.analysis.report_document import safe_text
from pricing.analysis.simulate import Side, Simulation
from pricing.errors import InputError
from pricing.money import display_money, excel_format, format_money, format_pct


def _side(side: Side, currency: str) -> dict[str, Any]:
    return {
        name: {
            "lines": totals.lines,
            "special_discount": format_money(totals.special_discount, currency),
            "below_floor": totals.below_floor,
        }
        for name, totals in sorted(side.classes.items())
    }


def simulation_document(result: Simulation, currency: str) -> dict[str, Any]:
    return {
        "from": result.start.isoformat() if result.start else None,
        "to": result.end.isoformat() if result.end else None,
        # The lines compared (each side's classes add up to them), of which unjudged_lines no
        # policy judges now (the current side's "not_judged"); not_judged: the lines left
        # out (unmatched, returns and stock adjustments, each counted), so that lines +
        # not_judged is every stored line of the period.
        "lines": result.lines,
        "not_judged": result.not_judged,
        "unmatched_lines": result.unmatched,
        "unjudged_lines": result.unjudged,
        "returns_lines": result.returns,
        "stock_adjustment_lines": result.adjustments,
        "weeks": result.weeks,
        "currency": currency,
        "current": _side(result.current, currency),
        "proposed": _side(result.proposed, currency),
        "workload": {
            "current": {k: format_pct(v) for k, v in result.current.workload(result.weeks).items()},
            "proposed": {
                k: format_pct(v) for k, v in result.proposed.workload(result.weeks).items()
            },
        },
        "special_discount": {
            side: {
                "inside": format_money(s.inside, currency),
                "outside": format_money(s.outside, currency),
            }
            for side, s in (("current", result.current), ("proposed", result.proposed))
        },
        # "Out of policy" as the report says it (below a hard floor, or needing an approval no
        # approved request covers): under the policy in force it equals the report's figures.
        "out_of_policy": {
            side: {
                "lines": s.out_of_policy_lines,
                "amount": format_money(s.out_of_policy_amount, currency),
            }
            for side, s in (("current", result.current), ("proposed", result.proposed))
        },
        "changed": result.changed,
    }


def write_simulation(result: Simulation, document: dict[str, Any], path: Path) -> None:
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        elif suffix == ".csv":
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(["deal", "line", "sku", "current", "proposed"])
            for c in result.changed:
                writer.writerow(
                    [
                        safe_text(c["deal"]),
                        c["line"],
                        safe_text(c["sku"]),
                        c["current"],
                        c["proposed"],
                    ]
                )
            path.write_text(buffer.getvalue(), encoding="utf-8")
        elif suffix == ".xlsx":
            _xlsx(document, path)
        elif suffix == ".html":
            _html(document, path)
        else:
            raise InputError(f"-o {path}: write .xlsx, .html, .csv or .json")
    except OSError as exc:
        raise InputError(f"{path}: cannot write ({exc.strerror})") from None


def _left_out(document: dict[str, Any]) -> str:
    """The lines left out of the comparison, said (empty when none was)."""
    unmatched, returns = document["unmatched_lines"], document["returns_lines"]
    counts = (
        (unmatched, "unmatched"),
        (returns, "returns"),
        (document["stock_adjustment_lines"], "stock adjustments"),
    )
    said = ", ".join(f"{count:,} {what}" for count, what in counts if count)
    return f" (left out: {said})" if said else ""


def _rows(document: dict[str, Any]) -> list[tuple[str, int, Decimal, int, Decimal]]:
    names = sorted(set(document["current"]) | set(document["proposed"]))
    empty = {"lines": 0, "special_discount": "0"}
    return [
        (
            n,
            document["current"].get(n, empty)["lines"],
            Decimal(document["current"].get(n, empty)["special_discount"]),
            document["proposed"].get(n, empty)["lines"],
            Decimal(document["proposed"].get(n, empty)["special_discount"]),
        )
        for n in names
    ]


def _xlsx(document: dict[str, Any], path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "Classes"
    money_format = excel_format(document["currency"])
    sheet.append(
        [
            f"Policy what-if, {document['from']} to {document['to']}, {document['lines']:,} lines"
            + _left_out(document)
        ]
    )
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([])
    sheet.append(
        [
            "Class",
            "Now: lines",
            "Now: special discount",
            "Proposed: lines",
            "Proposed: special discount",
        ]
    )
    for cell in sheet[3]:
        cell.font = Font(bold=True)
    for row in _rows(document):
        sheet.append(list(row))
        for col in (3, 5):
            sheet.cell(sheet.max_row, col).number_format = money_format
    oop = document["out_of_policy"]
    sheet.append([])
    sheet.append(
        [
            "Out of policy (as the report counts it)",
            oop["current"]["lines"],
            Decimal(oop["current"]["amount"]),
            oop["proposed"]["lines"],
            Decimal(oop["proposed"]["amount"]),
        ]
    )
    for col in (3, 5):
        sheet.cell(sheet.max_row, col).number_format = money_format
    for letter in "ABCDE":
        sheet.column_dimensions[letter].width = 24
    chart = BarChart()
    chart.title = "Lines per class, now and proposed"
    last_class = 3 + len(_rows(document))  # the chart shows the classes, not the total below
    chart.add_data(
        Reference(sheet, min_col=2, min_row=3, max_row=last_class), titles_from_data=True
    )
    chart.add_data(
        Reference(sheet, min_col=4, min_row=3, max_row=last_class), titles_from_data=True
    )
    chart.set_categories(Reference(sheet, min_col=1, min_row=4, max_row=last_class))
    sheet.add_chart(chart, "G3")
    workload = book.create_sheet("Workload")
    workload.append(["Approver level", "Now: requests/week", "Proposed: requests/week"])
    for level in sorted(
        set(document["workload"]["current"]) | set(document["workload"]["proposed"])
    ):
        workload.append([level, Decimal(document["workload"]["current"].get(level, "0")),
                         Decimal(document["workload"]["proposed"].get(level, "0"))])  # fmt: skip
    changed = book.create_sheet("Changed")
    changed.append(["Deal", "Line", "SKU", "Now", "Proposed"])
    for c in document["changed"]:
        changed.append(
            [safe_text(c["deal"]), c["line"], safe_text(c["sku"]), c["current"], c["proposed"]]
        )
    book.save(path)


def _html(document: dict[str, Any], path: Path) -> None:
    def esc(value: Any) -> str:
        return html.escape(str(value))

    rows = "".join(
        f"<tr><td>{esc(n)}</td><td class='num'>{a:,}</td><td class='num'>{b:,.2f}</td>"
        f"<td class='num'>{c:,}</td><td class='num'>{d:,.2f}</td></tr>"
        for n, a, b, c, d in _rows(document)
    )
    oop = document["out_of_policy"]
    oop_row = (
        "<tr><th>Out of policy</th>"
        + "".join(
            f"<td class='num'>{oop[side]['lines']:,}</td>"
            f"<td class='num'>{display_money(Decimal(oop[side]['amount']), document['currency'])}</td>"
            for side in ("current", "proposed")
        )
        + "</tr>"
    )
    changed = "".join(
        f"<tr><td>{esc(c['deal'])}</td><td>{esc(c['line'])}</td><td>{esc(c['sku'])}</td>"
        f"<td>{esc(c['current'])}</td><td>{esc(c['proposed'])}</td></tr>"
        for c in document["changed"][:1000]
    )
    page = f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Policy what-if</title>
<style>body {{ font-family: Helvetica, Arial, sans-serif; max-width: 1000px; margin: 2em auto; }}
table {{ border-collapse: collapse; width: 100%; font-size: 13px; }} th, td {{ border-bottom: 1px solid #ddd; padding: 4px 8px; text-align: left; }}
th {{ background: #1f3864; color: #fff; }} td.num {{ text-align: right; }}</style></head><body>
<h1>Policy what-if</h1><p>{esc(document["lines"])} deal lines{esc(_left_out(document))}, {esc(document["from"])} to {esc(document["to"])}, amounts in {esc(document["currency"])}.</p>
<table><tr><th>Class</th><th>Now: lines</th><th>Now: special discount</th><th>Proposed: lines</th><th>Proposed: special discount</th></tr>{rows}{oop_row}</table>
<p>Out of policy means what the drift report means: a line needing an approval that no approved request covers, or below a hard floor.</p>
<h2>Lines that change class ({len(document["changed"]):,})</h2>
<table><tr><th>Deal</th><th>Line</th><th>SKU</th><th>Now</th><th>Proposed</th></tr>{changed}</table></body></html>
"""
    path.write_text(page, encoding="utf-8")
