"""Benchmarks: ratios against a floor measured in the same run, never absolute times.

    make bench              # all benchmarks
    python bench/run.py --rows 20000   # smaller, for a quick look

Each measurement runs in a fresh process (so imports and start-up count, as they do for a user)
and takes the best of several runs; peak memory is the child's maximum resident set size.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
PRICING = [sys.executable, "-m", "pricing"]


@dataclass
class Run:
    seconds: float
    peak_mb: float


def measure(argv: list[str], *, repeat: int = 5, cwd: Path = OUT, setup=None) -> Run:  # type: ignore[no-untyped-def]
    """Best wall time of ``repeat`` runs of a command, and its peak memory."""
    best, peak = float("inf"), 0.0
    for _ in range(repeat):
        if setup:
            setup()
        start = time.perf_counter()
        process = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) not in (0, 1):  # 1: a business "no" is an answer
            raise SystemExit(f"failed: {' '.join(argv)}\n{process.stderr.read().decode()}")  # type: ignore[union-attr]
        best = min(best, elapsed)
        peak = max(peak, usage.ru_maxrss / 1024)
    return Run(best, peak)


def make_price_book(path: Path, rows: int) -> None:
    """A marketer-shaped workbook: title block, header on row 4, money formats, a Tiers sheet."""
    from openpyxl import Workbook

    rng = random.Random(7)
    families = ["Hardware", "Accessories", "Software", "Support", "Services", "Spares"]
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Price Book")
    sheet.append([f"Generated price book, {rows:,} SKUs"])
    sheet.append(["All prices in USD"])
    sheet.append([])
    sheet.append(["SKU", "Description", "Family", "List Price", "Unit Cost", "Status", "Notes"])
    for i in range(rows):
        price = round(rng.uniform(2, 5000), 2)
        sheet.append(
            [
                f"SKU-{i:07d}",
                f"Product {i} {rng.choice(['small', 'medium', 'large', 'pro'])}",
                families[i % len(families)],
                price,
                round(price * rng.uniform(0.3, 0.8), 2),
                "Active" if i % 37 else "End of life",
                "" if i % 11 else "volume tiers apply",
            ]
        )
    tiers = book.create_sheet("Tiers")
    tiers.append(["SKU", "Family", "Min Qty", "Discount %"])
    for family in families:
        tiers.append([None, family, 50, 5])
        tiers.append([None, family, 250, 10])
    book.save(path)


def bench_pricebook_import(rows: int) -> list[str]:
    book = OUT / f"price-book-{rows}.xlsx"
    if not book.exists():
        print(f"generating {book.name} ...", flush=True)
        make_price_book(book, rows)
    db = OUT / "bench.db"

    def fresh_db() -> None:
        for stale in OUT.glob("bench.db*"):
            stale.unlink()

    floor = measure(
        [sys.executable, "-c",
         "import sys, python_calamine as c; "
         "c.CalamineWorkbook.from_path(sys.argv[1]).get_sheet_by_name('Price Book').to_python()",
         str(book)]
    )  # fmt: skip
    fresh_db()
    subprocess.run(
        [*PRICING, "--db", str(db), "pricebook", "editions"], check=True, capture_output=True
    )
    imported = measure(
        [*PRICING, "--db", str(db), "pricebook", "import", str(book), "--effective", "2026-01-01"],
        setup=lambda: _reset_editions(db),
    )
    ratio = imported.seconds / floor.seconds
    return [
        f"pricebook import, {rows:,} SKUs xlsx, stored: {ratio:.2f}x a bare python-calamine read "
        f"(limit 3.00x; {imported.seconds:.2f}s vs {floor.seconds:.2f}s); "
        f"peak memory {imported.peak_mb:.0f} MB (limit 500 MB)",
    ]


def _reset_editions(db: Path) -> None:
    """An empty, migrated store: the import itself is what is measured."""
    import sqlite3

    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM price_tiers")
        conn.execute("DELETE FROM price_items")
        conn.execute("DELETE FROM editions")
    conn.close()


def bench_request_check(skus: int = 10_000) -> list[str]:
    """A one-line `request --check` against a stored book of 10,000 SKUs and the sample policy."""
    book = OUT / f"price-book-{skus}.xlsx"
    if not book.exists():
        make_price_book(book, skus)
    db = OUT / "requests.db"
    for stale in OUT.glob("requests.db*"):
        stale.unlink()
    policy = HERE.parent / "sample_data" / "guardrails.toml"
    for args in (
        ["pricebook", "import", str(book), "--effective", "2026-01-01"],
        ["policy", "load", str(policy)],
    ):
        subprocess.run([*PRICING, "--db", str(db), *args], check=True, capture_output=True)
    floor = measure([sys.executable, "-c", "import click, pydantic, sqlalchemy"], repeat=11)
    lines = []
    for label, extra in (("tables", []), ("--json", ["--json"])):
        run = measure(
            [*PRICING, "--db", str(db), "--user", "priya", *extra, "request", "--customer", "Acme",
             "--reason", "bench", "SKU-0004242", "--qty", "10", "--discount", "9", "--check"],
            repeat=11,
        )  # fmt: skip
        lines.append(
            f"request --check ({label}), {skus:,}-SKU book: {run.seconds / floor.seconds:.2f}x "
            f"`python -c 'import click, pydantic, sqlalchemy'` (limit 1.30x; "
            f"{run.seconds * 1000:.0f} ms vs {floor.seconds * 1000:.0f} ms)"
        )
    return lines


def bench_help() -> list[str]:
    floor = measure([sys.executable, "-c", "import click"], repeat=11)
    helped = measure([*PRICING, "--help"], repeat=11)
    return [
        f"pricing --help: {helped.seconds / floor.seconds:.2f}x `python -c 'import click'` "
        f"({helped.seconds * 1000:.0f} ms vs {floor.seconds * 1000:.0f} ms)"
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, default=100_000, help="SKUs in the generated price book"
    )
    parser.add_argument("--clean", action="store_true", help="regenerate the input files")
    args = parser.parse_args()
    if args.clean and OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(exist_ok=True)
    lines = [*bench_help(), *bench_request_check(), *bench_pricebook_import(args.rows)]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
