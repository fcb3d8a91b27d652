"""The report's charts say what their tables and `report --json` say: each chart's data is read
back from the file (the bars' geometry in the html's SVG, the chart's ranges and the cells they
point to in the xlsx) and compared with the JSON, over deals built here: a rep whose sales above
list net his leakage down to -50.00 while his out-of-policy lines gave away 5,000.00."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.utils.cell import range_boundaries

from tests.conftest import Cli, write_workbook

SVG = "{http://www.w3.org/2000/svg}"
TOTALS = ("List revenue", "Standard revenue", "Net revenue")

DEALS = """Order ID,Order Date,Sales Rep,Customer,SKU,Quantity,Net Price
O-1,2025-03-01,lee,Acme,SV-1,100,50.00
O-2,2025-03-02,lee,Acme,HW-100,100,170.50
O-3,2025-04-01,sam,Globex,HW-100,10,118.00
O-4,2025-04-02,priya,Initech,SV-1,20,97.00
O-5,2025-05-01,marco,Umbrella,HW-100,60,100.00
"""


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The deals above under a price book with a tier (HW-100: 114.00 from 50) and the
    guardrails of the policy tests; the report by rep as JSON, html and xlsx."""
    from tests.test_policy import POLICY

    folder = tmp_path_factory.mktemp("charts")
    cli = Cli(f"sqlite:///{folder / 'pricing.db'}")
    book = write_workbook(folder / "book.xlsx", {
        "Price Book": [["SKU", "Family", "List Price", "Unit Cost"], ["HW-100", "Hardware", 120, 70],
                       ["SV-1", "Services", 100, 60]],
        "Tiers": [["SKU", "Min Qty", "Price"], ["HW-100", 50, 114]],
    })  # fmt: skip
    assert cli("pricebook", "import", str(book), "--effective", "2025-01-01").exit_code == 0
    policy = folder / "policy.toml"
    policy.write_text(POLICY.replace("approval_valid_days = 30", "approval_valid_days = 30\n"
                                     "effective_from = 2025-01-01"))  # fmt: skip
    assert cli("policy", "load", str(policy), user="dana").exit_code == 0
    deals = folder / "deals.csv"
    deals.write_text(DEALS)
    assert cli("deals", "import", str(deals)).exit_code == 0
    for name in ("report.html", "report.xlsx"):
        result = cli("report", "--by", "rep", "-o", str(folder / name))
        assert result.exit_code == 0, result.output
        result = cli("report", "--by", "rep", "--sort", "leakage", "-o", str(folder / f"l-{name}"))
        assert result.exit_code == 0, result.output
    made = {
        "json": cli.json("report", "--by", "rep"),
        "by leakage": {
            "json": cli.json("report", "--by", "rep", "--sort", "leakage"),
            "html": (folder / "l-report.html").read_text(encoding="utf-8"),
            "xlsx": folder / "l-report.xlsx",
        },
        "months": cli.json("report", "--by", "month")["groups"],
        "html": (folder / "report.html").read_text(encoding="utf-8"),
        "xlsx": folder / "report.xlsx",
    }
    cli.close()
    return made


def running(steps: list[dict[str, str]]) -> list[tuple[Decimal, Decimal]]:
    """Each step of the JSON waterfall as (where its bar starts, where it ends) on the value
    axis: a total from zero to its amount, any other step from where the last one landed."""
    level, spans = Decimal(0), []
    for index, step in enumerate(steps):
        amount = Decimal(step["amount"])
        if is_total(steps, index):
            spans.append((Decimal(0), amount))
            level = amount
        else:
            spans.append((level, level + amount))
            level += amount
    return spans


def lowest_total(steps: list[dict[str, str]]) -> Decimal:
    return min(
        end
        for index, (start, end) in enumerate(running(steps))
        for end in ((end,) if is_total(steps, index) else (start, end))
    )


# html ----------------------------------------------------------------------------------------


def svgs(page: str) -> list[ET.Element]:
    return [ET.fromstring(m) for m in re.findall(r"<svg.*?</svg>", page, flags=re.S)]


def bar_box(group: ET.Element) -> tuple[float, float]:
    """A bar's left and right edge in the SVG's x."""
    (path,) = list(group.iter(f"{SVG}path"))
    xs = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path.get("d", ""))][0::2]
    return min(xs), max(xs)


def chart_of(page: str, gid: str) -> ET.Element:
    (chart,) = [svg for svg in svgs(page) if any(g.get("id") == gid for g in svg.iter(f"{SVG}g"))]
    return chart


def texts(chart: ET.Element) -> list[str]:
    return [t.text or "" for t in chart.iter(f"{SVG}text")]


def waterfall_bars(page: str) -> tuple[ET.Element, list[ET.Element]]:
    chart = chart_of(page, "waterfall-step-0")
    bars = [g for g in chart.iter(f"{SVG}g") if g.get("id", "").startswith("waterfall-step-")]
    return chart, bars


def group_bars(page: str) -> dict[tuple[str, str], tuple[float, float, str]]:
    """The breakdown chart's bars by (group, column): left and right edges, the value said."""
    (chart,) = [svg for svg in svgs(page) if any(g.get("data-column") for g in svg.iter(f"{SVG}g"))]
    return {
        (group.get("data-group", ""), group.get("data-column", "")): (
            *bar_box(group),
            group.get("data-value", ""),
        )
        for group in chart.iter(f"{SVG}g")
        if group.get("data-column")
    }


def bars_are_the_json(report: dict[str, Any], page: str) -> dict[tuple[str, str], Decimal]:
    """Each bar of the breakdown chart starts at zero and ends at its group's figure in the
    JSON, at one scale for every bar; the columns drawn are the figure the groups are ranked
    by and the out-of-policy amount. The figures drawn, by (group, column)."""
    drawn = group_bars(page)
    columns = {column for _, column in drawn}
    assert columns == {report["sort"], "out_of_policy_amount"}
    expected = {
        (g["key"]["rep"], column): Decimal(g[column])
        for g in report["groups"]
        for column in columns
    }
    assert set(drawn) == set(expected)
    # Zero is where every bar of a positive amount starts and every negative one ends.
    zero = {left for (left, _, value) in drawn.values() if Decimal(value) > 0}
    assert len({round(x, 2) for x in zero}) == 1
    (x0,) = {round(x, 2) for x in zero}
    widest = max(drawn.values(), key=lambda bar: abs(Decimal(bar[2])))
    scale = (widest[1] - widest[0]) / float(abs(Decimal(widest[2])))  # one for every bar
    for key, amount in expected.items():
        left, right, value = drawn[key]
        assert Decimal(value) == amount, key
        start, end = (left, right) if amount >= 0 else (right, left)
        assert abs(start - x0) < 0.01, key  # from zero ...
        assert abs((end - x0) - scale * float(amount)) < 0.05, key  # ... to the amount
    return expected


def test_html__the_rep_chart_draws_the_discounts_given_it_ranks_by_beside_out_of_policy(
    made: dict[str, Any],
) -> None:
    """The groups are ranked by the discounts given: the chart draws each rep's discounts
    given beside his out-of-policy amount (a part of them, so never the longer bar), not his
    leakage (net of his sales above standard: lee's -50.00 beside 5,000.00 out of policy)."""
    report, page = made["json"], made["html"]
    assert report["sort"] == "gross_discount"
    drawn = bars_are_the_json(report, page)
    for rep in {group for group, _ in drawn}:
        assert drawn[rep, "out_of_policy_amount"] <= drawn[rep, "gross_discount"], rep
    lee = {g["key"]["rep"]: g for g in report["groups"]}["lee"]
    assert lee["out_of_policy_amount"] == "5000.00"
    chart = chart_of(page, "bar-gross_discount-0")
    assert "5,000.00" in texts(chart)
    assert "Ranked by discounts given, largest first." in page


def test_html__ranked_by_leakage_the_rep_chart_draws_each_reps_leakage(
    made: dict[str, Any],
) -> None:
    """lee's leakage is -50.00 (his sales above list outweigh his discounts): ranked by
    leakage, his bar ends at -50.00, left of zero, not at -5,050.00 (his out-of-policy amount
    stacked on a premium-netted in-policy discount); beside it his out-of-policy amount,
    5,000.00, right of zero."""
    report, page = made["by leakage"]["json"], made["by leakage"]["html"]
    bars_are_the_json(report, page)
    lee = {g["key"]["rep"]: g for g in report["groups"]}["lee"]
    assert (lee["leakage"], lee["out_of_policy_amount"]) == ("-50.00", "5000.00")
    chart = chart_of(page, "bar-leakage-0")
    assert "-50.00" in texts(chart) and "5,000.00" in texts(chart)


def test_html__the_waterfall_is_drawn_from_the_json_steps_with_their_signs(
    made: dict[str, Any],
) -> None:
    """Every bar of "From list to net" spans the step's JSON amount, in its direction: a total
    up from the axis, a discount down from where the last step landed, a step of a positive
    amount up; the amount written beside it and in the table is the JSON's, with its sign."""
    steps = made["json"]["waterfall"]
    assert any(Decimal(s["amount"]) > 0 and not is_total(steps, i) for i, s in enumerate(steps))
    html_waterfall_is(made["html"], steps)


def is_total(steps: list[dict[str, str]], index: int) -> bool:
    return index in (0, len(steps) - 1) or steps[index]["step"] in TOTALS


def html_waterfall_is(page: str, steps: list[dict[str, str]]) -> None:
    """The page's waterfall draws these steps, each bar where the JSON amounts put it."""
    chart, bars = waterfall_bars(page)
    assert [b.get("data-step") for b in bars] == [s["step"] for s in steps]
    assert [b.get("data-amount") for b in bars] == [s["amount"] for s in steps]
    spans = running(steps)
    # The value axis as the SVG draws it, from the list's and the net's bar ends.
    (_, list_end), (_, net_end) = bar_box(bars[0]), bar_box(bars[-1])
    scale = (list_end - net_end) / float(spans[0][1] - spans[-1][1])
    origin = list_end - scale * float(spans[0][1])
    axis_start = Decimal(chart.get("data-axis-start", ""))
    for index, (bar, step, (start, end)) in enumerate(zip(bars, steps, spans, strict=True)):
        left, right = bar_box(bar)
        if is_total(steps, index):
            start = max(start, axis_start)  # the bar goes on below the axis' break
        assert abs(left - (origin + scale * float(min(start, end)))) < 0.05, step
        assert abs(right - (origin + scale * float(max(start, end)))) < 0.05, step
    written = re.findall(r"<tr><td>([^<]*)</td><td class='num'>([^<]*)</td></tr>", page)
    for index, step in enumerate(steps):
        amount = Decimal(step["amount"])
        shown = f"{amount:,.2f}"
        if amount > 0 and not is_total(steps, index):
            shown = "+" + shown  # a step up says so
        assert shown in texts(chart), step
        assert (step["step"].replace("'", "&#x27;"), shown) in written, step


def test_html__every_step_of_the_waterfall_is_visible_beside_the_totals(
    made: dict[str, Any],
) -> None:
    """No step is a sliver beside bars from zero: the axis starts at a round number below the
    lowest running total, the break is said under the chart, and every step is drawn at least
    three times as long beside the list revenue's bar as it would be on an axis from zero."""
    report, page = made["json"], made["html"]
    steps = report["waterfall"]
    chart, bars = waterfall_bars(page)
    axis_start = Decimal(chart.get("data-axis-start", ""))
    assert 0 < axis_start < lowest_total(steps)
    assert axis_start == axis_start.to_integral_value() and axis_start % 1000 == 0
    assert f"the axis starts at {axis_start:,.0f}, not at zero" in " ".join(texts(chart))
    widths = [right - left for left, right in map(bar_box, bars)]
    list_revenue = Decimal(steps[0]["amount"])
    for index, (width, step) in enumerate(zip(widths, steps, strict=True)):
        if is_total(steps, index):
            continue
        share = abs(Decimal(step["amount"])) / list_revenue  # its share on an axis from zero
        assert width / widths[0] >= 3 * float(share) * 0.999, step


def test_html__the_month_chart_draws_the_json_realization(made: dict[str, Any]) -> None:
    """Each month's point sits where `report --by month --json` puts its realization: the
    points' heights in proportion to the percentages, in time order."""
    expected = {m["key"]["month"]: Decimal(m["realization_pct"]) for m in made["months"]}
    chart = chart_of(made["html"], "months-line")
    said = dict(pair.split("=") for pair in chart.get("data-months", "").split(";"))
    assert {k: Decimal(v) for k, v in said.items()} == expected
    assert list(said) == sorted(expected)
    (line,) = [g for g in chart.iter(f"{SVG}g") if g.get("id") == "months-line"]
    path = next(line.iter(f"{SVG}path"))  # the line (then its marker's shape)
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", path.get("d", ""))]
    xs, ys = numbers[0::2], numbers[1::2]
    values = [float(expected[month]) for month in sorted(expected)]
    assert len(ys) == len(values) and xs == sorted(xs)
    scale = (ys[0] - ys[-1]) / (values[0] - values[-1])  # svg y grows downwards
    for y, value in zip(ys, values, strict=True):
        assert abs((y - ys[0]) - scale * (value - values[0])) < 0.05


# xlsx ----------------------------------------------------------------------------------------


def cells(book: Any, formula: str) -> list[Any]:
    """The values of the cells a chart's reference points to (``'Sheet'!$B$2:$B$7``)."""
    sheet_name, _, where = formula.rpartition("!")
    sheet = book[sheet_name.strip("'").replace("''", "'")]
    min_col, min_row, max_col, max_row = range_boundaries(where.replace("$", ""))
    return [
        sheet.cell(row, col).value
        for row in range(min_row, max_row + 1)
        for col in range(min_col, max_col + 1)
    ]


def series_values(book: Any, series: Any) -> list[Any]:
    return cells(book, series.val.numRef.f)


def series_title(book: Any, series: Any) -> Any:
    return cells(book, series.tx.strRef.f)[0]


def categories(book: Any, series: Any) -> list[Any]:
    return cells(book, (series.cat.strRef or series.cat.numRef).f)


def money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def test_xlsx__the_waterfall_chart_reads_the_json_steps_and_floats_each_one(
    made: dict[str, Any],
) -> None:
    """The chart's ranges point at the step names and, stacked on an invisible base, at bars
    that start where the last step landed and are as long as the step (never a negative
    length, which Excel would stack below zero): a step up as much as a step down."""
    xlsx_waterfall_is(load_workbook(made["xlsx"]), made["json"]["waterfall"])


def xlsx_waterfall_is(book: Any, steps: list[dict[str, str]]) -> None:
    """The workbook's waterfall chart reads cells holding these steps, each bar where the JSON
    amounts put it."""
    (chart,) = book["Waterfall"]._charts
    base, bar = chart.series
    assert categories(book, base) == [s["step"] for s in steps]
    assert (series_title(book, base), series_title(book, bar)) == ("Bar from", "Bar length")
    for step, (start, end), bar_from, length in zip(
        steps, running(steps), series_values(book, base), series_values(book, bar), strict=True
    ):
        assert money(length) >= 0, step
        assert (money(bar_from), money(bar_from) + money(length)) == (
            min(start, end),
            max(start, end),
        )
    amounts = cells(book, base.val.numRef.f.replace("$C$", "$B$"))
    assert [money(a) for a in amounts] == [Decimal(s["amount"]) for s in steps]


def test_xlsx__the_waterfall_axis_starts_below_the_lowest_total_so_every_step_shows(
    made: dict[str, Any],
) -> None:
    book, steps = load_workbook(made["xlsx"]), made["json"]["waterfall"]
    sheet = book["Waterfall"]
    (chart,) = sheet._charts
    minimum = chart.y_axis.scaling.min
    assert minimum is not None and 0 < minimum < lowest_total(steps)
    assert minimum % 1000 == 0
    top = max(end for _, end in running(steps))
    assert top - Decimal(minimum) <= top / 3  # every step three times as long as from zero
    said = [str(c.value) for row in sheet.iter_rows() for c in row if isinstance(c.value, str)]
    assert any(f"axis starts at {minimum:,.0f}, not at zero" in text for text in said)
    assert f"{minimum:,.0f}" in str(chart.title.tx.rich.p[0].r[0].t)


@pytest.mark.parametrize(
    ("which", "ranked", "title"),
    [("default", "gross_discount", "Discounts given"), ("by leakage", "leakage", "Leakage")],
)
def test_xlsx__the_rep_chart_reads_the_tables_ranked_and_out_of_policy_columns(
    made: dict[str, Any], which: str, ranked: str, title: str
) -> None:
    """The chart draws the figure the groups are ranked by (the discounts given unless --sort
    says) beside the out-of-policy amount, read from the table's own columns."""
    chosen = made if which == "default" else made[which]
    book, report = load_workbook(chosen["xlsx"]), chosen["json"]
    assert report["sort"] == ranked
    (chart,) = book["By rep"]._charts
    first, out_of_policy = chart.series
    assert (series_title(book, first), series_title(book, out_of_policy)) == (
        title,
        "Out-of-policy amount",
    )
    assert str(chart.title.tx.rich.p[0].r[0].t).startswith(f"{title} and out of policy by rep")
    assert categories(book, first) == [g["key"]["rep"] for g in report["groups"]]
    assert [money(v) for v in series_values(book, first)] == [
        Decimal(g[ranked]) for g in report["groups"]
    ]
    assert [money(v) for v in series_values(book, out_of_policy)] == [
        Decimal(g["out_of_policy_amount"]) for g in report["groups"]
    ]


def test_xlsx__the_month_chart_reads_the_json_realization(made: dict[str, Any]) -> None:
    """Each month's point is the realization `report --by month --json` gives it, in time order."""
    book = load_workbook(made["xlsx"])
    (chart,) = book["By month"]._charts
    (series,) = chart.series
    expected = {m["key"]["month"]: Decimal(m["realization_pct"]) for m in made["months"]}
    months = categories(book, series)
    assert months == sorted(expected)
    points = [Decimal(str(v)).quantize(Decimal("0.01")) for v in series_values(book, series)]
    assert dict(zip(months, points, strict=True)) == expected
    (on_summary,) = book["Summary"]._charts  # the same chart, the same cells
    assert on_summary.series[0].val.numRef.f == series.val.numRef.f


# charts of the first groups say how many more there are ----------------------------------


def test_charts_of_the_first_groups_say_how_many_more(tmp_path: Path) -> None:
    """17 reps: the html chart draws the first 15 in the table's order and says "2 more"; the
    xlsx chart, of the first 20, draws them all and says nothing of more."""
    cli = Cli(f"sqlite:///{tmp_path / 'pricing.db'}")
    book = write_workbook(tmp_path / "book.xlsx", {
        "Price Book": [["SKU", "Family", "List Price"], ["SV-1", "Services", 100]],
    })  # fmt: skip
    assert cli("pricebook", "import", str(book), "--effective", "2025-01-01").exit_code == 0
    deals = tmp_path / "deals.csv"
    deals.write_text(
        "Order ID,Order Date,Sales Rep,SKU,Quantity,Net Price\n"
        + "".join(f"O-{i},2025-03-01,rep{i:02},SV-1,1,{99 - i}.00\n" for i in range(17))
    )
    assert cli("deals", "import", str(deals)).exit_code == 0
    for name in ("report.html", "report.xlsx"):
        assert cli("report", "--by", "rep", "-o", str(tmp_path / name)).exit_code == 0
    order = [g["key"]["rep"] for g in cli.json("report", "--by", "rep")["groups"]]
    cli.close()
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    chart = chart_of(page, "bar-gross_discount-0")
    drawn = [
        g.get("data-group")
        for g in chart.iter(f"{SVG}g")
        if g.get("data-column") == "gross_discount"
    ]
    assert drawn == order[:15]
    assert (chart.get("data-shown"), chart.get("data-groups")) == ("15", "17")
    assert any("2 more in the table, not drawn" in t for t in texts(chart))
    workbook = load_workbook(tmp_path / "report.xlsx")
    (xlsx_chart,) = workbook["By rep"]._charts
    assert categories(workbook, xlsx_chart.series[0]) == order
    assert "more" not in str(xlsx_chart.title.tx.rich.p[0].r[0].t)


def test_charts_draw_whatever_steps_the_waterfall_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step added to the waterfall (a sale above standard, returns after net, net after
    returns) is drawn in both charts as the steps before it, with no change to the charts."""
    from pricing.analysis import report_files, report_html, report_xlsx
    from pricing.analysis.report import Report
    from pricing.analysis.report_figures import Metrics

    steps = [
        {"step": "List revenue", "amount": "1000.00"},
        {"step": "Standard discount (marketing's tiers)", "amount": "-100.00"},
        {"step": "Standard revenue", "amount": "900.00"},
        {"step": "Special discount within policy or approved", "amount": "-50.00"},
        {"step": "Out-of-policy discount", "amount": "-30.00"},
        {"step": "Above standard (sales above their standard price)", "amount": "80.00"},
        {"step": "Net revenue", "amount": "900.00"},
        {"step": "Returns (refunded)", "amount": "-40.00"},
        {"step": "Net after returns", "amount": "860.00"},
    ]
    for writer in (report_html, report_xlsx):  # the steps each file's charts are drawn from
        monkeypatch.setattr(writer, "waterfall", lambda metrics, currency: steps)
    metrics = Metrics(lines=1, list_revenue=Decimal(1000), standard_revenue=Decimal(900),
                      net_revenue=Decimal(900))  # fmt: skip
    report = Report(None, None, "USD", ["rep"], metrics, [({"rep": "lee"}, metrics)])
    report_files.write(report, tmp_path / "r.html")
    report_files.write(report, tmp_path / "r.xlsx")
    html_waterfall_is((tmp_path / "r.html").read_text(encoding="utf-8"), steps)
    book = load_workbook(tmp_path / "r.xlsx")
    xlsx_waterfall_is(book, steps)
    per_rep = [c.value for c in book["Waterfall"][book["Waterfall"].max_row]]
    assert per_rep == ["lee", *(float(Decimal(s["amount"])) for s in steps)]


def test_the_distribution_chart_counts_lines_in_whole_numbers(tmp_path: Path) -> None:
    """Two lines in one range and one in another: the axis reads 0, 1, 2 (it read 0 0 1 1 2,
    half-lines shown rounded)."""
    import re

    from pricing.analysis import report_files
    from pricing.analysis.report import Report
    from pricing.analysis.report_figures import Metrics

    metrics = Metrics(lines=3, list_revenue=Decimal(300), standard_revenue=Decimal(300),
                      net_revenue=Decimal(270))  # fmt: skip
    report = Report(None, None, "USD", ["rep"], metrics, [({"rep": "lee"}, metrics)])
    report.distribution = [("0-5 %", 1), ("5-10 %", 2)]
    report_files.write(report, tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    chart = html[html.index("Realized discount distribution") :]
    ticks = re.findall(r'<g id="ytick_\d+">.*?<text[^>]*>([^<]*)</text>', chart, re.S)
    labels = [t.strip() for t in ticks]
    assert labels and len(labels) == len(set(labels)), labels
    assert all(label.isdigit() for label in labels), labels
