"""The drift report as files people open: JSON and csv for scripts, xlsx with native Excel
charts, and a self-contained html page with inline SVG charts (no network needed)."""

from __future__ import annotations

import csv
import html
import io
from copy import deepcopy
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

from pricing.analysis.report import (
    DISCOUNT_RANGES_SAID,
    EXTRA_KEYS,
    METRIC_KEYS,
    Metrics,
    Report,
    ranking_order,
)
from pricing.errors import InputError
from pricing.money import format_money, format_pct, quantum, round_money

LABELS = {
    "lines": "Lines", "deals": "Deals", "quantity": "Quantity", "list_revenue": "List revenue",
    "standard_revenue": "Standard revenue", "net_revenue": "Net revenue", "leakage": "Leakage",
    "standard_discount": "Standard discount", "special_discount": "Special discount",
    "realization_pct": "Realization %", "out_of_policy_lines": "Out-of-policy lines",
    "out_of_policy_amount": "Out-of-policy amount", "unmatched_lines": "Unmatched lines",
    "weighted_discount_pct": "Weighted discount %", "in_policy_special_discount": "In-policy special discount",
    "below_approved_lines": "Lines below approved price", "cost": "Cost", "margin_pct": "Margin %",
    "unjudged_lines": "Lines not judged (no policy)", "unjudged_net_revenue": "Net revenue not judged",
    "unjudged_special_discount": "Special discount not judged",
    "sales_lines": "Sales lines", "gross_discount": "Discounts given",
    "above_standard_lines": "Lines above standard", "above_standard_amount": "Above standard",
    "above_standard_flagged_lines": "Lines to check (far above standard)",
    "returns_lines": "Return lines", "returns_amount": "Returns (refunded)",
    "returns_at_list": "Returns at list", "net_after_returns": "Net after returns",
    "returns_above_list_lines": "Returns above list", "stock_adjustment_lines": "Stock adjustments",
    "unmatched_net_revenue": "Unmatched net revenue",
}  # fmt: skip
MONEY_KEYS = {
    "list_revenue", "standard_revenue", "net_revenue", "leakage", "standard_discount",
    "special_discount", "out_of_policy_amount", "in_policy_special_discount", "cost",
    "unjudged_net_revenue", "unjudged_special_discount", "gross_discount",
    "above_standard_amount", "returns_amount", "returns_at_list", "net_after_returns",
    "unmatched_net_revenue",
}  # fmt: skip
PCT_KEYS = {"realization_pct", "weighted_discount_pct", "margin_pct"}
COUNT_KEYS = {"lines", "deals", "out_of_policy_lines", "unmatched_lines", "below_approved_lines",
              "unjudged_lines", "sales_lines", "above_standard_lines",
              "above_standard_flagged_lines", "returns_lines", "returns_above_list_lines",
              "stock_adjustment_lines"}  # fmt: skip
HEADINGS = {
    **LABELS, "sku": "SKU", "qty": "Quantity", "rep": "Rep", "family": "Family", "month": "Month",
    "customer": "Customer", "date": "Date", "deal": "Deal", "list_price": "List price",
    "standard_price": "Standard price", "net_price": "Net price", "discount_pct": "Discount %",
    "why": "Why", "net_amount": "Net amount",
}  # fmt: skip


def heading(name: str) -> str:
    """A column's header, the same on every sheet and page (``SKU``, ``Discount %``)."""
    return HEADINGS.get(name, name.replace("_", " ").capitalize())


def unjudged_note(metrics: Metrics, currency: str) -> str | None:
    """What was not judged, said in words (None when every matched line was judged)."""
    from pricing.money import display_money

    if not metrics.unjudged_lines:
        return None
    return (
        f"{metrics.unjudged_lines:,} lines (net {display_money(metrics.unjudged_net_revenue, currency)}) "
        "not judged: no policy in force on their dates"
    )


def metric_value(metrics: Metrics, key: str) -> Any:
    return getattr(metrics, key)


def metrics_document(metrics: Metrics, currency: str) -> dict[str, Any]:
    """Money as decimal strings in minor units, percentages with 2 places, counts as numbers.

    Amounts are rounded once, here, from the exact sums (as :func:`pricing.money.format_money`
    does, the currency's step worked out once: a report by customer has thousands of groups).
    """
    step = quantum(currency)
    document: dict[str, Any] = {}
    for key, kind in _KINDS:
        value = getattr(metrics, key)
        if kind == "money":
            document[key] = None if value is None else str(value.quantize(step, ROUND_HALF_EVEN))
        elif kind == "pct":
            document[key] = format_pct(value)
        elif kind == "quantity":
            document[key] = int(value) if value == value.to_integral_value() else str(value)
        else:
            document[key] = value
    return document


def _written_as(key: str) -> str:
    """How a figure of a metrics document is written: money, pct, quantity or as is."""
    if key in MONEY_KEYS:
        return "money"
    if key in PCT_KEYS:
        return "pct"
    return "quantity" if key == "quantity" else "as is"


_KINDS = tuple((key, _written_as(key)) for key in (*METRIC_KEYS, *EXTRA_KEYS))


def report_document(report: Report) -> dict[str, Any]:
    c = report.currency
    document: dict[str, Any] = {
        "from": report.start.isoformat() if report.start else None,
        "to": report.end.isoformat() if report.end else None,
        "currency": c,
        "by": report.by,
        "totals": metrics_document(report.totals, c),
        "groups": [{"key": key, **metrics_document(m, c)} for key, m in report.groups],
        "waterfall": waterfall(report.totals, c),
        "sort": report.sort,
        "deals_overlap": report.deals_overlap,
        "notes": notes(report),
    }
    if report.months:
        document["months"] = [
            {"month": month, **metrics_document(m, c)} for month, m in report.months
        ]
        document["months_deals_overlap"] = report.months_overlap
    if report.details:
        document["unmatched"] = [_line_document(u, c) for u in report.unmatched]
        document["flagged"] = [_line_document(line, c) for line in report.flagged]
        document["stock_adjustments"] = [
            _line_document(line, c) for line in report.stock_adjustments
        ]
    if report.bands:
        document["price_bands"] = {
            "basis": report.band_basis,
            "bands": [
                {
                    "key": b.key,
                    "lines": b.lines,
                    **{k: format_pct(v) for k, v in b.percentiles.items()},
                }
                for b in report.bands
            ],
        }
    return document


TOTAL_STEPS = ("List revenue", "Standard revenue", "Net revenue")  # bars from zero, not steps
ABOVE_STANDARD_STEP = "Above standard (sales above their standard price)"


def waterfall(metrics: Metrics, currency: str) -> list[dict[str, str | None]]:
    """List -> standard -> special (in policy, out of policy, not judged) -> above standard ->
    net, over the sales, as amounts (each step and where it lands): the discounts negative, the
    sales above standard positive, so that the steps add up to each total exactly."""
    steps = [
        ("List revenue", metrics.list_revenue),
        ("Standard discount (marketing's tiers)", -metrics.standard_discount),
        ("Standard revenue", metrics.standard_revenue),
        ("Special discount within policy or approved", -metrics.in_policy_special_discount),
        ("Out-of-policy discount", -metrics.out_of_policy_amount),
        *(
            [
                (
                    "Special discount not judged (no policy in force)",
                    -metrics.unjudged_special_discount,
                )
            ]
            if metrics.unjudged_special_discount
            else []
        ),
        (ABOVE_STANDARD_STEP, metrics.above_standard_amount),
        ("Net revenue", metrics.net_revenue),
    ]
    return [{"step": name, "amount": format_money(amount, currency)} for name, amount in steps]


def is_total_step(steps: list[dict[str, str | None]], index: int) -> bool:
    """A total (list, standard, net revenue; the first step and the last) is a bar standing on
    the axis; every other step moves revenue from where the one before it landed."""
    return index in (0, len(steps) - 1) or steps[index]["step"] in TOTAL_STEPS


PLURALS = {"family": "families", "sku": "SKUs"}  # a breakdown key's plural (else key + s)


def _counted(count: int, thing: str) -> str:
    """``1 return line``, ``2 return lines``."""
    return f"{count:,} {thing}{'' if count == 1 else 's'}"


def notes(report: Report) -> list[str]:
    """What the figures leave out or count twice, said in words (empty: nothing to say)."""
    from pricing.money import display_money

    t, c = report.totals, report.currency
    said: list[str] = []
    if report.deals_overlap:
        said.append(
            f"deals overlap: the groups count {sum(m.deals for _, m in report.groups):,} deals "
            f"where the total counts {t.deals:,}, a deal with lines in several groups (two "
            f"{' or two '.join(PLURALS.get(b, b + 's') for b in report.by)}) counting in each"
        )
    if report.months and report.months_overlap:
        said.append(
            f"deals overlap by month: the months count {sum(m.deals for _, m in report.months):,} "
            f"deals where the total counts {t.deals:,}, a deal spanning months counting in each"
        )
    if t.returns_lines:
        said.append(
            f"{_counted(t.returns_lines, 'return line')} (refunded "
            f"{display_money(t.returns_amount, c)}): apart from the sales figures and never "
            "judged; net after returns "
            f"{display_money(t.net_after_returns, c)}"
        )
    if t.unmatched_lines:
        said.append(
            f"{_counted(t.unmatched_lines, 'unmatched line')} (net "
            f"{display_money(t.unmatched_net_revenue, c)}), no list price on the date sold: "
            "left out of every other figure"
        )
    if t.stock_adjustment_lines:
        said.append(
            f"{_counted(t.stock_adjustment_lines, 'stock adjustment')} (negative quantity at "
            "price 0): left out of every money figure"
        )
    flagged = t.above_standard_flagged_lines + t.returns_above_list_lines
    if flagged:
        said.append(
            f"{_counted(flagged, 'line')} to check (a sale above {report.flag.normalize()}x "
            "its standard price, or a refund above its list price): check the price or quantity"
        )
    return said


def _line_document(line: dict[str, Any], currency: str) -> dict[str, Any]:
    """A listed line (or unmatched SKU) as JSON: money in minor units, dates ISO."""
    document: dict[str, Any] = {}
    for key, value in line.items():
        if key in ("net_revenue", "net_amount", "list_price", "standard_price", "net_price"):
            document[key] = format_money(value, currency)
        elif isinstance(value, Decimal):
            document[key] = int(value) if value == value.to_integral_value() else str(value)
        elif hasattr(value, "isoformat"):
            document[key] = value.isoformat()
        else:
            document[key] = value
    return document


def waterfall_bars(steps: list[dict[str, str | None]]) -> list[tuple[Decimal, Decimal]]:
    """Where each step's bar starts and how long it is, never a negative length: the totals
    from zero, every other step floating between where the step before it landed and where it
    lands, whatever its sign (a discount down, a sale above standard up). What both the html
    and the xlsx draw, from the amounts of ``waterfall()`` as they are."""
    level = Decimal(0)
    bars: list[tuple[Decimal, Decimal]] = []
    for index, step in enumerate(steps):
        amount = Decimal(step["amount"] or 0)
        if is_total_step(steps, index):
            bars.append((Decimal(0), amount))
            level = amount
        else:
            bars.append((min(level, level + amount), abs(amount)))
            level += amount
    return bars


def waterfall_axis_start(steps: list[dict[str, str | None]]) -> Decimal:
    """Where the waterfall's value axis starts: at a round number below the lowest running
    total when zero lies far below it (so that a 2 % step is not a sliver beside 55 M bars),
    else at zero. Both charts say where it starts when it is not zero."""
    import math

    levels: list[Decimal] = []
    for index, (start, length) in enumerate(waterfall_bars(steps)):
        levels += [start + length] if is_total_step(steps, index) else [start, start + length]
    low, high = min(levels, default=Decimal(0)), max(levels, default=Decimal(0))
    span = high - low
    if not span or low <= 0 or low <= span:  # zero is near: the totals are drawn whole
        return Decimal(0)
    unit = Decimal(10) ** math.floor(math.log10(span or low))
    return max(((low - span / 4) // unit) * unit, Decimal(0))


def write(report: Report, path: Path) -> None:
    suffix = path.suffix.lower()
    writers = {".json": _write_json, ".csv": _write_csv, ".xlsx": _write_xlsx, ".html": _write_html}
    if suffix not in writers:
        raise InputError(f"-o {path}: write .xlsx, .html, .csv or .json")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        writers[suffix](report, path)
    except OSError as exc:
        raise InputError(f"{path}: cannot write the report ({exc.strerror})") from None


def _write_json(report: Report, path: Path) -> None:
    import json

    path.write_text(
        json.dumps(report_document(report), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def safe_text(value: Any) -> Any:
    """Text as a spreadsheet cell may hold it (:func:`pricing.text.spreadsheet_text`): never a
    formula, no character a cell cannot hold; other values as they are."""
    from pricing.text import spreadsheet_text

    return spreadsheet_text(value) if isinstance(value, str) else value


def _write_csv(report: Report, path: Path) -> None:
    keys = [*METRIC_KEYS, *EXTRA_KEYS]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    key_columns = report.by or ["scope"]
    writer.writerow([*key_columns, *keys])
    total = metrics_document(report.totals, report.currency)
    writer.writerow(["TOTAL", *[""] * (len(key_columns) - 1), *(total[k] for k in keys)])
    for key, metrics in report.groups:
        document = metrics_document(metrics, report.currency)
        writer.writerow([*(safe_text(key[b]) for b in report.by), *(document[k] for k in keys)])
    path.write_text(buffer.getvalue(), encoding="utf-8")


# Excel ---------------------------------------------------------------------------------------

# Sizes as Excel and LibreOffice lay them out: a row of the default height is 20 px, a column
# of width w (characters of the default font) is 7w + 5 px, and a pixel is 1/96 inch.
_ROW_CM = 20 * 2.54 / 96
_CHART_GAP = 2  # empty rows or columns between a table and a chart


def _write_xlsx(report: Report, path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    xlsx = _Xlsx(report)
    summary = book.active
    _xlsx_summary(xlsx, summary)
    months_chart = _xlsx_months(xlsx, book.create_sheet("By month"))
    if months_chart is not None:
        on_summary = deepcopy(months_chart)  # a chart belongs to one sheet
        on_summary.width = 15
        xlsx.chart_below(summary, on_summary)
    if report.by:
        _xlsx_groups(xlsx, book.create_sheet(("By " + ", ".join(report.by))[:31]))
    _xlsx_waterfall(xlsx, book.create_sheet("Waterfall"))
    _xlsx_bands(xlsx, book.create_sheet("Price bands"))
    _xlsx_lines(xlsx, book.create_sheet("Out of policy"), xlsx.report.out_of_policy, _OOP_COLUMNS)
    _xlsx_unmatched(xlsx, book.create_sheet("Unmatched"))
    _xlsx_lines(xlsx, book.create_sheet("To check"), xlsx.report.flagged, _CHECK_COLUMNS)
    _xlsx_lines(
        xlsx, book.create_sheet("Stock adjustments"), xlsx.report.stock_adjustments,
        _ADJUSTMENT_COLUMNS,
    )  # fmt: skip
    for sheet in book.worksheets:
        xlsx.fit_columns(sheet)
        _printable(sheet)
    book.save(path)


def _printable(sheet: Any) -> None:
    """Printed, each sheet is one page wide (landscape, its header row repeated on every
    page), never a table cut into columns across pages with a chart's edge alone on one."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as the rows need
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    if sheet.max_row > 1:
        sheet.print_title_rows = "1:1"


def shown_width(value: Any, number_format: str) -> int:
    """How many characters a cell shows: numbers as their number format writes them."""
    if value is None:
        return 0
    if isinstance(value, str):
        return len(value)
    if isinstance(value, bool):
        return 5
    if hasattr(value, "isoformat"):
        return 10
    number = Decimal(str(value))
    if number_format.endswith('"%"'):
        return len(f"{number:.2f}%")
    if "#,##0" in number_format:
        decimals = len(number_format.partition(".")[2].rstrip("#")) if "." in number_format else 0
        if number_format.endswith("#"):  # 0.### shows up to three places
            text = f"{number.normalize():,f}"
            return max(len(text), len(f"{number:,.{decimals}f}"))
        return len(f"{number:,.{decimals}f}")
    return len(str(value))


class _Xlsx:
    """What every sheet of the report workbook shares: the report, number formats, styles, and
    where its tables are, so that columns fit them and no chart is placed over one."""

    def __init__(self, report: Report) -> None:
        from openpyxl.styles import Font, PatternFill

        from pricing.money import minor_units

        self.report = report
        self.currency = report.currency
        places = minor_units(report.currency)
        self.money_format = "#,##0" + ("." + "0" * places if places else "")
        self.bold = Font(bold=True)
        self.head_fill = PatternFill("solid", fgColor="1F3864")
        self.head_font = Font(bold=True, color="FFFFFF")
        # Per sheet, each table's first row, first column, last row, last column.
        self.tables: dict[str, list[tuple[int, int, int, int]]] = {}

    def cell_format(self, key: str) -> str | None:
        if key in MONEY_KEYS:
            return self.money_format
        if key in PCT_KEYS:
            return '0.00"%"'
        if key == "quantity":
            return "#,##0.###"
        return "#,##0" if key in COUNT_KEYS else None

    def value(self, metrics: Metrics, key: str) -> Any:
        raw = metric_value(metrics, key)
        if raw is None:
            return None
        if key in MONEY_KEYS:
            return round_money(raw, self.currency)
        if key in PCT_KEYS:
            return raw.quantize(Decimal("0.01"))
        return raw

    def header(self, sheet: Any, row: int, names: list[str]) -> None:
        from openpyxl.styles import Alignment

        for col, name in enumerate(names, start=1):
            cell = sheet.cell(row, col, name)
            cell.font, cell.fill = self.head_font, self.head_fill
            cell.alignment = Alignment(horizontal="center", wrap_text=True)

    def add_table(self, sheet: Any, first_row: int, last_row: int, columns: int) -> None:
        """Note a table written at ``first_row`` (its header) to ``last_row``, from column A."""
        self.tables.setdefault(sheet.title, []).append(
            (first_row, 1, max(first_row, last_row), columns)
        )

    def extent(self, sheet: Any) -> tuple[int, int]:
        """The last row and the last column any table of the sheet uses."""
        tables = self.tables.get(sheet.title, [])
        return max((t[2] for t in tables), default=0), max((t[3] for t in tables), default=0)

    def chart_beside(self, sheet: Any, chart: Any, row: int = 1) -> None:
        """The chart to the right of every table in the rows it covers, its top at ``row``."""
        from openpyxl.utils import get_column_letter

        bottom = row + chart_rows(chart)
        column = max(
            (last_col for first_row, _, last_row, last_col in self.tables.get(sheet.title, [])
             if first_row <= bottom and last_row >= row),
            default=0,
        )  # fmt: skip
        sheet.add_chart(chart, get_column_letter(column + _CHART_GAP) + str(row))

    def chart_below(self, sheet: Any, chart: Any, column: int = 1) -> int:
        """The chart under every table on the sheet; returns the first row free below it."""
        from openpyxl.utils import get_column_letter

        row = self.extent(sheet)[0] + _CHART_GAP + 1
        sheet.add_chart(chart, get_column_letter(column) + str(row))
        return row + chart_rows(chart) + 1

    def fit_columns(self, sheet: Any) -> None:
        """Every column of a table as wide as its widest header or shown value (text capped at
        60 characters), so that no number shows as ``###``."""
        from openpyxl.utils import get_column_letter

        widths: dict[int, int] = {}
        for first_row, first_col, last_row, last_col in self.tables.get(sheet.title, []):
            for row in sheet.iter_rows(first_row, last_row, first_col, last_col):
                for cell in row:
                    width = shown_width(cell.value, cell.number_format)
                    if isinstance(cell.value, str):
                        width = min(width, 60)
                    widths[cell.column] = max(widths.get(cell.column, 0), width)
        for column, width in widths.items():
            sheet.column_dimensions[get_column_letter(column)].width = max(width + 2, 9)

    def table(
        self,
        sheet: Any,
        start_row: int,
        keys: list[dict[str, str]],
        rows: list[Metrics],
        by: list[str],
    ) -> int:
        names = [*(heading(b) for b in by), *(heading(k) for k in (*METRIC_KEYS, *EXTRA_KEYS))]
        self.header(sheet, start_row, names)
        for i, (key, metrics) in enumerate(zip(keys, rows, strict=True), start=start_row + 1):
            for j, b in enumerate(by, start=1):
                sheet.cell(i, j, safe_text(key[b])).data_type = "s"
            for j, k in enumerate((*METRIC_KEYS, *EXTRA_KEYS), start=len(by) + 1):
                cell = sheet.cell(i, j, self.value(metrics, k))
                fmt = self.cell_format(k)
                if fmt:
                    cell.number_format = fmt
        sheet.freeze_panes = sheet.cell(start_row + 1, len(by) + 1)
        self.add_table(sheet, start_row, start_row + len(rows), len(names))
        return start_row + len(rows)


def chart_rows(chart: Any) -> int:
    """How many rows of the default height a chart covers."""
    import math

    return math.ceil(float(chart.height) / _ROW_CM)


def _bars_like_the_table(chart: Any, number_format: str, legend: bool = False) -> None:
    """A bar chart: its bars in the table's order from the top, whole amounts with separators
    on the value axis, a legend above the bars when they are of several columns (none naming
    the only one)."""
    from openpyxl.chart.legend import Legend

    chart.x_axis.scaling.orientation = "maxMin"
    chart.y_axis.number_format = number_format
    chart.y_axis.crosses = "max"  # the value axis below the bars, where they are read
    chart.legend = Legend(legendPos="t") if legend else None


def _xlsx_summary(xlsx: _Xlsx, summary: Any) -> None:
    from openpyxl.styles import Font

    report = xlsx.report
    summary.title = "Summary"
    summary["A1"] = "Price drift report"
    summary["A1"].font = Font(bold=True, size=16)
    period = f"{report.start or 'first deal'} to {report.end or 'last deal'}"
    summary["A2"] = (
        f"Period {period}; amounts in {xlsx.currency}; {report.totals.lines:,} deal lines"
    )
    note = unjudged_note(report.totals, xlsx.currency)
    if note:
        summary["A3"] = note + "; out-of-policy figures cover the judged lines only"
    xlsx.header(summary, 4, ["Measure", "Value"])
    keys = (*METRIC_KEYS, *EXTRA_KEYS)
    for i, key in enumerate(keys, start=5):
        summary.cell(i, 1, heading(key)).font = xlsx.bold
        cell = summary.cell(i, 2, xlsx.value(report.totals, key))
        fmt = xlsx.cell_format(key)
        if fmt:
            cell.number_format = fmt
    xlsx.add_table(summary, 4, 4 + len(keys), 2)
    said = notes(report)
    if said:
        first = 4 + len(keys) + 2
        for i, text in enumerate(said, start=first):
            summary.cell(i, 1, text[0].upper() + text[1:])
        xlsx.add_table(summary, first, first + len(said) - 1, 1)


def _xlsx_months(xlsx: _Xlsx, months: Any) -> Any:
    """The month sheet; its realization chart (None without months), to show on Summary too."""
    from openpyxl.chart import LineChart, Reference

    report = xlsx.report
    last = xlsx.table(
        months,
        1,
        [{"month": m} for m, _ in report.months],
        [m for _, m in report.months],
        ["month"],
    )
    if not report.months:
        return None
    chart = LineChart()
    chart.title = "Realization by month (% of list)"
    chart.y_axis.title = "Realization %"
    chart.x_axis.title = "Month"
    realization_col = 1 + 1 + METRIC_KEYS.index("realization_pct")
    chart.add_data(
        Reference(months, min_col=realization_col, min_row=1, max_row=last),
        titles_from_data=True,
    )
    chart.set_categories(Reference(months, min_col=1, min_row=2, max_row=last))
    for series in chart.series:
        series.smooth = False  # months are points, not a curve
    chart.height, chart.width = 8, 18
    xlsx.chart_below(months, chart, column=2)
    return chart


def _xlsx_groups(xlsx: _Xlsx, sheet: Any) -> None:
    """The breakdown's table and its chart of the first 20 groups in the table's order: the
    figure they are ranked by and their out-of-policy amount (:func:`group_chart_keys`), read
    from the table's own columns. With two keys or more
    the chart reads a small table of its own below, each bar named by all its keys
    (``Hardware / 2025-03``, not ``Hardware``), and sits beside it."""
    from openpyxl.chart import BarChart, Reference

    report, by = xlsx.report, xlsx.report.by
    last = xlsx.table(sheet, 1, [k for k, _ in report.groups], [m for _, m in report.groups], by)
    if not report.groups:
        return
    shown = report.groups[: GROUP_CHART_TOP["xlsx"]]
    chart = BarChart()
    chart.type = "bar"
    more = more_groups(report, len(shown))
    keys = group_chart_keys(report)
    chart.title = f"{LABELS[keys[0]]} and out of policy by {', '.join(by)}" + (
        f" ({more})" if more else ""
    )
    chart.height, chart.width = max(10, 0.9 * len(shown) + 3), 18
    if len(by) == 1:
        for key in keys:
            column = 2 + (*METRIC_KEYS, *EXTRA_KEYS).index(key)
            chart.add_data(
                Reference(sheet, min_col=column, min_row=1, max_row=1 + len(shown)),
                titles_from_data=True,
            )
        chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=1 + len(shown)))
        _bars_like_the_table(chart, xlsx.money_format.partition(".")[0], legend=True)
        _group_colours(chart)
        xlsx.chart_below(sheet, chart, column=2)
        return
    start = last + _CHART_GAP + 1
    sheet.cell(
        start, 1, f"The first {len(shown)} rows above, as the chart draws them"
    ).font = xlsx.bold
    xlsx.header(sheet, start + 1, [" / ".join(heading(b) for b in by), *map(heading, keys)])
    for i, (group, metrics) in enumerate(shown, start=start + 2):
        sheet.cell(i, 1, safe_text(" / ".join(group[b] for b in by))).data_type = "s"
        for j, name in enumerate(keys, start=2):
            sheet.cell(i, j, xlsx.value(metrics, name)).number_format = xlsx.money_format
    end = start + 1 + len(shown)
    xlsx.add_table(sheet, start + 1, end, 1 + len(keys))
    chart.add_data(
        Reference(sheet, min_col=2, max_col=1 + len(keys), min_row=start + 1, max_row=end),
        titles_from_data=True,
    )
    chart.set_categories(Reference(sheet, min_col=1, min_row=start + 2, max_row=end))
    _bars_like_the_table(chart, xlsx.money_format.partition(".")[0], legend=True)
    _group_colours(chart)
    xlsx.chart_beside(sheet, chart, row=start + 1)


def _group_colours(chart: Any) -> None:
    """Each column's bars in the colour the html gives them."""
    from openpyxl.chart.shapes import GraphicalProperties

    for series, colour in zip(chart.series, GROUP_CHART_COLOURS, strict=True):
        series.graphicalProperties = GraphicalProperties(solidFill=colour)


def _xlsx_waterfall(xlsx: _Xlsx, flow: Any) -> None:
    """The steps from list to net with their chart beside them, drawn from the table's own
    columns; the same steps per group below, with the same signs."""
    report, c, money_format = xlsx.report, xlsx.currency, xlsx.money_format
    xlsx.header(flow, 1, ["Step", f"Amount ({c})", "Bar from", "Bar length"])
    steps = waterfall(report.totals, c)
    bars = waterfall_bars(steps)
    for i, (step, (bar_from, length)) in enumerate(zip(steps, bars, strict=True), start=2):
        flow.cell(i, 1, step["step"])
        for column, amount in ((2, Decimal(step["amount"] or "0")), (3, bar_from), (4, length)):
            flow.cell(i, column, amount).number_format = money_format
    last = 1 + len(steps)
    xlsx.add_table(flow, 1, last, 4)
    axis_start = waterfall_axis_start(steps)
    note = WATERFALL_SIGNS + (
        f" The chart's axis starts at {axis_start:,.0f}, not at zero, so that every step shows."
        if axis_start
        else ""
    )
    _note(flow, last + 2, 4, note)
    chart = _waterfall_xlsx_chart(flow, steps, last, axis_start)
    _bars_like_the_table(chart, money_format.partition(".")[0])
    chart.height, chart.width = max(8, 0.8 * len(steps) + 3), 18  # bars of a readable height
    xlsx.chart_beside(flow, chart)
    if not report.by:
        return
    start = max(last + 3, chart_rows(chart)) + _CHART_GAP + 1
    flow.cell(start, 1, f"Per {', '.join(report.by)}, the same steps").font = xlsx.bold
    per_group = [waterfall(m, c) for _, m in report.groups]
    names = _step_names([steps, *per_group])
    xlsx.header(flow, start + 1, [*(heading(b) for b in report.by), *names])
    for i, ((group_key, _), group_steps) in enumerate(
        zip(report.groups, per_group, strict=True), start=start + 2
    ):
        for j, b in enumerate(report.by, start=1):
            flow.cell(i, j, safe_text(group_key[b])).data_type = "s"
        amounts = {str(s["step"]): Decimal(s["amount"] or "0") for s in group_steps}
        for j, name in enumerate(names, start=len(report.by) + 1):
            flow.cell(i, j, amounts.get(name, Decimal(0))).number_format = money_format
    xlsx.add_table(flow, start + 1, start + 1 + len(report.groups), len(report.by) + len(names))


WATERFALL_SIGNS = (
    "Each step as it moves revenue from list to net: a discount (money given away) is minus, "
    "a sale above its standard price plus. Tables of discounts and leakage show the amount "
    "given away."
)


def _note(sheet: Any, row: int, columns: int, text: str) -> None:
    """A sentence under a table, wrapped within the table's width."""
    from openpyxl.styles import Alignment

    sheet.cell(row, 1, text).alignment = Alignment(wrap_text=True, vertical="top")
    sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=columns)
    sheet.row_dimensions[row].height = 15 * 4


def _step_names(flows: list[list[dict[str, str | None]]]) -> list[str]:
    """Every step that any of the waterfalls has, each after the step it follows."""
    names: list[str] = []
    for flow in flows:
        for index, step in enumerate(flow):
            name = str(step["step"])
            if name not in names:
                after = str(flow[index - 1]["step"]) if index else None
                names.insert(names.index(after) + 1 if after in names else len(names), name)
    return names


# Each step's colour in both charts: totals dark, discounts lighter, out of policy red.
_STEP_COLOURS = {
    "List revenue": "1F3864",
    "Standard discount (marketing's tiers)": "8FAADC",
    "Standard revenue": "1F3864",
    "Special discount within policy or approved": "2F5597",
    "Out-of-policy discount": "C00000",
    "Special discount not judged (no policy in force)": "A6A6A6",
    ABOVE_STANDARD_STEP: "548235",
    "Net revenue": "1F3864",
}


def _step_colour(steps: list[dict[str, str | None]], index: int) -> str:
    """A step's colour in both charts: its own, else totals dark, a step down blue, up green."""
    step = steps[index]
    if str(step["step"]) in _STEP_COLOURS:
        return _STEP_COLOURS[str(step["step"])]
    if is_total_step(steps, index):
        return "1F3864"
    return "548235" if Decimal(step["amount"] or 0) > 0 else "2F5597"


def _waterfall_xlsx_chart(
    flow: Any, steps: list[dict[str, str | None]], last: int, axis_start: Decimal
) -> Any:
    """A waterfall as Excel draws one: bars stacked on an invisible first series (where each
    bar starts, column C), the visible second (its length, column D) coloured per step; the
    value axis from ``axis_start`` (where the table beside says it starts)."""
    from openpyxl.chart import BarChart, Reference
    from openpyxl.chart.marker import DataPoint
    from openpyxl.chart.shapes import GraphicalProperties

    chart = BarChart()
    chart.type = "bar"  # the steps' long names read across
    chart.grouping = "stacked"
    chart.overlap = 100
    chart.title = "From list to net" + (f" (axis from {axis_start:,.0f})" if axis_start else "")
    chart.add_data(
        Reference(flow, min_col=3, max_col=4, min_row=1, max_row=last), titles_from_data=True
    )
    chart.set_categories(Reference(flow, min_col=1, min_row=2, max_row=last))
    if axis_start:
        chart.y_axis.scaling.min = float(axis_start)
    base, bar = chart.series
    base.graphicalProperties = GraphicalProperties(noFill=True)
    base.graphicalProperties.line.noFill = True
    for index in range(len(steps)):
        point = DataPoint(idx=index)
        point.graphicalProperties = GraphicalProperties(solidFill=_step_colour(steps, index))
        bar.dPt.append(point)
    return chart


def _xlsx_bands(xlsx: _Xlsx, bands: Any) -> None:
    from openpyxl.chart import BarChart, Reference

    report = xlsx.report
    xlsx.header(
        bands,
        1,
        [heading(report.band_basis), "Lines", "Min %", "P10 %", "P25 %", "Median %", "P75 %",
         "P90 %", "Max %"],
    )  # fmt: skip
    for i, band in enumerate(report.bands, start=2):
        bands.cell(i, 1, safe_text(band.key)).data_type = "s"
        bands.cell(i, 2, band.lines).number_format = "#,##0"
        for j, label in enumerate(("min", "p10", "p25", "median", "p75", "p90", "max"), start=3):
            bands.cell(
                i, j, band.percentiles[label].quantize(Decimal("0.01"))
            ).number_format = '0.00"%"'
    xlsx.add_table(bands, 1, 1 + len(report.bands), 9)
    dist_row = len(report.bands) + 4
    bands.cell(dist_row, 1, f"Realized discount from list: {DISCOUNT_RANGES_SAID}").font = xlsx.bold
    xlsx.header(bands, dist_row + 1, ["Discount", "Lines"])
    for i, (label, count) in enumerate(report.distribution, start=dist_row + 2):
        bands.cell(i, 1, label)
        bands.cell(i, 2, count).number_format = "#,##0"
    xlsx.add_table(bands, dist_row + 1, dist_row + 1 + len(report.distribution), 2)
    if report.distribution:
        chart = BarChart()
        chart.title = "Discount distribution (lines)"
        end_row = dist_row + 1 + len(report.distribution)
        chart.add_data(
            Reference(bands, min_col=2, min_row=dist_row + 1, max_row=end_row),
            titles_from_data=True,
        )
        chart.set_categories(Reference(bands, min_col=1, min_row=dist_row + 2, max_row=end_row))
        chart.height, chart.width = 8, 16
        xlsx.chart_beside(bands, chart)


_OOP_COLUMNS = ["date", "deal", "customer", "rep", "sku", "qty", "list_price", "standard_price",
                "net_price", "discount_pct", "special_discount", "why"]  # fmt: skip


def _xlsx_unmatched(xlsx: _Xlsx, unmatched: Any) -> None:
    xlsx.header(unmatched, 1, [heading("sku"), "Lines", heading("net_revenue"), "First date",
                               "Last date"])  # fmt: skip
    for i, row in enumerate(xlsx.report.unmatched, start=2):
        unmatched.cell(i, 1, safe_text(row["sku"])).data_type = "s"
        unmatched.cell(i, 2, row["lines"]).number_format = "#,##0"
        net = round_money(row["net_revenue"], xlsx.currency)
        unmatched.cell(i, 3, net).number_format = xlsx.money_format
        unmatched.cell(i, 4, row["first"]).number_format = "yyyy-mm-dd"
        unmatched.cell(i, 5, row["last"]).number_format = "yyyy-mm-dd"
    xlsx.add_table(unmatched, 1, 1 + len(xlsx.report.unmatched), 5)


_CHECK_COLUMNS = ["date", "deal", "customer", "rep", "sku", "qty", "list_price", "standard_price",
                  "net_price", "net_amount", "why"]  # fmt: skip
_ADJUSTMENT_COLUMNS = ["date", "deal", "customer", "rep", "sku", "qty"]
_LINE_MONEY = ("list_price", "standard_price", "net_price", "net_amount", "special_discount")


def _xlsx_lines(xlsx: _Xlsx, sheet: Any, lines: list[dict[str, Any]], columns: list[str]) -> None:
    """A sheet listing lines (out of policy, those to check, the stock adjustments), one row
    each: money in the currency's minor units, a discount with 2 places."""
    xlsx.header(sheet, 1, [heading(name) for name in columns])
    for i, line in enumerate(lines, start=2):
        for j, name in enumerate(columns, start=1):
            raw = line[name]
            if isinstance(raw, Decimal) and name in _LINE_MONEY:
                raw = round_money(raw, xlsx.currency)
            elif isinstance(raw, Decimal) and name == "discount_pct":
                raw = raw.quantize(Decimal("0.01"))
            cell = sheet.cell(i, j, safe_text(raw))
            if isinstance(raw, str):
                cell.data_type = "s"
            elif name in _LINE_MONEY:
                cell.number_format = xlsx.money_format
            elif name == "discount_pct":
                cell.number_format = '0.00"%"'
            elif name == "qty":
                cell.number_format = "#,##0.###"
            elif name == "date":
                cell.number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A2"
    xlsx.add_table(sheet, 1, 1 + len(lines), len(columns))


# HTML ----------------------------------------------------------------------------------------


def _svg(figure: Any) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _charts(report: Report) -> dict[str, str]:
    import matplotlib

    matplotlib.use("svg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 9, "svg.fonttype": "none", "font.family": "sans-serif"})
    charts: dict[str, str] = {}
    if report.months:
        fig, ax = plt.subplots(figsize=(8, 2.8))
        labels = [m for m, _ in report.months]
        ax.plot(
            labels,
            [
                float("nan") if m.realization_pct is None else float(m.realization_pct)
                for _, m in report.months
            ],
            marker="o",
            color="#1f3864",
        )
        ax.set_ylabel("Realization % of list")
        ax.grid(axis="y", alpha=0.3)
        ax.tick_params(axis="x", rotation=60)
        step = max(1, len(labels) // 24)
        ax.set_xticks(range(0, len(labels), step), labels[::step])
        ax.lines[0].set_gid("months-line")
        points = {month: format_pct(m.realization_pct) or "" for month, m in report.months}
        charts["months"] = _with_data(
            _svg(fig), {}, {"months": ";".join(f"{k}={v}" for k, v in points.items())}
        )
        plt.close(fig)
    if report.groups:
        charts["groups"] = _groups_chart(report, plt)
    charts["waterfall"] = _waterfall_chart(report, plt)
    if report.distribution:
        fig, ax = plt.subplots(figsize=(8, 2.6))
        ax.bar(
            [label for label, _ in report.distribution],
            [n for _, n in report.distribution],
            color="#2f5597",
        )
        ax.set_ylabel("Lines")
        ax.yaxis.set_major_formatter(_thousands_formatter())
        ax.set_xlabel(f"Realized discount from list\n({DISCOUNT_RANGES_SAID})")
        charts["distribution"] = _svg(fig)
        plt.close(fig)
    return charts


def _thousands(x: float, _: Any = None) -> str:
    return f"{x:,.0f}"


# What the breakdown's charts draw per group: columns of the table beside them, as it shows them.
GROUP_CHART_COLOURS = ("2F5597", "C00000")  # the ranked figure's bars, the out-of-policy ones
GROUP_CHART_TOP = {"html": 15, "xlsx": 20}
GROUP_SIGNS = (
    "Discounts, leakage and the out-of-policy amount as the amount given away (a leakage below "
    "zero: sold above list); the chart draws the table's own numbers."
)


def group_chart_keys(report: Report) -> tuple[str, str]:
    """What the breakdown's charts draw per group: the figure the groups are ranked by (money;
    by a count or a percentage, the money given away) beside the out-of-policy amount, a part
    of the discounts given; columns of the table beside them, as it shows them."""
    ranked = report.sort
    if ranked not in MONEY_KEYS or ranked == "out_of_policy_amount":
        ranked = "gross_discount"
    return ranked, "out_of_policy_amount"


def more_groups(report: Report, shown: int) -> str:
    """What a chart of the first groups says of the rest (empty when it shows them all)."""
    rest = len(report.groups) - shown
    if rest <= 0:
        return ""
    return f"{rest:,} more in the table, not drawn"


def _groups_chart(report: Report, plt: Any) -> str:
    """The figure the groups are ranked by and their out-of-policy amount
    (:func:`group_chart_keys`), the very numbers of the table below it: the first groups in the
    table's order, a bar for each; the legend above the plot, over no bar."""
    from pricing.money import display_money

    top = report.groups[: GROUP_CHART_TOP["html"]]
    c = report.currency
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(top) + 1.3))
    names = [" / ".join(k.values()) for k, _ in top]
    rows = list(range(len(top)))
    data: dict[str, dict[str, str]] = {}
    keys = group_chart_keys(report)
    for offset, key, colour in zip((-0.2, 0.2), keys, GROUP_CHART_COLOURS, strict=True):
        color = "#" + colour.lower()
        values = [metric_value(m, key) for _, m in top]
        bars = ax.barh([r + offset for r in rows], [float(v) for v in values], height=0.38,
                       color=color, label=LABELS[key])  # fmt: skip
        for i, (bar, value) in enumerate(zip(bars, values, strict=True)):
            gid = f"bar-{key}-{i}"
            bar.set_gid(gid)
            data[gid] = {"group": names[i], "column": key, "value": str(format_money(value, c))}
            ax.annotate(
                display_money(value, c), (float(value), i + offset),
                xytext=(3 if value >= 0 else -3, 0), textcoords="offset points",
                ha="left" if value >= 0 else "right", va="center", fontsize=7,
            )  # fmt: skip
    ax.set_yticks(rows, names)
    ax.invert_yaxis()  # in the table's order, from the top
    ax.axvline(0, color="#444444", linewidth=0.8)
    low, high = ax.get_xlim()
    room = 0.15 * (high - low)  # for the amounts written at the bars' ends
    ax.set_xlim(low - room if low < 0 else low, high + room)
    more = more_groups(report, len(top))
    sign = "; below zero: sold above list" if keys[0] == "leakage" else ""
    ax.set_xlabel(f"{c}{sign}" + (f"\n{more}" if more else ""))
    ax.xaxis.set_major_formatter(_thousands_formatter())
    legend = ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, frameon=True,
                       edgecolor="none", facecolor="white", borderaxespad=0.3)  # fmt: skip
    legend.set_gid("legend")
    figure = _svg(fig)
    plt.close(fig)
    return _with_data(figure, data, {"shown": str(len(top)), "groups": str(len(report.groups))})


def _thousands_formatter() -> Any:
    import matplotlib.ticker

    return matplotlib.ticker.FuncFormatter(_thousands)


def _waterfall_chart(report: Report, plt: Any) -> str:
    """From list to net as a true waterfall, drawn from the steps of the table beside it: the
    totals as bars standing on the axis, every other step floating from where the one before it
    landed to where it lands (down for a discount, up for a sale above standard), its amount
    written with the sign the table gives it. When zero is far below the totals the value axis
    starts at a round number below the lowest of them, and its break is drawn and said."""
    c = report.currency
    steps = waterfall(report.totals, c)
    short = {  # each step's bar: its short name (another step: its name before a bracket)
        "List revenue": "List revenue",
        "Standard discount (marketing's tiers)": "Standard discount",
        "Standard revenue": "Standard revenue",
        "Special discount within policy or approved": "Special, in policy",
        "Out-of-policy discount": "Out of policy",
        "Special discount not judged (no policy in force)": "Not judged",
        ABOVE_STANDARD_STEP: "Above standard",
        "Net revenue": "Net revenue",
    }
    start_at = waterfall_axis_start(steps)
    axis_start = float(start_at)
    bars = waterfall_bars(steps)
    lefts = [max(float(start), axis_start) for start, _ in bars]
    rights = [float(start + length) for start, length in bars]
    fig, ax = plt.subplots(figsize=(5.6, 0.4 * len(steps) + 0.9))
    rows = list(range(len(steps)))
    drawn = ax.barh(
        rows,
        [right - left for left, right in zip(lefts, rights, strict=True)],
        left=lefts,
        color=["#" + _step_colour(steps, i).lower() for i in rows],
    )
    names = [str(s["step"]) for s in steps]
    ax.set_yticks(rows, [short.get(name, name.split(" (")[0]) for name in names])
    for i, bar in enumerate(drawn):
        bar.set_gid(f"waterfall-step-{i}")
        ax.annotate(
            _step_amount(steps, i, c), (max(lefts[i], rights[i]), i), xytext=(3, 0),
            textcoords="offset points", va="center", fontsize=8,
        )  # fmt: skip
    ax.invert_yaxis()  # list at the top, net at the bottom
    ax.xaxis.set_major_formatter(_thousands_formatter())
    ax.xaxis.set_major_locator(plt.MaxNLocator(4))  # long amounts: few ticks, none overlapping
    high = max([axis_start, *lefts, *rights])
    low = min([axis_start, *lefts, *rights])
    span = (high - low) or 1.0
    ax.set_xlim(axis_start if axis_start else low - 0.02 * span, high + 0.35 * span)
    ax.spines[["top", "right"]].set_visible(False)
    if axis_start:
        _axis_break(ax, steps, lefts)
        ax.set_xlabel(f"Amount ({c}); the axis starts at {axis_start:,.0f}, not at zero")
    else:
        ax.set_xlabel(f"Amount ({c})")
    ax.set_gid("waterfall")
    figure = _svg(fig)
    plt.close(fig)
    return _with_data(
        figure,
        {f"waterfall-step-{i}": {"step": str(s["step"]), "amount": str(s["amount"])}
         for i, s in enumerate(steps)},
        {"axis-start": str(start_at)},
    )  # fmt: skip


def _step_amount(steps: list[dict[str, str | None]], index: int, currency: str) -> str:
    """A step's amount as the table and the chart write it: a total as it is, a step with its
    sign (``-2,554,619.24``, ``+35,286.85``)."""
    from pricing.money import display_money

    amount = Decimal(steps[index]["amount"] or 0)
    sign = "+" if amount > 0 and not is_total_step(steps, index) else ""
    return sign + display_money(amount, currency)


def _axis_break(ax: Any, steps: list[dict[str, str | None]], lefts: list[float]) -> None:
    """The axis break made plain: a double slash on the value axis where it starts, and a white
    cut across each total's bar just after it (the bar goes on, down to zero)."""
    left, right = ax.get_xlim()
    cut = left + 0.02 * (right - left)
    for i in range(len(steps)):
        if is_total_step(steps, i) and lefts[i] <= left:
            ax.plot([cut - 0.004 * (right - left), cut + 0.004 * (right - left)], [i + 0.42, i - 0.42],
                    color="white", linewidth=2.5, solid_capstyle="butt")  # fmt: skip
    ax.text(left, 0, "//", transform=ax.get_xaxis_transform(), ha="center", va="center",
            fontsize=10, fontweight="bold", clip_on=False,
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5})  # fmt: skip


def _with_data(svg: str, bars: dict[str, dict[str, str]], chart: dict[str, str]) -> str:
    """The chart's svg with the numbers it draws as data attributes: on each bar's group (by
    its gid) and on the svg element itself, for a reader or a test to compare with the table."""
    import re

    def attributes(values: dict[str, str]) -> str:
        return "".join(f' data-{k}="{html.escape(v, quote=True)}"' for k, v in values.items())

    def one(match: re.Match[str]) -> str:
        gid = html.unescape(match.group(1))
        return match.group(0)[:-1] + attributes(bars[gid]) + ">" if gid in bars else match.group(0)

    svg = re.sub(r'<g id="([^"]*)">', one, svg)
    return svg.replace("<svg ", "<svg" + attributes(chart) + " ", 1)


def _write_html(report: Report, path: Path) -> None:
    charts = _charts(report)
    sections = [*_html_top(report, charts), *_html_breakdowns(report, charts), *_html_lines(report)]
    path.write_text(_html_page("".join(sections)), encoding="utf-8")


def _esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _html_metrics(metrics: Metrics, c: str) -> dict[str, Any]:
    """A metrics document with amounts and counts as people read them."""
    from pricing.money import display_money

    document = metrics_document(metrics, c)
    for key in MONEY_KEYS:
        if document.get(key) is not None:
            document[key] = display_money(metric_value(metrics, key), c)
    for key in COUNT_KEYS:
        document[key] = f"{document[key]:,}"
    for key in PCT_KEYS:
        if document.get(key) is None:
            document[key] = "n/a"  # a percentage of nothing
    return document


_HTML_GROUP_KEYS = ("lines", "deals", "list_revenue", "net_revenue", "gross_discount",
                    "standard_discount", "special_discount", "above_standard_amount", "leakage",
                    "realization_pct", "out_of_policy_lines", "out_of_policy_amount",
                    "returns_amount", "unmatched_net_revenue")  # fmt: skip


def _html_top(report: Report, charts: dict[str, str]) -> list[str]:
    """The title, the headline cards and the waterfall from list to net."""
    c = report.currency
    t = _html_metrics(report.totals, c)
    esc = _esc
    cards = "".join(
        f'<div class="card"><div class="label">{esc(LABELS[k])}</div><div class="value">{esc(t[k])}'
        f"{' %' if k in PCT_KEYS and t[k] != 'n/a' else ''}</div></div>"
        for k in (
            "net_revenue",
            "leakage",
            "realization_pct",
            "gross_discount",
            "special_discount",
            "above_standard_amount",
            "out_of_policy_amount",
            "out_of_policy_lines",
            "returns_amount",
            "net_after_returns",
            "unmatched_net_revenue",
        )
    )
    steps = waterfall(report.totals, c)
    flow_rows = "".join(
        f"<tr><td>{esc(s['step'])}</td><td class='num'>{esc(_step_amount(steps, i, c))}</td></tr>"
        for i, s in enumerate(steps)
    )
    period = f"{report.start or 'first deal'} to {report.end or 'last deal'}"
    return [
        f"<h1>Price drift report</h1><p class='sub'>Period {esc(period)} &middot; amounts in {esc(c)} &middot; "
        f"{report.totals.lines:,} deal lines in {report.totals.deals:,} deals</p>",
        f"<div class='cards'>{cards}</div>",
        *(
            [f"<p class='note'>{esc(note)}; out-of-policy figures cover the judged lines only.</p>"]
            if (note := unjudged_note(report.totals, c))
            else []
        ),
        *(f"<p class='note'>{esc(said[0].upper() + said[1:])}.</p>" for said in notes(report)),
        f"<h2>From list to net</h2><p class='sub'>{esc(WATERFALL_SIGNS)}</p><div class='beside'>"
        f"<table class='narrow'><tr><th>Step</th><th>Amount ({esc(c)})</th></tr>{flow_rows}</table>"
        f"<figure class='waterfall'>{charts['waterfall']}</figure></div>",
    ]


def _html_breakdowns(report: Report, charts: dict[str, str]) -> list[str]:
    """Months, the groups asked for, the discount distribution and the price bands."""
    c, esc, keys = report.currency, _esc, _HTML_GROUP_KEYS
    group_rows = "".join(
        "<tr>" + "".join(f"<td>{esc(key[b])}</td>" for b in report.by)
        + "".join(f"<td class='num'>{esc(_html_metrics(m, c)[k])}</td>" for k in keys) + "</tr>"
        for key, m in report.groups
    )  # fmt: skip
    band_rows = "".join(
        f"<tr><td>{esc(b.key)}</td><td class='num'>{b.lines:,}</td>"
        + "".join(f"<td class='num'>{esc(format_pct(b.percentiles[p]))}</td>" for p in ("min", "p10", "p25", "median", "p75", "p90", "max"))
        + "</tr>"
        for b in report.bands
    )  # fmt: skip
    group_head = "".join(f"<th>{esc(b.title())}</th>" for b in report.by) + "".join(
        f"<th>{esc(LABELS[k])}</th>" for k in keys
    )
    sections: list[str] = []
    if "months" in charts:
        sections.append(f"<h2>Realization by month</h2><figure>{charts['months']}</figure>")
    if report.by:
        sections.append(
            f"<h2>By {esc(', '.join(report.by))}</h2><p class='sub'>Ranked by "
            f"{esc(LABELS[report.sort].lower())}, {ranking_order(report.sort)}. "
            f"{esc(GROUP_SIGNS)}</p>"
        )
        if "groups" in charts:
            sections.append(f"<figure>{charts['groups']}</figure>")
        if report.deals_overlap:
            sections.append(
                "<p class='note'>Deals overlap: a deal with lines in several groups counts in "
                f"each (the groups count {sum(m.deals for _, m in report.groups):,} deals, the "
                f"total {report.totals.deals:,}).</p>"
            )
        sections.append(f"<table><tr>{group_head}</tr>{group_rows}</table>")
    if "distribution" in charts:
        sections.append(
            f"<h2>Realized discount distribution</h2><figure>{charts['distribution']}</figure>"
        )
    if report.bands:
        sections.append(
            f"<h2>Price bands by {esc(report.band_basis)} (realized discount from list, %)</h2><table><tr><th>{esc(report.band_basis.title())}</th>"
            "<th>Lines</th><th>Min</th><th>P10</th><th>P25</th><th>Median</th><th>P75</th><th>P90</th><th>Max</th></tr>"
            f"{band_rows}</table>"
        )
    return sections


def _html_lines(report: Report) -> list[str]:
    """The out-of-policy lines (the first 500) and the unmatched SKUs (the first 200)."""
    from pricing.money import display_money

    c, esc = report.currency, _esc

    def cells(line: dict[str, Any]) -> str:
        """The cells every listed line begins with: when, which deal, who, what, how many."""
        return (
            f"<td>{esc(line['date'])}</td><td>{esc(line['deal'])}</td><td>{esc(line['customer'])}</td>"
            f"<td>{esc(line['rep'])}</td><td>{esc(line['sku'])}</td><td class='num'>{esc(line['qty'])}</td>"
        )  # fmt: skip

    oop_rows = "".join(
        f"<tr>{cells(line)}"
        f"<td class='num'>{esc(display_money(line['net_price'], c))}</td><td class='num'>{esc(format_pct(line['discount_pct']))}</td>"
        f"<td>{esc(line['why'])}</td></tr>"
        for line in report.out_of_policy[:500]
    )  # fmt: skip
    unmatched_rows = "".join(
        f"<tr><td>{esc(u['sku'])}</td><td class='num'>{u['lines']:,}</td>"
        f"<td class='num'>{esc(display_money(u['net_revenue'], c))}</td><td>{esc(u['first'])}</td><td>{esc(u['last'])}</td></tr>"
        for u in report.unmatched[:200]
    )  # fmt: skip
    flagged_rows = "".join(
        f"<tr>{cells(line)}<td class='num'>{esc(display_money(line['standard_price'], c))}</td>"
        f"<td class='num'>{esc(display_money(line['net_amount'], c))}</td><td>{esc(line['why'])}</td></tr>"
        for line in report.flagged[:500]
    )  # fmt: skip
    adjustment_rows = "".join(
        f"<tr>{cells(line)}</tr>" for line in report.stock_adjustments[:500]
    )  # fmt: skip
    sections: list[str] = []
    sections.append(
        f"<h2>Out of policy ({report.totals.out_of_policy_lines:,} lines"
        + (", first 500 shown" if len(report.out_of_policy) > 500 else "")
        + (
            f"; {report.totals.unjudged_lines:,} lines not judged: no policy in force on their dates"
            if report.totals.unjudged_lines
            else ""
        )
        + ")</h2><table><tr><th>Date</th><th>Deal</th><th>Customer</th><th>Rep</th><th>SKU</th><th>Quantity</th>"
        f"<th>Net price</th><th>Discount %</th><th>Why</th></tr>{oop_rows}</table>"
    )
    t = report.totals
    if report.unmatched:
        sections.append(
            f"<h2>Unmatched: no list price on the deal's date ({t.unmatched_lines:,} lines, net "
            f"{esc(display_money(t.unmatched_net_revenue, c))}"
            + (f"; first 200 of {len(report.unmatched):,} SKUs shown" if len(report.unmatched) > 200 else "")
            + ")</h2><table class='narrow'><tr><th>SKU</th><th>Lines</th><th>Net revenue</th><th>First</th>"
            f"<th>Last</th></tr>{unmatched_rows}</table>"
        )  # fmt: skip
    if report.flagged:
        count = t.above_standard_flagged_lines + t.returns_above_list_lines
        sections.append(
            f"<h2>To check: price or quantity ({count:,} lines"
            + (", first 500 shown" if count > 500 else "")
            + ")</h2><table><tr><th>Date</th><th>Deal</th><th>Customer</th><th>Rep</th><th>SKU</th>"
            "<th>Quantity</th><th>Standard price</th><th>Net amount</th><th>Why</th></tr>"
            f"{flagged_rows}</table>"
        )
    if report.stock_adjustments:
        sections.append(
            f"<h2>Stock adjustments: negative quantity at price 0 ({t.stock_adjustment_lines:,} lines"
            + (", first 500 shown" if t.stock_adjustment_lines > 500 else "")
            + ")</h2><table class='narrow'><tr><th>Date</th><th>Deal</th><th>Customer</th><th>Rep</th>"
            f"<th>SKU</th><th>Quantity</th></tr>{adjustment_rows}</table>"
        )
    return sections


def _html_page(body: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Price drift report</title>
<style>
body {{ font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; padding: 0 1em; }}
h1 {{ margin-bottom: 0.1em; color: #1f3864; }} h2 {{ margin-top: 1.6em; color: #1f3864; border-bottom: 1px solid #ddd; }}
.sub {{ color: #666; margin-top: 0; }} .note {{ color: #9c5700; font-weight: 600; }}
.cards {{ display: flex; flex-wrap: wrap; gap: 12px; }}
.card {{ border: 1px solid #d9e1f2; border-radius: 6px; padding: 10px 14px; min-width: 150px; background: #f7f9fc; }}
.card .label {{ font-size: 12px; color: #555; }} .card .value {{ font-size: 20px; font-weight: 600; }}
table {{ border-collapse: collapse; width: 100%; font-size: 13px; }} table.narrow {{ width: auto; }}
th, td {{ border-bottom: 1px solid #e5e5e5; padding: 4px 8px; text-align: left; }}
th {{ background: #1f3864; color: #fff; font-weight: 600; }} td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
figure {{ margin: 0.5em 0; }} .beside {{ display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }}
.beside figure {{ flex: 1 1 420px; margin: 0; }} figure svg {{ max-width: 100%; height: auto; }}
@media print {{ body {{ max-width: none; margin: 0; }} h2 {{ page-break-after: avoid; }} table, figure {{ page-break-inside: avoid; }}
  th {{ background: #ddd !important; color: #000; }} }}
</style></head><body>
{body}
</body></html>
"""
