"""Deals: what was actually sold, from the CRM's or invoicing system's export.

Files are read column by column with pandas (a million lines is a normal export), values are
checked in bulk, and every bad cell becomes a Problem with its line. Money is kept exactly, as
whole millionths. Each line gets an identity so that importing the same file twice does not
double it: its line id, else its deal id and position in the deal, else (a file with no ids)
its content and how many identical lines came before it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pricing.money import TOO_LARGE, TOO_LARGE_TEXT, parse_decimal
from pricing.problems import Problem, Severity
from pricing.sheets import Sheet, cell_text, column_letter

if TYPE_CHECKING:
    import pandas as pd

Progress = Callable[[int, int], None]

DEAL_HEADERS: dict[str, tuple[str, ...]] = {
    "line_id": ("row id", "line id", "line no", "line", "order line", "invoice line"),
    "deal_id": (
        "order id", "order no", "deal", "deal id", "invoice", "invoice no", "invoiceno",
        "invoice id", "opportunity", "opportunity id", "order", "invoice number",
    ),
    "date": (
        "date", "order date", "close date", "invoice date", "invoicedate", "deal date",
        "sale date", "transaction date", "closed date", "sales date",
    ),
    "customer": (
        "customer", "customer name", "account", "account name", "client", "company",
        "customer id", "customerid", "store name",
    ),
    "rep": (
        "salesperson", "sales rep", "rep", "owner", "account manager", "sales person",
        "seller", "account owner", "opportunity owner", "sales manager",
    ),
    "sku": (
        "sku", "product id", "item no", "item", "stockcode", "stock code", "product code",
        "part no", "item code", "article no", "product",
    ),
    "qty": ("quantity", "qty", "units", "qty sold", "units sold", "volume"),
    "amount": ("sales", "amount", "line total", "line amount", "net amount", "revenue", "total", "sale amount"),
    "unit_price": (
        "net price", "net unit price", "unit price", "unitprice", "price", "sale price",
        "selling price", "net unit", "price each",
    ),
    "discount": ("discount", "discount %", "disc", "discount pct", "discount percent", "disc %"),
    "request_id": ("request", "request id", "deviation", "deviation id", "approval id"),
    "currency": ("currency", "ccy", "currency code"),
}  # fmt: skip
REQUIRED = ("date", "sku", "qty")
MONEY = ("amount", "unit_price", "discount")
EXCEL_EPOCH = "1899-12-30"
_REQUEST_ID = re.compile(r"^(?:R-?)?0*(\d{1,9})$", re.IGNORECASE)


@dataclass
class DealsFile:
    """What was read: the lines (one row each, money as millionths) and every problem."""

    path: Path
    lines: pd.DataFrame | None
    problems: list[Problem]
    notes: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)


def read_deals(
    path: Path,
    *,
    columns: dict[str, str] | None = None,
    date_format: str | None = None,
    progress: Progress | None = None,
) -> DealsFile:
    """Read a deals export (csv or xlsx) into normalised lines and problems."""
    import pandas as pd

    from pricing.perf import frugal_arrow_memory

    frugal_arrow_memory()

    from pricing.pricebook_file import find_header
    from pricing.sheets import open_workbook

    overrides = columns or {}
    head, is_csv, encoding, delimiter = _head(path)
    found = find_header(
        head,
        DEAL_HEADERS,
        overrides,
        lambda m: all(f in m for f in REQUIRED) and any(f in m for f in MONEY),
    )
    if found is None:
        wanted = ", ".join(f"{f}={h!r}" for f, h in overrides.items())
        return DealsFile(path, None, [Problem(
            "error",
            "no row in the first 30 names a date, a SKU, a quantity and an amount, net price or "
            "discount column" + (f" (looked for {wanted})" if wanted else "")
            + "; name them with --column date=HEADER --column sku=HEADER --column qty=HEADER "
            "--column amount=HEADER",
            file=path.name, sheet=head.name,
        )])  # fmt: skip
    header_row, mapping = found
    if progress:
        progress(0, 3)
    if is_csv:
        frame = pd.read_csv(
            path,
            sep=delimiter,
            skiprows=header_row,
            header=0,
            dtype=str,
            keep_default_na=False,
            encoding=encoding,
            engine="pyarrow" if encoding != "cp1252" else "c",
        )
        first_data_line = header_row + 2
        raw = {name: frame.iloc[:, col] for name, col in mapping.items()}
        del frame  # the columns pricing does not read go now; convert() frees the others
    else:
        sheet = open_workbook(path).sheet(head.name or "")
        body = sheet.rows[header_row + 1 :]
        raw = {
            name: pd.Series([cell_text(r[col]) if col < len(r) else "" for r in body], dtype=object)
            for name, col in mapping.items()
        }
        first_data_line = header_row + 2
    if progress:
        progress(1, 3)
    reader = _Reader(path, head, is_csv, mapping, first_data_line)
    lines = reader.convert(raw, date_format)
    if progress:
        progress(3, 3)
    return DealsFile(
        path, lines, reader.problems, reader.notes, {f: str(h) for f, h in reader.headers.items()}
    )


def _head(path: Path) -> tuple[Sheet, bool, str, str]:
    """The first rows (to find the header), whether it is csv, and its encoding and separator."""
    from pricing.sheets import _decode, _delimiter, open_workbook, read_input

    start = read_input(path, 256 * 1024)
    if start.startswith(b"PK\x03\x04") or start.startswith(b"\xd0\xcf\x11\xe0"):
        workbook = open_workbook(path)
        name = (
            workbook.find_sheet(["Deals", "Orders", "Sales", "Invoices", "Lines"])
            or workbook.sheet_names[0]
        )
        sheet = workbook.sheet(name)
        return Sheet(path.name, name, sheet.rows[:30]), False, "", ""
    encoding = "utf-8-sig" if start.startswith(b"\xef\xbb\xbf") else "utf-8"
    try:
        path.read_bytes().decode(encoding)
    except UnicodeDecodeError:
        encoding = "cp1252"
    text = _decode(start)
    lines = text.splitlines()[:31]
    delimiter = _delimiter("\n".join(lines))
    rows = list(csv.reader(io.StringIO("\n".join(lines[:30])), delimiter=delimiter))
    return Sheet(path.name, None, rows), True, encoding, delimiter


class _Reader:
    """Converts raw text columns into typed columns, collecting problems with their lines."""

    def __init__(
        self, path: Path, head: Sheet, is_csv: bool, mapping: dict[str, int], first_line: int
    ) -> None:
        self.path, self.head, self.is_csv = path, head, is_csv
        self.mapping = mapping
        self.first_line = first_line
        self.problems: list[Problem] = []
        self.notes: list[str] = []
        header = head.rows[first_line - 2] if first_line - 2 < len(head.rows) else []
        self.headers = {
            f: (header[c] if c < len(header) else column_letter(c)) for f, c in mapping.items()
        }

    def where(self, index: int, field_name: str) -> dict[str, Any]:
        line = self.first_line + index
        col = column_letter(self.mapping[field_name])
        if self.is_csv:
            return {"file": self.path.name, "line": line, "cell": f"{col}{line}"}
        return {"file": self.path.name, "sheet": self.head.name, "cell": f"{col}{line}"}

    def bad(
        self, mask: Any, values: Any, field_name: str, message: str, severity: Severity = "error"
    ) -> None:
        for index in mask[mask].index[:100_000]:
            where = self.where(index, field_name)
            self.problems.append(Problem(severity, message, value=str(values[index]), **where))

    def convert(self, raw: dict[str, Any], date_format: str | None) -> pd.DataFrame:
        import numpy as np
        import pandas as pd

        # Each raw column is released as its stripped copy is made (the caller hands them over).
        text = {name: raw.pop(name).astype(str).str.strip() for name in list(raw)}
        n = len(text["sku"])
        blank_row = np.ones(n, dtype=bool)
        for series in text.values():
            blank_row &= (series == "").to_numpy()
        keep = ~blank_row
        sku = text["sku"]
        self.bad((sku == "") & keep, sku, "sku", "the line has values but no SKU")
        dates = self._dates(text["date"], keep, date_format)
        qty = self._number(text["qty"], keep, "qty", "quantity")
        money_given = np.zeros(n, dtype=bool)
        converted: dict[str, Any] = {}
        for name in MONEY:
            if name in text:
                values = text[name]
                if name == "discount":
                    converted[name] = self._discount(values, keep & ~money_given)
                else:
                    converted[name] = self._number(
                        values, keep & ~money_given, name, name.replace("_", " ")
                    )
                money_given |= (values != "").to_numpy()
        missing = keep & ~money_given
        if "unit_price" in converted:  # qty x price must fit too (a line amount is kept exactly)
            size = (qty.astype("Float64") * converted["unit_price"].astype("Float64")).abs()
            huge = keep & (size >= float(TOO_LARGE) * 1e12).fillna(False).to_numpy()
            if huge.any():
                self.bad(pd.Series(huge), text["unit_price"], "unit_price",
                         f"quantity x net unit price {TOO_LARGE_TEXT}")  # fmt: skip
        if missing.any():
            field_name = next(f for f in MONEY if f in text)
            self.bad(pd.Series(missing), text[field_name], field_name,
                     "no amount, net price or discount on this line")  # fmt: skip
        zero = keep & (qty == 0).fillna(False).to_numpy()
        if zero.any():
            self.bad(
                pd.Series(zero),
                text["qty"],
                "qty",
                "quantity is zero: the line counts nothing",
                "warning",
            )
        negative = keep & (qty < 0).fillna(False).to_numpy()
        if negative.any():
            self.notes.append(
                f"{int(negative.sum())} line(s) with a negative quantity (returns or credits) are kept as such"
            )
        request_ids = None
        if "request_id" in text:
            request_ids = self._request_ids(text["request_id"], keep)
        frame = pd.DataFrame(
            {
                "date": dates,
                "sku": sku,
                "sku_key": casefold(sku),
                "qty": qty,
                "amount": converted.get("amount"),
                "unit_price": converted.get("unit_price"),
                "discount_pct": converted.get("discount"),
                "customer": text["customer"].replace("", None) if "customer" in text else None,
                "rep": text["rep"].replace("", None) if "rep" in text else None,
                "request_id": request_ids,
                "currency": text["currency"].str.upper().replace("", None)
                if "currency" in text
                else None,
                "line": np.arange(n) + self.first_line,
            }
        )
        # Only the money column that wins precedence is kept: line amount > net price > discount.
        if "amount" in text:
            has_amount = frame["amount"].notna()
            for later in ("unit_price", "discount_pct"):
                frame.loc[has_amount, later] = None
        if "unit_price" in text:
            frame.loc[frame["unit_price"].notna(), "discount_pct"] = None
        if not keep.all():  # blank rows go (a clean export has none: no copy then)
            frame = frame[keep].copy()
        frame["deal_id"], frame["line_key"], first, codes = self._identity(text, keep, frame)
        frame["deal_first"] = first  # the deal's first line in this file
        frame["deal_code"] = codes  # the deal's number within this file
        return frame

    def _number(self, values: Any, keep: Any, field_name: str, label: str) -> Any:
        """Millionths as nullable integers; plain numbers in bulk, the rest one by one."""
        import numpy as np
        import pandas as pd

        numbers = _floats(values)
        finite = np.isfinite(numbers)
        ok = finite & (np.abs(np.where(finite, numbers, 0)) < 1e9)
        micros = np.round(np.where(ok, numbers, 0) * 1_000_000).astype("int64")
        missing = ~ok
        rest = keep & ~ok & (values != "").to_numpy()
        for index in np.flatnonzero(rest):
            try:
                amount = parse_decimal(values.iloc[index])
                if abs(amount) >= TOO_LARGE:
                    raise ValueError(TOO_LARGE_TEXT)
                micros[index] = int((amount * 1_000_000).to_integral_value())
                missing[index] = False
            except (ValueError, ArithmeticError) as exc:
                self.problems.append(
                    Problem(
                        "error",
                        f"{label} {exc}",
                        value=values.iloc[index],
                        **self.where(int(index), field_name),
                    )
                )
        result = pd.Series(pd.arrays.IntegerArray(micros, missing), index=values.index)
        required_blank = keep & (values == "").to_numpy()
        if field_name == "qty" and required_blank.any():
            self.bad(pd.Series(required_blank), values, field_name, "quantity is missing")
        return result

    def _discount(self, values: Any, keep: Any) -> Any:
        """Discount off list as a percentage in millionths: fractions or percents, said which."""
        import numpy as np

        has_percent = values.str.endswith("%")
        cleaned = values.str.removesuffix("%").str.strip()
        micros = self._number(cleaned, keep, "discount", "discount")
        plain = keep & (values != "").to_numpy() & ~has_percent.to_numpy()
        as_fraction = bool(plain.any()) and bool((micros[plain].abs() <= 1_000_000).all())
        if as_fraction:
            micros[plain] = micros[plain] * 100
            self.notes.append("discounts read as fractions of list (0.2 = 20 %)")
        elif plain.any():
            self.notes.append("discounts read as percentages (20 = 20 %)")
        out_of_range = keep & ((micros < 0) | (micros > 100_000_000)).fillna(False).to_numpy()
        if out_of_range.any():
            import pandas as pd

            self.bad(pd.Series(out_of_range, index=values.index), values, "discount",
                     "discount must be between 0 and 100 %")  # fmt: skip
        del np
        return micros

    def _dates(self, values: Any, keep: Any, date_format: str | None) -> Any:
        import numpy as np
        import pandas as pd

        present = keep & (values != "").to_numpy()
        if (keep & ~present).any():
            self.bad(
                pd.Series(keep & ~present, index=values.index),
                values,
                "date",
                "the date is missing",
            )
        if date_format:
            text = values if " " in date_format else values.str.replace(r" .*$", "", regex=True)
            parsed = pd.to_datetime(text, format=date_format, errors="coerce")
            self.notes.append(f"dates read with --date-format {date_format}")
        else:
            parsed = self._guess_dates(values, present)
        bad = present & parsed.isna().to_numpy()
        if bad.any():
            hint = (
                f"is not a date in the format {date_format}"
                if date_format
                else "is not a date (use ISO 2026-01-31, m/d/yyyy, d.m.yyyy or --date-format)"
            )
            self.bad(pd.Series(bad, index=values.index), values, "date", f"the date {hint}")
        del np
        return parsed.dt.normalize()

    def _guess_dates(self, values: Any, present: Any) -> Any:
        import numpy as np
        import pandas as pd

        iso_days = _iso_days(values, present)
        if iso_days is not None:  # the usual export: plain ISO dates only
            return pd.Series(iso_days.astype("datetime64[ns]"), index=values.index)
        result = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
        day_part = values.str.replace(r"[ T].*$", "", regex=True)
        iso = day_part.str.match(r"^\d{4}-\d{1,2}-\d{1,2}$") & present
        if iso.any():
            result[iso] = pd.to_datetime(day_part[iso], format="%Y-%m-%d", errors="coerce")
        serial = day_part.str.match(r"^\d{4,5}(\.\d+)?$") & present & ~iso
        if serial.any():
            days = pd.to_numeric(day_part[serial], errors="coerce").astype(float)
            result[serial] = pd.Timestamp(EXCEL_EPOCH) + pd.to_timedelta(np.floor(days), unit="D")
            self.notes.append("numbers in the date column read as Excel serial dates")
        rest = present & ~iso.to_numpy() & ~serial.to_numpy()
        if not rest.any():
            return result  # all ISO or serial: no day/month order to decide
        parts = day_part[rest].str.extract(r"^(\d{1,2})([/.\-])(\d{1,2})[/.\-](\d{2,4})$")
        parts = parts.reindex(values.index)
        dmy = parts[0].notna() & present & ~iso & ~serial
        if dmy.any():
            first = pd.to_numeric(parts.loc[dmy, 0])
            second = pd.to_numeric(parts.loc[dmy, 2])
            dotted = bool((parts.loc[dmy, 1] == ".").all())
            if (first > 12).any() and (second > 12).any():
                order = None
            elif (first > 12).any() or dotted:
                order = "day first"
            else:
                order = "month first"
            if order is None:
                self.problems.append(
                    Problem("error", "the dates mix day-first and month-first values; give --date-format",
                            **self.where(int(np.flatnonzero(dmy.to_numpy())[0]), "date"))
                )  # fmt: skip
                return result
            year = (
                parts.loc[dmy, 3]
                .str.zfill(4)
                .where(parts.loc[dmy, 3].str.len() == 4, "20" + parts.loc[dmy, 3])
            )
            day = first if order == "day first" else second
            month = second if order == "day first" else first
            result[dmy] = pd.to_datetime(
                {"year": pd.to_numeric(year), "month": month, "day": day}, errors="coerce"
            )
            example = "d.m.yyyy or d/m/yyyy" if order == "day first" else "m/d/yyyy"
            self.notes.append(f"dates read as {example} ({order}, from the column's own values)")
        return result

    def _request_ids(self, values: Any, keep: Any) -> Any:
        import pandas as pd

        extracted = values.str.extract(_REQUEST_ID.pattern, flags=re.IGNORECASE)[0]
        ids = pd.to_numeric(extracted, errors="coerce").astype("Int64")
        bad = keep & (values != "").to_numpy() & ids.isna().to_numpy()
        if bad.any():
            self.bad(pd.Series(bad, index=values.index), values, "request_id",
                     "is not a request id (they look like R-000123)")  # fmt: skip
        return ids

    def _identity(
        self, text: dict[str, Any], keep: Any, frame: pd.DataFrame
    ) -> tuple[Any, Any, Any, Any]:
        """Deal ids and line keys that make a re-import of the same lines a no-op, whether each
        line is its deal's first in the file, and a number per deal (the same for its lines)."""
        import numpy as np
        import pandas as pd

        if "deal_id" in text and (text["deal_id"][keep] != "").all():
            deal = text["deal_id"][keep]
        else:
            deal = None
        if "line_id" in text and (text["line_id"][keep] != "").all():
            key = "L:" + text["line_id"][keep]
            deal = deal if deal is not None else key
            position, codes = _positions(deal)
            return deal, key, position == 1, codes
        if deal is not None:
            position, codes = _positions(deal)
            key = _joined(deal.index, "D:", deal, "#", position)
            return deal, key, position == 1, codes
        # No ids: each line is its own deal, known by its content and its repetition.
        content = pd.util.hash_pandas_object(
            frame[
                [
                    "date",
                    "sku_key",
                    "qty",
                    "amount",
                    "unit_price",
                    "discount_pct",
                    "customer",
                    "rep",
                ]
            ].astype(str),
            index=False,
        ).astype(str)
        repeat = content.groupby(content, sort=False).cumcount() + 1
        key = "H:" + content + "#" + repeat.astype(str)
        return key, key, np.ones(len(key), dtype=bool), np.arange(len(key))


# Storing -----------------------------------------------------------------------------------------

MATCHED = (
    "edition_id", "family", "list_price", "standard_price", "net_amount", "list_revenue",
    "standard_revenue", "cost_amount", "unit_cost", "item_floor", "item_currency", "hard_floor",
    "policy_version", "level_rank", "level", "below_floor",
)  # fmt: skip
FACTS = ("date", "sku", "sku_key", "qty", "amount", "unit_price", "discount_pct")
CHUNK = 100_000


@dataclass
class DealsImport:
    lines: int
    added: int
    already_present: int
    unmatched: int
    unmatched_skus: list[tuple[str, str]]  # (sku, first date)
    problems: list[Problem]
    notes: list[str]
    dry_run: bool


def import_deals(
    db: Any,
    read: DealsFile,
    *,
    user: str = "unknown",
    dry_run: bool = False,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> DealsImport:
    """Store the lines of a deals file (those not already stored), matched to list and policy."""
    import gc

    import numpy as np
    import pyarrow as pa

    from pricing import history, store
    from pricing.matching import Reference, match
    from pricing.perf import paused_gc
    from pricing.problems import has_errors

    assert read.lines is not None
    lines = read.lines
    total = len(lines)
    result = DealsImport(total, 0, 0, 0, [], read.problems, read.notes, dry_run)
    if has_errors(read.problems):
        return result
    now = now or store.utcnow()
    with paused_gc(), db.read() if dry_run else db.write() as conn:
        if not dry_run:
            history.lock_for_writing(conn)
        reference = Reference(conn)
        stored = history.scan(conn, ["line_key", "deal_id", "deal_no"])
        # A line already stored, or repeated within the file, is already present. Keys made
        # from deal ids and positions, or from content, cannot repeat; line ids can.
        keys = pa.array(lines["line_key"], type=pa.string(), from_pandas=True)
        fresh = np.ones(total, dtype=bool)
        if total and str(lines["line_key"].iloc[0]).startswith("L:"):
            fresh &= _positions(lines["line_key"])[0] == 1
        if stored.num_rows:
            fresh &= ~_is_in(keys, stored["line_key"])
        result.already_present = total - int(fresh.sum())
        result.added = total - result.already_present
        deal_first = lines["deal_first"].to_numpy(dtype=bool)
        deal_no = lines["deal_code"].to_numpy(dtype=np.int64)
        if not fresh.all():
            lines = lines[fresh]
            deal_first, deal_no = deal_first[fresh], deal_no[fresh]
        # The deal's first line in the file counts the deal, unless the deal was stored before;
        # a deal keeps its number, new deals are numbered after the stored ones.
        if stored.num_rows:
            deals = pa.array(lines["deal_id"], type=pa.string(), from_pandas=True)
            known, numbers = _stored_numbers(deals, stored)
            deal_first = deal_first & ~known  # (pandas may hand over a read-only array)
            deal_no = np.where(known, numbers, deal_no + _max(stored["deal_no"]) + 1)
        del stored, keys
        number = None
        if not dry_run:
            number = conn.execute(
                store.deal_imports.insert()
                .values(
                    source=read.path.name,
                    imported_at=now,
                    imported_by=user,
                    lines=total,
                    added=result.added,
                )
                .returning(store.deal_imports.c.id)
            ).scalar_one()
        first_unmatched: dict[str, Any] = {}
        appender = history.Appender(conn, number)
        for start in range(0, len(lines), CHUNK):  # bounded memory: a chunk at a time
            chunk = lines.iloc[start : start + CHUNK]
            matched = match(conn, chunk[list(FACTS)], reference)
            unmatched = matched[matched["edition_id"].isna()]
            result.unmatched += len(unmatched)
            for sku, day in unmatched.groupby("sku", sort=False)["date"].min().items():
                first_unmatched[str(sku)] = min(day, first_unmatched.get(str(sku), day))
            if not dry_run:
                columns: dict[str, Any] = {name: chunk[name] for name in chunk.columns}
                columns.update({name: matched[name] for name in (*FACTS[1:], *MATCHED)})
                columns["deal_first"] = deal_first[start : start + CHUNK].astype("int64")
                columns["deal_no"] = deal_no[start : start + CHUNK]
                columns["import_id"] = np.full(len(chunk), number, dtype="int64")
                appender.add(history.from_frame(columns))
                del columns
            del matched, chunk
            gc.collect(0)  # pandas leaves a few cycles per chunk; the young ones only: cheap
            if progress:
                progress(min(start + CHUNK, len(lines)), len(lines))
        appender.close()
        result.unmatched_skus = sorted(
            (sku, day.date().isoformat()) for sku, day in first_unmatched.items()
        )
        if not dry_run:
            link_won_requests(conn)
    return result


def _positions(values: Any) -> tuple[Any, Any]:
    """Each value's occurrence number, counting from 1 in file order (line 1, 2, … of a deal),
    and a number per distinct value."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from pricing import history

    text = history.whole(pa.array(values, type=pa.string(), from_pandas=True))
    codes = pc.dictionary_encode(text).indices.to_numpy(zero_copy_only=False)
    order = np.argsort(codes, kind="stable")
    ordered = codes[order]
    where = np.arange(len(codes))
    starts = np.maximum.accumulate(np.where(np.r_[True, ordered[1:] != ordered[:-1]], where, 0))
    position = np.empty(len(codes), dtype=np.int64)
    position[order] = where - starts + 1
    return position, codes.astype(np.int64)


def _joined(index: Any, *parts: Any) -> Any:
    """Text columns and constants concatenated, in Arrow (a key per line for a million lines)."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    arrays = [
        part if isinstance(part, str) else pc.cast(pa.array(part, from_pandas=True), pa.string())
        for part in parts
    ]
    return pd.Series(pd.array(pc.binary_join_element_wise(*arrays, ""), dtype="str"), index=index)


def _iso_days(values: Any, present: Any) -> Any:
    """Days, when every present value is a valid ``YYYY-MM-DD`` (Arrow's strict parser, one
    pass); else None, and the values are read one way or another by the slower guesser."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pa.array(values, type=pa.string(), from_pandas=True)
    text = pc.if_else(pa.array(present), text, pa.scalar(None, pa.string()))
    try:
        days = pc.cast(text, pa.date32())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return np.asarray(days.to_numpy(zero_copy_only=False), dtype="datetime64[D]")


def _floats(values: Any) -> Any:
    """Text as float64 (NaN where blank or not a plain number): Arrow's parser when every
    value is a plain number (the usual export), else pandas', value by value."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pa.array(values, type=pa.string(), from_pandas=True)
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    try:
        return pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        parsed = pd.to_numeric(values.where(values != "", None), errors="coerce")
        return parsed.to_numpy(dtype=float, na_value=np.nan)


def casefold(values: Any) -> Any:
    """``str.casefold`` of a text column: Arrow's lower case for ASCII (the same there), Python's
    casefold for the rest (``ß`` is ``ss``)."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pa.array(values, type=pa.string(), from_pandas=True)
    lowered = pc.utf8_lower(text)
    foreign = pc.invert(pc.fill_null(pc.string_is_ascii(text), True)).to_numpy(zero_copy_only=False)
    folded = pd.Series(pd.array(lowered, dtype="str"), index=values.index)
    if foreign.any():
        folded = folded.astype(object)
        folded[foreign] = [v.casefold() for v in values[foreign]]
        folded = folded.astype("str")
    return folded


def _stored_numbers(deals: Any, stored: Any) -> tuple[Any, Any]:
    """Which deals are stored already, and their stored numbers (0 where not)."""
    import numpy as np
    import pyarrow.compute as pc

    from pricing import history

    encoded = pc.dictionary_encode(history.whole(stored["deal_id"]))
    numbers = np.zeros(len(encoded.dictionary), dtype=np.int64)
    numbers[encoded.indices.to_numpy(zero_copy_only=False)] = pc.fill_null(
        stored["deal_no"], 0
    ).to_numpy()
    found = pc.index_in(deals, value_set=encoded.dictionary)
    known = pc.is_valid(found).to_numpy(zero_copy_only=False)
    return known, numbers[pc.fill_null(found, 0).to_numpy(zero_copy_only=False)]


def _max(column: Any) -> int:
    import pyarrow.compute as pc

    value = pc.max(column).as_py()
    return int(value) if value is not None else -1


def _is_in(values: Any, stored: Any) -> Any:
    import pyarrow.compute as pc

    from pricing import history

    return pc.is_in(values, value_set=history.whole(stored)).to_numpy(zero_copy_only=False)


def rematch(conn: Any, since: Any = None) -> int:
    """Match again the stored lines dated ``since`` or later (all when None): after an edition
    or a policy is loaded, lines take the list and policy now in force on their dates."""
    from pricing import history

    history.lock_for_writing(conn)
    if not history.count(conn):
        return 0  # no deals to match: pandas is not even imported
    import pandas as pd

    from pricing.matching import Reference, match
    from pricing.perf import paused_gc

    reference = Reference(conn)
    rematched = 0

    def again(segment: Any) -> Any:
        nonlocal rematched
        frame = history.to_frame(segment)
        due = frame["date"] >= pd.Timestamp(since) if since is not None else frame["date"].notna()
        if not due.any():
            return None
        matched = match(conn, frame.loc[due, list(FACTS)], reference)
        for name in MATCHED:
            frame[name] = frame[name].astype(matched[name].dtype)
            frame.loc[due, name] = matched[name].to_numpy()
        rematched += int(due.sum())
        return dict(zip(MATCHED, history.from_frame(frame, MATCHED).columns, strict=True))

    with paused_gc():
        history.rewrite(conn, again, reads=[*FACTS, *MATCHED], since=since)
    return rematched


def link_won_requests(conn: Any) -> None:
    """Lines without a request id are priced under a won request of the same customer and SKU
    when they are dated within its approval."""
    import datetime as dt

    from pricing import history

    won = conn.exec_driver_sql(
        "SELECT r.id, r.customer, rl.sku, r.decided_at, r.expires_at FROM requests r "
        "JOIN request_lines rl ON rl.request_id = r.id WHERE r.status = 'won'"
    ).fetchall()
    if not won:
        return
    history.lock_for_writing(conn)
    if not history.count(conn):
        return
    windows = [
        (
            int(number),
            str(customer).lower(),
            str(sku).casefold(),
            dt.date.fromisoformat(str(decided_at)[:10]),
            dt.date.fromisoformat(str(expires_at)[:10]) if expires_at else dt.date.max,
        )
        for number, customer, sku, decided_at, expires_at in won
    ]

    def link(segment: Any) -> Any:
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        ids = segment["request_id"].to_numpy(zero_copy_only=False).astype(float)
        customers = pc.utf8_lower(pc.fill_null(segment["customer"], "")).to_numpy(
            zero_copy_only=False
        )
        skus = segment["sku_key"].to_numpy(zero_copy_only=False)
        dates = segment["date"].to_numpy(zero_copy_only=False).astype("datetime64[D]")
        before = np.isnan(ids).sum()
        for number, customer, sku, first, last in windows:
            last_day = np.datetime64(min(last, dt.date(9999, 12, 31)))
            hit = np.isnan(ids) & (customers == customer) & (skus == sku)
            hit &= (dates >= np.datetime64(first)) & (dates <= last_day)
            ids[hit] = number
        if np.isnan(ids).sum() == before:
            return None
        column = pa.array(np.nan_to_num(ids).astype("int64"), pa.int64(), mask=np.isnan(ids))
        return {"request_id": column}

    history.rewrite(conn, link, reads=["customer", "sku_key", "date", "request_id"])
