"""The drift report as an Excel workbook: a sheet per view (summary, months, the breakdown,
the waterfall, price bands, the listed lines), numbers as numbers in the currency's format, and
native Excel charts drawn from the sheets' own cells.

It stands apart from the html page (:mod:`pricing.analysis.report_html`) and the plain files
(:mod:`pricing.analysis.report_files`): it is the only part of the report that needs openpyxl,
and laying out sheets (where tables are, how wide a column, where a chart may go) is a concern
of its own.
"""

from __future__ import annotations

from copy import deepcopy
from decimal import Decimal
from pathlib import Path
from typing import Any

from pricing.analysis.report import EXTRA_KEYS, METRIC_KEYS, Report
from pricing.analysis.report_charts import (
    GROUP_CHART_COLOURS,
    GROUP_CHART_TOP,
    WATERFALL_SIGNS,
    group_chart_keys,
    more_groups,
    step_colour,
    waterfall_axis_start,
    waterfall_bars,
)
from pricing.analysis.report_document import (
    COUNT_KEYS,
    LABELS,
    MONEY_KEYS,
    PCT_KEYS,
    heading,
    metric_value,
    notes,
    safe_text,
    unjudged_note,
    waterfall,
)
from pricing.analysis.report_figures import DISCOUNT_RANGES_SAID, Metrics
from pricing.money import round_money

# Sizes as Excel and LibreOffice lay them out: a row of the default height is 20 px, a column
# of width w (characters of the default font) is 7w + 5 px, and a pixel is 1/96 inch.
_ROW_CM = 20 * 2.54 / 96
_CHART_GAP = 2  # empty rows or columns between a table and a chart


def write_xlsx(report: Report, path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    xlsx = _Xlsx(report)
    summary = book.active
    own = f"Price drift report: sales in {report.currency}" if report.sections else None
    _xlsx_summary(xlsx, summary, own or "Price drift report")
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
    for apart in report.others:  # each other currency's sales: sheets of their own
        other = _Xlsx(apart)
        code = apart.currency
        _xlsx_summary(other, book.create_sheet(), f"Sales in {code}", f"Summary {code}")
        if report.by:
            _xlsx_groups(other, book.create_sheet(f"By {', '.join(report.by)}"[:27] + f" {code}"))
        for name, listed, columns in (  # (the lines of its own, where it has any)
            ("Out of policy", apart.out_of_policy, _OOP_COLUMNS),
            ("To check", apart.flagged, _CHECK_COLUMNS),
            ("Stock adjustments", apart.stock_adjustments, _ADJUSTMENT_COLUMNS),
        ):
            if listed:
                _xlsx_lines(other, book.create_sheet(f"{name} {code}"), listed, columns)
        xlsx.tables.update(other.tables)
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

        from pricing.money import excel_format

        self.report = report
        self.currency = report.currency
        self.money_format = excel_format(report.currency)
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


def _xlsx_summary(
    xlsx: _Xlsx, summary: Any, title: str = "Price drift report", name: str = "Summary"
) -> None:
    from openpyxl.styles import Font

    report = xlsx.report
    summary.title = name
    summary["A1"] = title
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
    figure they are ranked by and their out-of-policy amount
    (:func:`report_charts.group_chart_keys`), read from the table's own columns. With two keys
    or more
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
        point.graphicalProperties = GraphicalProperties(solidFill=step_colour(steps, index))
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
