"""Prove that two source trees of `pricing` behave identically, through the CLI only.

    python bench/equivalence.py --before /work/base --after /work/main [--lines 1000000] [--keep DIR]

A restructure (modules moved into sub-packages) must change nothing a user sees or the database
keeps. Each scenario runs on both trees with identical inputs, each side in a fresh folder with
its own SQLite file: the JSON every command prints, its exit code and stderr, the files it writes
and the whole database (every table; the deal history and edition copies decoded from their Arrow
blobs) are compared after normalising only what legitimately differs between two runs: the
clock (TIMESTAMP_KEYS, times in text), what is derived from it or from a random salt (HASH_KEYS,
SVG_ID) and the temp paths.

The script never imports `pricing` (its module paths differ between the trees): each side runs
as `python -m pricing` with PYTHONPATH set to its tree. Exit 0 only when everything is identical
and every command gave its expected exit code (two sides failing alike prove nothing).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

USER = "dana"  # PRICING_USER on both sides; every step also says who types it (--user)
# Written from the clock at each run: compared as present or null, not by value.
TIMESTAMP_KEYS = frozenset(
    {"imported_at", "loaded_at", "created_at", "decided_at", "expires_at", "at"}
)
DURATION_KEYS = frozenset({"seconds", "elapsed", "duration"})  # none printed today; kept explicit
TEXT_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?Z?")
# The audit chain hashes each event's timestamp: relabelled in order of appearance, so the links
# (an event's prev_hash is the previous event's hash) are still compared; `audit verify` checks
# the chain itself on each side.
HASH_KEYS = frozenset({"hash", "prev_hash", "mac", "digest"})
# Each store has a random id (audit_state's "store" row, issue 23) that keys the chain's first
# entry, so every MAC differs between two runs: MACs are relabelled like the hashes, the head
# (SEQ:MAC) shows its sequence number only, and the id itself is marked. A subject's digest
# covers its rows' times (created_at, imported_at): relabelled too.
HEAD = re.compile(r"\b(\d+):[0-9a-f]{64}\b")
# matplotlib names SVG markers and clip paths (m/p + 10 hex digits) from a random salt:
# relabelled in order of appearance too.
SVG_ID = re.compile(r"\b[mp][0-9a-f]{10}\b")
MARK = ".equivalence-workdir"  # --keep only ever wipes a folder holding this
SHOWN = 12  # places (commands, files, tables) with differences printed per scenario
# The story of `pricing demo` (pricing/cli/demo.py) as single --json commands, plus what the demo
# only shows in human form, one per line: the expected exit code, who types it, the arguments.
# @in/ is the inputs folder both sides share, @out/ the side's own folder.
BOOKS = """
0 mia pricebook import @in/price-book-2025.xlsx --effective 2025-01-01
0 mia pricebook import @in/price-book-2026.xlsx --effective 2026-01-01
"""
STORY = (
    BOOKS
    + """
0 mia pricebook import @in/price-book-2026.xlsx --effective 2026-01-01 --dry-run
0 mia pricebook editions
0 mia pricebook diff
0 mia pricebook diff 1 2
0 mia pricebook show HW-1001 --as-of 2025-06-30
0 mia pricebook show HW-1001 --as-of 2026-06-30
0 mia pricebook show --as-of 2026-06-30
2 mia pricebook show NOPE-1
0 mia pricebook export @out/export.xlsx --as-of 2026-06-30
0 mia pricebook import @out/export.xlsx --effective 2026-01-01 --dry-run
0 dana policy check @in/guardrails.toml
2 dana policy check @in/broken.toml
0 dana policy load @in/guardrails.toml
0 dana policy show
0 priya quote HW-1001 --qty 25 --customer 'Acme Corp'
0 priya request --customer 'Acme Corp' --reason 'competitive bid' HW-1001 --qty 25 --discount 10 --check
1 sam request --customer Globex --reason 'first project' PS-5001 --qty 1 --price 450 --check
0 priya request --customer 'Acme Corp' --reason 'competitive bid' HW-1001 --qty 25 --discount 10
0 priya request --customer 'Acme Corp' --reason 'multi-site rollout' HW-1018 --qty 4 --discount 12
1 sam request --customer Globex --reason 'first project' PS-5001 --qty 1 --price 450
0 priya request --customer Initech --reason '3-year renewal' --file @in/request-lines.csv
2 priya request --customer Acme --reason typo NOPE-1 --qty 1 --price 3
1 priya approve R-000002
0 marco approve R-000002 --note 'strategic account, signed before quarter end'
1 marco approve R-000004
0 dana reject R-000004 --note 'software at 30% is too deep; offer a 3-year prepay'
0 priya requests won R-000001
0 priya requests lost R-000002
0 dana requests
0 dana requests --status rejected
0 dana requests --rep priya
0 dana requests show R-000002
0 dana requests show R-000004
0 dana audit verify
0 dana deals import @in/deals-2025-2026.csv
0 dana deals import @in/deals-2025-2026.csv
0 dana report
0 dana report --by rep
0 dana report --by family
0 dana report --by sku
0 dana report --by customer
0 dana report --by month
0 dana report --by rep,family
0 dana report --by family,month
0 dana report --from 2026-01-01 --to 2026-06-30 --by rep
0 dana policy simulate @in/guardrails-proposed.toml
0 dana policy simulate @in/guardrails-proposed.toml --from 2026-01-01 --to 2026-06-30 -o @out/what-if.json
0 mia pricebook diff --impact
0 priya quote HW-1001 --qty 25
0 dana report --by rep,family -o @out/report.csv
0 dana report --by rep,family -o @out/report.json
0 dana report --by family,month -o @out/report.xlsx
0 dana db status
"""
)
BIG = (
    BOOKS
    + """
0 dana policy load @in/guardrails.toml
0 dana deals import @in/deals-big.csv
0 dana report --by rep,family,month
0 dana policy simulate @in/guardrails-proposed.toml
0 priya quote HW-1001 --qty 25
"""
)
Step = tuple[int, str, list[str]]


def steps(script: str) -> list[Step]:
    """The lines of a step table as (expected exit code, user, arguments)."""
    parsed = [shlex.split(line) for line in script.splitlines() if line.strip()]
    return [(int(code), user, args) for code, user, *args in parsed]


@dataclass
class Blob:
    """A stored blob, decoded when it is an Arrow IPC stream (the deal history, the edition
    copies): values are compared, not compressed bytes; ``sha256`` only tells whether the bytes
    happen to be identical too."""

    label: str
    sha256: str
    table: Any  # a pyarrow.Table, None when the blob is not Arrow


@dataclass
class Side:
    """One tree, run in its own folder; what it shows is normalised as it is taken."""

    tree: Path
    folder: Path
    inputs: Path
    env: dict[str, str]
    seconds: float = 0.0
    unexpected: list[str] = field(default_factory=list)

    def cell(self, text: str) -> str:
        """Text with the temp paths, the tree and clock times replaced by marks."""
        marks = [(self.folder, "<DIR>"), (self.inputs, "<INPUTS>"), (self.tree, "<TREE>")]
        for path, mark in sorted(marks, key=lambda pair: -len(str(pair[0]))):
            text = text.replace(str(path), mark)
        return HEAD.sub(r"\1:<mac>", TEXT_TIMESTAMP.sub("<timestamp>", text))

    def value(self, value: Any, key: str | None = None) -> Any:
        """A JSON value with TIMESTAMP_KEYS, DURATION_KEYS and HASH_KEYS marked (null stays
        null: whether a request was decided is behaviour) and paths in strings replaced."""
        if isinstance(value, dict):
            return {k: self.value(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if value is not None and key in TIMESTAMP_KEYS | DURATION_KEYS | HASH_KEYS:
            return f"<{key}>"
        return self.cell(value) if isinstance(value, str) else value

    def python(self, *args: str) -> subprocess.CompletedProcess[str]:
        """This side's python in its folder, with only its tree on PYTHONPATH; timed."""
        start, env = time.perf_counter(), {**self.env, "PYTHONPATH": str(self.tree)}
        done = subprocess.run(
            [sys.executable, *args], cwd=self.folder, env=env, capture_output=True, text=True
        )
        self.seconds += time.perf_counter() - start
        return done

    def cli(self, step: Step, db: str = "pricing.db") -> dict[str, Any]:
        """``pricing --db sqlite:///FOLDER/DB --user USER --json ARGS``: exit, stdout, stderr."""
        expected, user, args = step
        real = [
            a.replace("@in/", f"{self.inputs}/").replace("@out/", f"{self.folder}/") for a in args
        ]
        url = f"sqlite:///{self.folder / db}"
        done = self.python("-m", "pricing", "--db", url, "--user", user, "--json", *real)
        if done.returncode != expected:
            self.unexpected.append(
                f"`pricing {shlex.join(args)}` exited {done.returncode}, not {expected}: "
                + done.stderr.strip()[-300:]
            )
        try:
            stdout = self.value(json.loads(done.stdout)) if done.stdout.strip() else None
        except json.JSONDecodeError:
            stdout = {"not JSON": self.lines(done.stdout)}
        return {"exit": done.returncode, "stdout": stdout, "stderr": self.lines(done.stderr)}

    def lines(self, text: str) -> list[str]:
        return [self.cell(line) for line in text.splitlines()]

    def file(self, path: Path) -> Any:
        """A written file's content: JSON parsed, csv rows, xlsx cell values per sheet (not the
        zip bytes, which hold the time it was written), other text as lines."""
        if not path.exists():
            return "<missing>"
        if path.suffix == ".json":
            return self.value(json.loads(path.read_text()))
        if path.suffix == ".csv":
            with path.open(newline="") as handle:
                return [[self.cell(c) for c in row] for row in csv.reader(handle)]
        if path.suffix == ".xlsx":
            from openpyxl import load_workbook

            book = load_workbook(path, read_only=True, data_only=True)
            return {
                sheet.title: [
                    [self.cell(c) if isinstance(c, str) else c for c in row]
                    for row in sheet.iter_rows(values_only=True)
                ]
                for sheet in book.worksheets
            }
        text, ids = path.read_text(), dict[str, str]()
        return self.lines(SVG_ID.sub(lambda m: ids.setdefault(m[0], f"<svg {len(ids)}>"), text))

    def database(self, path: Path) -> dict[str, Any]:
        """Every table of the SQLite file, and its schema, read with sqlite3; rows sorted."""
        import pyarrow as pa

        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        dump: dict[str, Any] = {
            "schema": sorted(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"))
        }
        tables = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        for (table,) in tables.fetchall():
            cursor = conn.execute(f'SELECT * FROM "{table}"')
            names = [d[0] for d in cursor.description]
            rows = []
            for raw in cursor:
                label = ", ".join(
                    f"{n} {v}" for n, v in zip(names, raw, strict=True) if not isinstance(v, bytes)
                )
                row: list[Any] = []
                for name, cell in zip(names, raw, strict=True):
                    if isinstance(cell, bytes):
                        try:
                            decoded = pa.ipc.open_stream(pa.BufferReader(cell)).read_all()
                        except pa.ArrowInvalid:
                            decoded = None
                        cell = Blob(label, hashlib.sha256(cell).hexdigest(), decoded)
                    row.append(cell if name in HASH_KEYS else self.value(cell, name))
                if table == "audit_state" and row[:1] == ["store"]:
                    row[1:] = ["<store id>"]
                rows.append(row)
            keys = [i for i, name in enumerate(names) if name not in HASH_KEYS]
            rows.sort(key=lambda r: repr([r[i] for i in keys if not isinstance(r[i], Blob)]))
            hashes: dict[str, str] = {}
            for row in rows:
                for i, name in enumerate(names):
                    if name in HASH_KEYS and row[i]:
                        row[i] = hashes.setdefault(row[i], f"<hash {len(hashes) + 1}>")
            dump[table] = {"columns": names, "rows": rows}
        conn.close()
        return dump


def story(side: Side) -> dict[str, Any]:
    """(a) The demo's story as single --json commands, the files they wrote and the store."""
    seen = {
        f"#{n:02d} {s[1]}: pricing {shlex.join(s[2])}": side.cli(s)
        for n, s in enumerate(steps(STORY), 1)
    }
    for name in ("export.xlsx", "what-if.json", "report.csv", "report.json", "report.xlsx"):
        seen[f"file {name}"] = side.file(side.folder / name)
    seen["database"] = side.database(side.folder / "pricing.db")
    return seen


def demo(side: Side) -> dict[str, Any]:
    """`pricing demo --dir DIR` itself: its output, the files it wrote (xlsx as values, html as
    text), its store, and the report of that store written as json and csv."""
    folder = side.folder / "demo"
    done = side.python("-m", "pricing", "demo", "--dir", str(folder))
    if done.returncode != 0:
        side.unexpected.append(f"`pricing demo` exited {done.returncode}: {done.stderr[-300:]}")
    shown = {
        "exit": done.returncode,
        "stdout": side.lines(done.stdout),
        "stderr": side.lines(done.stderr),
    }
    seen: dict[str, Any] = {"pricing demo": shown}
    for name in ("report.xlsx", "report.html", "price-book-export.xlsx"):
        seen[f"file {name}"] = side.file(folder / name)
    for name in ("report.json", "report.csv"):
        step = (0, USER, ["report", "--by", "rep,family", "-o", f"@out/demo/{name}"])
        seen[f"report -o {name}"] = side.cli(step, db="demo/pricing.db")
        seen[f"file {name}"] = side.file(folder / name)
    seen["database"] = side.database(folder / "pricing.db")
    return seen


def big(side: Side) -> dict[str, Any]:
    """(b) The generated deals file over the sample price books and policy, and its questions."""
    seen = {f"{s[1]}: pricing {shlex.join(s[2])}": side.cli(s) for s in steps(BIG)}
    seen["database"] = side.database(side.folder / "pricing.db")
    return seen


def make_deals(path: Path, inputs: Path, lines: int) -> None:
    """A deterministic deals csv: bench/run.py's generator (make_csv_book_and_deals, copied: same
    seed, columns and distributions), drawing SKUs from the sample price books instead of a
    generated one, so both editions, the volume tiers, the policy's family and SKU rules and
    unmatched lines (a SKU sold before it was listed or after it was dropped) all take part."""
    import numpy as np
    import pandas as pd
    from openpyxl import load_workbook

    books = []
    for name in ("price-book-2025.xlsx", "price-book-2026.xlsx"):
        rows = load_workbook(inputs / name, read_only=True, data_only=True)["Price Book"]
        books.append(
            {
                r[0]: float(r[2])
                for r in rows.iter_rows(values_only=True)
                if isinstance(r[0], str) and re.fullmatch(r"[A-Z]{2}-\d{4}", r[0])
            }
        )
    skus = np.array(sorted(books[0].keys() | books[1].keys()))
    prices = np.array([[book.get(s, np.nan) for book in books] for s in skus])
    rng = np.random.default_rng(11)
    sku = rng.integers(0, len(skus), lines)
    qty = rng.choice([1, 1, 2, 3, 5, 10, 20, 50], lines)
    discount = np.clip(rng.normal(0.05, 0.04, lines), 0, 0.6)
    days = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 700, lines), unit="D")
    edition = np.asarray(days >= pd.Timestamp("2026-01-01"), dtype=int)  # the list in force
    listed = prices[sku, edition]
    listed = np.where(np.isnan(listed), prices[sku, 1 - edition], listed)
    net = np.round(listed * (1 - discount), 2)
    frame = pd.DataFrame(
        {
            "Order ID": [f"SO-{i // 3:07d}" for i in range(lines)],
            "Order Date": days.strftime("%Y-%m-%d"),
            "Customer": [f"Customer {c}" for c in rng.integers(0, 5000, lines)],
            "Sales Rep": rng.choice(["priya", "sam", "lee", "marco", "nina", "omar"], lines),
            "SKU": skus[sku],
            "Quantity": qty,
            "Net Price": [f"{v:.2f}" for v in net],
        }
    )
    frame.to_csv(path, index=False)


def differences(before: Any, after: Any, path: str, found: list[str]) -> int:
    """How many places two observations differ in; the first is described in ``found``."""

    def note(text: str) -> int:
        if not found:
            found.append(f"{path}: {text}")
        return 1

    if isinstance(before, dict) and isinstance(after, dict):
        count = 0
        for key in [*before, *(k for k in after if k not in before)]:
            if key not in after or key not in before:
                count += note(f"{key!r} only {'before' if key in before else 'after'}")
            else:
                count += differences(before[key], after[key], f"{path} > {key}".lstrip(" >"), found)
        return count
    if isinstance(before, list | tuple) and isinstance(after, list | tuple):
        count = 0 if len(before) == len(after) else note(f"{len(before)} vs {len(after)} items")
        for i, (b, a) in enumerate(zip(before, after, strict=False)):
            count += differences(b, a, f"{path}[{i}]", found)
        return count
    if isinstance(before, Blob) and isinstance(after, Blob):
        if before.table is None or after.table is None:
            return 0 if before.sha256 == after.sha256 else note(f"{before.label}: bytes differ")
        if before.table.equals(after.table):
            return 0
        return note(f"{before.label}: {first_change(before.table, after.table)}")
    if type(before) is not type(after) or before != after:
        return note(f"before {short(before)} vs after {short(after)}")
    return 0


def first_change(before: Any, after: Any) -> str:
    """Where two Arrow tables first differ: schema, length, or column and row."""
    if before.schema != after.schema or before.num_rows != after.num_rows:
        return f"{before.num_rows} rows {before.schema} vs {after.num_rows} rows {after.schema}"
    for name in before.column_names:
        for start in range(0, before.num_rows, 65_536):
            left = before[name].slice(start, 65_536).to_pylist()
            right = after[name].slice(start, 65_536).to_pylist()
            for i, (b, a) in enumerate(zip(left, right, strict=True)):
                if b != a:
                    return f"column {name!r} row {start + i}: before {short(b)} vs after {short(a)}"
    return "same values, different metadata"


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 160 else text[:157] + "..."


def sections(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """The parts reported separately (each command, file and table): one wrong rounding in the
    report does not hide a changed table."""
    parts = []
    for key in [*before, *(k for k in after if k not in before)]:
        b, a = before.get(key, "<missing>"), after.get(key, "<missing>")
        if key == "database" and isinstance(b, dict) and isinstance(a, dict):
            tables = [{f"database > {t}": v for t, v in side.items()} for side in (b, a)]
            parts += sections(*tables)
        else:
            parts.append((key, b, a))
    return parts


def digests(seen: dict[str, Any]) -> list[str]:
    tables = [t for t in seen["database"].values() if isinstance(t, dict)]
    return [c.sha256 for t in tables for row in t["rows"] for c in row if isinstance(c, Blob)]


def compare(root: Path, trees: dict[str, Path], env: dict[str, str], lines: int, jobs: int) -> bool:
    """Run every scenario on both sides and print the verdicts; True when all are identical."""
    scenarios: list[tuple[str, Callable[[Side], dict[str, Any]]]] = [
        ("demo story as single --json commands", story),
        ("pricing demo --dir", demo),
        (f"{lines:,}-line deals import", big),
    ]
    identical = True
    for number, (title, scenario) in enumerate(scenarios, 1):
        sides = {}
        for label, tree in trees.items():
            (folder := root / f"{number}-{scenario.__name__}-{label}").mkdir()
            sides[label] = Side(tree, folder, root / "inputs", env)
        with ThreadPoolExecutor(jobs) as pool:
            seen = dict(zip(sides, pool.map(scenario, sides.values()), strict=True))
        report, count = [], 0
        for name, before, after in sections(seen["before"], seen["after"]):
            found: list[str] = []
            if n := differences(before, after, name, found):
                report.append(f"{found[0]}" + (f"  [{n - 1} more here]" if n > 1 else ""))
            count += n
        problems = [f"{label}: {u}" for label, side in sides.items() for u in side.unexpected]
        stored = [digests(seen[label]) for label in sides]
        same = sum(b == a for b, a in zip(*stored, strict=False))
        verdict = f"{count} difference(s)" if count else "NOT PROVEN" if problems else "identical"
        print(
            f"{title}: {verdict} (before {sides['before'].seconds:.1f} s, after "
            f"{sides['after'].seconds:.1f} s; {same} of {len(stored[0])} stored blobs "
            "byte-identical too)"
        )
        more = [f"... and {len(report) - SHOWN} more places"] if len(report) > SHOWN else []
        print("".join(f"  {line}\n" for line in [*problems, *report[:SHOWN], *more]), end="")
        identical &= not count and not problems
    return identical


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="source tree before the change")
    parser.add_argument("--after", type=Path, required=True, help="source tree after the change")
    parser.add_argument("--lines", type=int, default=1_000_000, help="deal lines of the big import")
    parser.add_argument("--keep", type=Path, help="work in DIR and keep it (default: a temp dir)")
    parser.add_argument(
        "--sequential",
        action="store_true",
        help="one side after the other (cleaner times, twice the wall time)",
    )
    args = parser.parse_args()
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    root = Path(args.keep or tempfile.mkdtemp(prefix="equivalence-")).resolve()
    if args.keep and root.exists() and any(root.iterdir()):
        if not (root / MARK).exists():
            parser.error(f"--keep {root}: not empty, and not a folder this script made")
        shutil.rmtree(root)
    (root / "inputs").mkdir(parents=True)
    (root / MARK).touch()
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PRICING_", "PYTHON"))}
        # The same for both sides: a fixed user, hash seed (set order) and terminal width, none
        # of the caller's PRICING_* or PYTHON* settings, and bytecode cached outside the trees.
        env |= {
            "PRICING_USER": USER,
            "PYTHONHASHSEED": "0",
            "COLUMNS": "120",
            "NO_COLOR": "1",
            "PYTHONPYCACHEPREFIX": str(root / "pycache"),
        }
        for label, tree in trees.items():  # both sides running one installed copy prove nothing
            where = Side(tree, root, root, env).python(
                "-c", "import pricing; print(pricing.__file__)"
            )
            if not Path(where.stdout.strip() or "/").resolve().is_relative_to(tree):
                parser.error(
                    f"--{label} {tree}: `python -m pricing` runs {where.stdout or 'nothing'}"
                )
        shutil.copytree(trees["before"] / "sample_data", root / "inputs", dirs_exist_ok=True)
        (root / "inputs" / "broken.toml").write_text('[limits]\nrep = "x"\n')
        start = time.perf_counter()
        make_deals(root / "inputs" / "deals-big.csv", root / "inputs", args.lines)
        print(f"generated {args.lines:,} deal lines in {time.perf_counter() - start:.1f} s")
        identical = compare(root, trees, env, args.lines, 1 if args.sequential else 2)
    finally:
        if not args.keep:
            shutil.rmtree(root)
    print(
        "IDENTICAL: JSON outputs, exit codes, files and stored data" if identical else "DIFFERENT"
    )
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
