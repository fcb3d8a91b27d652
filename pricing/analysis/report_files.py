"""The drift report as files people open: JSON and csv for scripts, xlsx with native Excel
charts (:mod:`pricing.analysis.report_xlsx`), and a self-contained html page with inline SVG
charts, no network needed (:mod:`pricing.analysis.report_html`). :func:`write` picks the
writer by the file's suffix; the words and figures they all say are in
:mod:`pricing.analysis.report_document`."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from pricing.analysis.report import EXTRA_KEYS, METRIC_KEYS, Report
from pricing.analysis.report_document import metrics_document, report_document, safe_text
from pricing.analysis.report_html import write_html
from pricing.analysis.report_xlsx import write_xlsx
from pricing.errors import InputError


def write(report: Report, path: Path) -> None:
    suffix = path.suffix.lower()
    writers = {".json": _write_json, ".csv": _write_csv, ".xlsx": write_xlsx, ".html": write_html}
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


def _write_csv(report: Report, path: Path) -> None:
    """A row of totals, then a row per group; over several currencies, a ``currency`` column
    first and each currency's totals and groups in turn (never one row adding two)."""
    keys = [*METRIC_KEYS, *EXTRA_KEYS]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    key_columns = report.by or ["scope"]
    apart = bool(report.others)
    writer.writerow([*(["currency"] if apart else []), *key_columns, *keys])
    for part in [report, *report.others]:
        first = [part.currency] if apart else []
        total = metrics_document(part.totals, part.currency)
        writer.writerow(
            [*first, "TOTAL", *[""] * (len(key_columns) - 1), *(total[k] for k in keys)]
        )
        for key, metrics in part.groups:
            document = metrics_document(metrics, part.currency)
            writer.writerow(
                [*first, *(safe_text(key[b]) for b in part.by), *(document[k] for k in keys)]
            )
    path.write_text(buffer.getvalue(), encoding="utf-8")
