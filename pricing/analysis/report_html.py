"""The drift report as one self-contained html page: headline cards, the waterfall, the
breakdowns and the listed lines, with inline SVG charts drawn by matplotlib (no network needed
to open it); each chart carries the numbers it draws as data attributes.

It stands apart from the workbook (:mod:`pricing.analysis.report_xlsx`) and the plain files
(:mod:`pricing.analysis.report_files`): it is the only part of the report that needs
matplotlib, and the page's markup is a concern of its own.
"""

from __future__ import annotations

import html
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

from pricing.analysis.report import Report, ranking_order
from pricing.analysis.report_charts import (
    GROUP_CHART_COLOURS,
    GROUP_CHART_TOP,
    GROUP_SIGNS,
    WATERFALL_SIGNS,
    group_chart_keys,
    more_groups,
    step_colour,
    waterfall_axis_start,
    waterfall_bars,
)
from pricing.analysis.report_document import (
    ABOVE_STANDARD_STEP,
    COUNT_KEYS,
    LABELS,
    MONEY_KEYS,
    PCT_KEYS,
    is_total_step,
    metric_value,
    metrics_document,
    notes,
    unjudged_note,
    waterfall,
)
from pricing.analysis.report_figures import DISCOUNT_RANGES_SAID, Metrics
from pricing.money import format_money, format_pct


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
        ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))  # whole lines
        ax.yaxis.set_major_formatter(_thousands_formatter())
        ax.set_xlabel(f"Realized discount from list\n({DISCOUNT_RANGES_SAID})")
        charts["distribution"] = _svg(fig)
        plt.close(fig)
    return charts


def _thousands(x: float, _: Any = None) -> str:
    return f"{x:,.0f}"


def _groups_chart(report: Report, plt: Any) -> str:
    """The figure the groups are ranked by and their out-of-policy amount
    (:func:`report_charts.group_chart_keys`), the very numbers of the table below it: the
    first groups in the table's order, a bar for each; the legend above the plot, over no
    bar."""
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
        color=["#" + step_colour(steps, i).lower() for i in rows],
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


def write_html(report: Report, path: Path) -> None:
    charts = _charts(report)
    title = f"Price drift report: sales in {report.currency}" if report.sections else None
    sections = [
        *_html_top(report, charts, title or "Price drift report"),
        *_html_breakdowns(report, charts),
        *_html_lines(report),
    ]
    for apart in report.others:  # each other currency's sales: a section of their own
        charts = _charts(apart)
        sections += [
            *_html_top(apart, charts, f"Sales in {apart.currency}"),
            *_html_breakdowns(apart, charts),
            *_html_lines(apart),
        ]
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


def _html_top(
    report: Report, charts: dict[str, str], title: str = "Price drift report"
) -> list[str]:
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
        f"<h1>{esc(title)}</h1><p class='sub'>Period {esc(period)} &middot; amounts in {esc(c)} &middot; "
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
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Price drift report</title>
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
