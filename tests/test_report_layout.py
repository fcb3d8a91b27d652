"""The report files read like finished work: in the xlsx no chart lies over a table, every number
fits its column, a two-key chart names both keys, a header is spelled the same on every sheet; in the
html the waterfall is drawn beside its table and no legend covers a bar. Read back from the files
as a person's spreadsheet program or browser would lay them out, over the sample data."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from tests.conftest import SAMPLE_DATA, Cli

HEADER_FILL = "1F3864"
SVG = "{http://www.w3.org/2000/svg}"
Box = tuple[float, float, float, float]  # left, top, right, bottom


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Both sample price books, the sample guardrails and two years of deals, as in the demo."""
    folder = tmp_path_factory.mktemp("layout")
    cli = Cli(f"sqlite:///{folder / 'pricing.db'}", user="dana")
    for year in ("2025", "2026"):
        book, effective = SAMPLE_DATA / f"price-book-{year}.xlsx", f"{year}-01-01"
        assert (
            cli("pricebook", "import", str(book), "--effective", effective, user="mia").exit_code
            == 0
        )
    assert cli("policy", "load", str(SAMPLE_DATA / "guardrails.toml")).exit_code == 0
    assert cli("deals", "import", str(SAMPLE_DATA / "deals-2025-2026.csv")).exit_code == 0
    written = {
        "rep_family.xlsx": "rep,family",
        "family_month.xlsx": "family,month",
        "sku.xlsx": "sku",
        "rep_family.html": "rep,family",
        "rep.html": "rep",
    }
    for name, by in written.items():
        result = cli("report", "--by", by, "-o", str(folder / name))
        assert result.exit_code == 0, result.output
    cli.close()
    return {name: folder / name for name in written}


# xlsx ----------------------------------------------------------------------------------------


def tables(sheet: Any) -> list[tuple[int, int, int, int]]:
    """Each table as (first row, first column, last row, last column): a row of header-styled
    cells and the rows under it down to the first empty one."""
    found = []
    for row in sheet.iter_rows():
        heads = [
            c for c in row if c.fill is not None and str(c.fill.fgColor.rgb).endswith(HEADER_FILL)
        ]
        if not heads:
            continue
        first_col, last_col = heads[0].column, heads[-1].column
        last_row = heads[0].row
        while any(
            sheet.cell(last_row + 1, col).value is not None
            for col in range(first_col, last_col + 1)
        ):
            last_row += 1
        found.append((heads[0].row, first_col, last_row, last_col))
    return found


def column_px(sheet: Any, col: int) -> float:
    """A column's width in pixels as Excel and LibreOffice draw it (8.43 characters when unset)."""
    dimension = sheet.column_dimensions.get(get_column_letter(col))
    width = dimension.width if dimension is not None and dimension.customWidth else 8.43
    return width * 7 + 5


def row_px(sheet: Any, row: int) -> float:
    dimension = sheet.row_dimensions.get(row)
    points = dimension.height if dimension is not None and dimension.height else 15
    return points * 96 / 72


def chart_cells(sheet: Any, chart: Any) -> tuple[int, int, int, int]:
    """The cells a chart covers: (first row, first column, last row, last column), 1-based."""
    anchor = chart.anchor
    first_col, first_row = anchor._from.col + 1, anchor._from.row + 1
    width_px, height_px = anchor.ext.width / 9525, anchor.ext.height / 9525
    col, seen = first_col, -anchor._from.colOff / 9525
    while seen + column_px(sheet, col) < width_px:
        seen += column_px(sheet, col)
        col += 1
    row, seen = first_row, -anchor._from.rowOff / 9525
    while seen + row_px(sheet, row) < height_px:
        seen += row_px(sheet, row)
        row += 1
    return first_row, first_col, row, col


def overlaps(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return not (a[2] < b[0] or b[2] < a[0] or a[3] < b[1] or b[3] < a[1])


def shown(value: Any, number_format: str) -> str:
    """A number as its cell's number format shows it."""
    number = Decimal(str(value))
    if number_format == '0.00"%"':
        return f"{number:.2f}%"
    if number_format == "#,##0.###":
        return f"{number.normalize():,f}"
    if number_format.startswith("#,##0"):
        places = len(number_format.partition(".")[2])
        return f"{number:,.{places}f}"
    return str(value)


XLSX = ("rep_family.xlsx", "family_month.xlsx", "sku.xlsx")


@pytest.mark.parametrize("name", XLSX)
def test_xlsx__no_chart_lies_over_a_table(files: dict[str, Path], name: str) -> None:
    book = load_workbook(files[name])
    charts = 0
    for sheet in book.worksheets:
        for chart in sheet._charts:
            charts += 1
            covered = chart_cells(sheet, chart)
            for table in tables(sheet):
                assert not overlaps(covered, table), (sheet.title, covered, table)
    assert charts == 5  # summary, by month, the breakdown, waterfall, discount distribution
    waterfall = tables(book["Waterfall"])
    assert len(waterfall) == 2 and waterfall[1][2] - waterfall[1][0] > 10  # steps, and per group


@pytest.mark.parametrize("name", XLSX)
def test_xlsx__every_number_fits_its_column_with_thousands_separators(
    files: dict[str, Path], name: str
) -> None:
    book = load_workbook(files[name])
    checked = 0
    for sheet in book.worksheets:
        for first_row, first_col, last_row, last_col in tables(sheet):
            for row in sheet.iter_rows(first_row + 1, last_row, first_col, last_col):
                for cell in row:
                    if not isinstance(cell.value, (int, float)) or isinstance(cell.value, bool):
                        continue
                    text = shown(cell.value, cell.number_format)
                    width = (column_px(sheet, cell.column) - 5) / 7
                    assert width >= len(text) + 1, (sheet.title, cell.coordinate, text, width)
                    if abs(cell.value) >= 1000 and not cell.number_format.endswith('"%"'):
                        assert "," in text, (sheet.title, cell.coordinate, cell.number_format)
                    checked += 1
    assert checked > 1000


def test_xlsx__a_header_is_spelled_the_same_on_every_sheet(files: dict[str, Path]) -> None:
    spellings: dict[str, set[str]] = {}
    for name in XLSX:
        for sheet in load_workbook(files[name]).worksheets:
            for first_row, first_col, _, last_col in tables(sheet):
                for col in range(first_col, last_col + 1):
                    header = str(sheet.cell(first_row, col).value)
                    key = re.sub(r"[^a-z0-9%]", "", header.lower().replace("pct", "%"))
                    spellings.setdefault(key, set()).add(header)
    assert {k: v for k, v in spellings.items() if len(v) > 1} == {}
    out_of_policy = load_workbook(files["rep_family.xlsx"])["Out of policy"]
    headers = [c.value for c in out_of_policy[1]]
    assert "SKU" in headers and "Discount %" in headers and "Quantity" in headers
    assert spellings["sku"] == {"SKU"}  # the sku breakdown's key column too


def test_xlsx__a_two_key_chart_labels_its_bars_with_both_keys(files: dict[str, Path]) -> None:
    sheet = load_workbook(files["family_month.xlsx"])["By family, month"]
    (chart,) = sheet._charts
    categories = chart.series[0].cat.numRef or chart.series[0].cat.strRef
    where = re.fullmatch(r"'By family, month'!\$A\$(\d+):\$A\$(\d+)", categories.f)
    assert where is not None, categories.f
    first, last = where.groups()
    labels = [sheet.cell(row, 1).value for row in range(int(first), int(last) + 1)]
    groups = [
        f"{row[0]} / {row[1]}" for row in sheet.iter_rows(min_row=2, max_row=21, values_only=True)
    ]
    assert labels == groups and len(labels) == 20  # "Hardware / 2025-03", in the table's order
    values = chart.series[0].val.numRef.f
    assert values == f"'By family, month'!$B${first}:$B${last}"
    assert [sheet.cell(row, 2).value for row in range(int(first), int(last) + 1)] == [
        row[8] for row in sheet.iter_rows(min_row=2, max_row=21, values_only=True)
    ]  # the leakage of each group
    one_key = load_workbook(files["sku.xlsx"])["By sku"]._charts[0]
    assert one_key.series[0].cat.numRef.f.startswith("'By sku'!$A$2:$A$")


# html ----------------------------------------------------------------------------------------


def svgs(page: str) -> list[ET.Element]:
    return [ET.fromstring(m) for m in re.findall(r"<svg.*?</svg>", page, flags=re.S)]


def path_box(path: ET.Element) -> Box:
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path.get("d", ""))]
    xs, ys = numbers[0::2], numbers[1::2]
    return min(xs), min(ys), max(xs), max(ys)


def group_boxes(svg: ET.Element, prefix: str) -> list[Box]:
    return [
        path_box(path)
        for group in svg.iter(f"{SVG}g")
        if group.get("id", "").startswith(prefix)
        for path in group.iter(f"{SVG}path")
    ]


def intersects(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("name", ["rep_family.html", "rep.html"])
def test_html__no_legend_covers_a_bar(files: dict[str, Path], name: str) -> None:
    page = files[name].read_text(encoding="utf-8")
    (chart,) = [svg for svg in svgs(page) if group_boxes(svg, "legend")]
    bars = [box for box in group_boxes(chart, "bar-") if box[2] > box[0]]  # drawn bars
    (legend, *_) = group_boxes(chart, "legend")  # its frame encloses the rest
    assert len(bars) >= 8  # two bars (leakage, out of policy) per group, four reps at least
    assert [bar for bar in bars if intersects(legend, bar)] == []


def test_html__from_list_to_net_is_a_waterfall_beside_its_table(files: dict[str, Path]) -> None:
    page = files["rep_family.html"].read_text(encoding="utf-8")
    section = page[page.index("<h2>From list to net</h2>") :]
    section = section[: section.index("<h2>", 5)]
    beside = re.search(
        r"<div class='beside'><table.*?</table><figure class='waterfall'><svg", section, re.S
    )
    assert beside is not None
    (chart,) = [svg for svg in svgs(section)]
    steps = [group_boxes(chart, f"waterfall-step-{i}")[0] for i in range(6)]
    list_, standard_discount, standard, inside, outside, net = steps
    # Each discount hangs from where the step before it landed (in svg x, a bar's left and right).
    assert (
        abs(standard_discount[2] - list_[2]) < 0.01
        and abs(standard_discount[0] - standard[2]) < 0.01
    )
    assert abs(inside[2] - standard[2]) < 0.01 and abs(outside[2] - inside[0]) < 0.01
    assert abs(outside[0] - net[2]) < 0.01
    labels = [t.text or "" for t in chart.iter(f"{SVG}text")]
    assert any(re.fullmatch(r"\d{1,3}(,\d{3})+\.\d\d", label) for label in labels)


def test_html__money_is_shown_with_thousands_separators(files: dict[str, Path]) -> None:
    page = files["rep_family.html"].read_text(encoding="utf-8")
    text = re.sub(r"<svg.*?</svg>", "", page, flags=re.S)
    cells = re.findall(r"<td class='num'>([^<]*)</td>|<div class=\"value\">([^<]*)</div>", text)
    values = [a or b for a, b in cells]
    assert len(values) > 100
    assert [v for v in values if re.search(r"\d{4}", v)] == []
    axis = [t.text or "" for svg in svgs(page) for t in svg.iter(f"{SVG}text")]
    assert [t for t in axis if re.fullmatch(r"-?\d{4,}(\.\d+)?", t)] == []


def test_xlsx__from_list_to_net_is_drawn_as_a_waterfall(files: dict[str, Path]) -> None:
    """The Waterfall sheet's chart stacks each step's bar on an invisible base (where the bar
    starts): totals stand on zero, each discount hangs from where the step before it landed."""
    book = load_workbook(files["rep_family.xlsx"])
    sheet = book["Waterfall"]
    (chart,) = sheet._charts
    assert (chart.grouping, chart.overlap) == ("stacked", 100)
    base, bar = chart.series
    assert base.graphicalProperties.noFill and base.graphicalProperties.line.noFill
    first_row, _, last_row, last_col = tables(sheet)[0]
    assert last_col == 4 and len(bar.dPt) == last_row - first_row  # a colour per step
    steps = list(sheet.iter_rows(first_row + 1, last_row, 1, 4, values_only=True))
    level = Decimal(0)
    for name, amount, start, length in steps:
        amount, start, length = Decimal(str(amount)), Decimal(str(start)), Decimal(str(length))
        if name in ("List revenue", "Standard revenue", "Net revenue"):
            assert (start, length) == (0, amount), name
            level = amount
        else:
            assert (start, length) == (level + amount, -amount), name
            level += amount
    assert steps[-1][0] == "Net revenue" and Decimal(str(steps[-1][1])) == level
