"""Deals in the store: importing a file's lines, matching stored lines again, linking won
requests.

A deals file is read by :mod:`pricing.lines.reader`; here it is decided which of its lines are
not stored already (and whether storing them would count sales twice), and those are matched to
the list and policy in force on their dates a chunk at a time and stored as segments
(:mod:`pricing.lines.storing`), all in one transaction. After an edition or a
policy is loaded the stored lines are matched again (:func:`rematch`); a won request takes the
lines sold under it (:func:`link_won_requests`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from pricing.errors import DamagedError
from pricing.io.arrow import dictionary_encode, fill_null
from pricing.keys import sku_key
from pricing.lines import history, schema, segments
from pricing.lines.history import Conflict, Reading, Undone
from pricing.lines.matching import DealValues, Reference, match
from pricing.lines.reader import DealsFile, Progress, read_deals
from pricing.lines.storing import Fresh, match_and_store
from pricing.policy.checks import deal_values
from pricing.problems import Problem, has_errors
from pricing.storage import audit, deal_tables, store

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa
    from sqlalchemy.engine import Connection

    from pricing.io.arrow import Array, Chunked, Column
    from pricing.storage.store import Store

# A replacement that adds fewer than 1/SHRINKS of the lines it takes away is refused without
# --force: replacing a 10,000-line import with a 10-line file is more likely the wrong file or
# the wrong import id than a correction (and the lines removed come back only by importing
# their file again).
SHRINKS = 2


@dataclass(frozen=True)
class Shrink:
    """A replacement that takes away far more lines than it brings: import ``replaced`` loses
    ``removed`` lines, the file adds ``added``."""

    replaced: int
    removed: int
    added: int


@dataclass
class DealsImport:
    """What a deals import did: lines read, added, already stored (by identity), unmatched
    (no list price on their date, kept and counted), the file's problems and notes."""

    lines: int
    added: int
    already_present: int
    unmatched: int
    unmatched_skus: list[tuple[str, str]]  # (sku, first date), the first UNMATCHED_SKUS_LISTED
    problems: list[Problem]
    notes: list[str]
    dry_run: bool
    import_id: int | None = None  # the import recorded (None: nothing stored)
    already_imported_as: int | None = None  # the import holding this very file, read this way
    replaced: Undone | None = None  # the import undone first (``--replace``)
    conflict: Conflict | None = None  # why nothing was stored: it would count sales twice
    # A replacement removing far more than it adds: stored only when forced (a dry run says it)
    shrink: Shrink | None = None
    forced: bool = False
    unmatched_sku_count: int = 0  # distinct SKUs of the unmatched lines, listed or not
    # Lines left out by their status (status as written -> lines): ``lines`` counts them,
    # ``added`` and ``already_present`` do not.
    skipped_by_status: dict[str, int] = field(default_factory=dict)


class _Refusal(Exception):
    """Raised inside the write transaction to roll it back (an undo done for ``--replace``
    too) when the file would count sales twice, or a replacement would shrink an import."""


class _Preview(Exception):
    """Raised at the end of a replacement's dry run: everything was done but storing the
    lines, and is rolled back."""


def import_deals(
    db: Store,
    read: DealsFile,
    *,
    user: str = "unknown",
    dry_run: bool = False,
    replace: int | None = None,
    force: bool = False,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> DealsImport:
    """Store the lines of a deals file (those not already stored), matched to list and policy.

    ``replace``: undo that import first, in the same transaction; a replacement that adds
    fewer than half the lines it removes is refused unless ``force`` (``shrink`` says by how
    much). A dry run of a replacement does all of it, storing no line, and rolls it back.
    Nothing is stored when the same file, read the same way (the same lines, however the date
    format or decimal mark was named), is held by an import already (``already_imported_as``),
    or when it would count sales twice (``conflict``: the same file read another way, or its
    new lines repeat stored lines under other ids)."""

    total = 0 if read.lines is None else read.lines.num_rows  # the lines kept by status
    skipped = sum(read.skipped_by_status.values())
    result = DealsImport(
        total + skipped, 0, 0, 0, [], read.problems, read.notes, dry_run, forced=force,
        skipped_by_status=dict(read.skipped_by_status),
    )  # fmt: skip
    if read.lines is None or has_errors(read.problems):
        return result  # nothing is stored while an error stands (a file without a header too)
    now = now or store.utcnow()
    preview = dry_run and replace is not None  # a replacement is previewed by doing it
    try:
        with db.read() if dry_run and not preview else db.write() as conn:
            if not dry_run or preview:
                deal_tables.lock_for_writing(conn)
            if replace is not None:
                note = f"{read.name} replaces it"
                result.replaced = undo(conn, replace, by=user, note=note)
            holder, conflict = history.same_file(conn, read)
            if conflict is not None and conflict.reading and _reads_alike(read, conflict.reading):
                holder, conflict = conflict.earlier, None
            result.conflict = conflict
            if result.conflict is not None:
                raise _Refusal
            if holder is not None:
                result.already_imported_as, result.already_present = holder, total
                _check_shrink(result, replace, preview=preview)
                if preview:
                    raise _Preview
                return result
            fresh = _fresh(conn, read.lines)
            result.conflict = history.content_conflict(conn, fresh.lines, read.lines["line_key"])
            if result.conflict is not None:
                raise _Refusal
            result.added = fresh.lines.num_rows
            result.already_present = total - result.added
            corrected = history.differing(conn, read.lines) if result.already_present else None
            result.problems.extend(
                _left_out_stored(read, history.stored_already(conn, read.left_out))
            )
            _check_shrink(result, replace, preview=preview)
            number = None
            if not dry_run:
                first, last = segments.date_bounds(read.lines["date"]) if total else (None, None)
                number = deal_tables.add_import(
                    conn,
                    source=read.name,
                    imported_at=now,
                    imported_by=user,
                    lines=total + skipped,
                    added=result.added,
                    sha256=read.sha256,
                    columns=json.dumps(read.columns, sort_keys=True),
                    date_format=read.date_format,
                    decimal=read.decimal,
                    first_date=first,
                    last_date=last,
                    held_keys=fresh.held,
                    status_filter=read.status_filter,
                    skipped_by_status=(
                        json.dumps(read.skipped_by_status) if read.status_filter else None
                    ),
                )
                result.import_id = number
            result.problems.extend(_differing(read, corrected, number))
            stored = match_and_store(
                conn, fresh, number, dry_run=dry_run, progress=progress, file=read.name
            )
            result.unmatched = stored.unmatched
            result.problems.extend(stored.problems)
            result.unmatched_sku_count = stored.unmatched_sku_count
            result.unmatched_skus = stored.unmatched_skus
            if stored.grown is not None:
                # The deals this file adds lines to are worth more now: their stored lines
                # are classified again with the deal's new value.
                why = f"deals import {number} added lines to their deals"
                rematch(conn, deals=stored.grown, by=user, why=why, repriced=False)
            result.problems.extend(_leading_zero_hints(conn, result.unmatched_skus, read.name))
            if number is not None:
                note = read.name + (f", replacing import {replace}" if replace else "")
                audit.record(conn, by=user, action="deals.imported",
                             subjects=[audit.subject("deals", number)], note=note, at=now)  # fmt: skip
                link_won_requests(conn, by=user)
            if preview:
                raise _Preview
    except _Refusal:
        result.replaced = None  # rolled back with the rest
    except _Preview:
        pass  # rolled back: the undo too; ``replaced`` says what it would remove
    return result


# What the owner reads for each value of a stored line that a file gives otherwise.
_SAID = {"date": "date", "sku_key": "SKU", "qty": "quantity", "amount": "amount",
         "unit_price": "price", "discount_pct": "discount", "customer": "customer"}  # fmt: skip


def _differing(
    read: DealsFile, found: history.Differing | None, number: int | None
) -> list[Problem]:
    """A warning when lines of the file are stored already with other values: they are kept
    as stored, and ``--replace`` is how to correct them (after undoing this import, ``number``,
    which holds them as they are stored)."""
    if found is None:
        return []
    shown = "; ".join(
        f"deal {deal}: {', '.join(_SAID[c] for c in moved)}" for deal, moved in found.examples
    )
    imports = ", ".join(str(i) for i in found.imports)
    if len(found.imports) != 1:
        how = f"replace the imports holding them ({imports}) with corrected files"
    elif number is None:
        how = f"import it with --replace {imports} instead"
    else:
        how = (
            f"undo this import (pricing deals undo {number}) and import the file again with "
            f"--replace {imports}"
        )
    return [
        Problem(
            "warning",
            f"{found.lines:,} line(s) are stored already with other values (e.g. {shown}); "
            f"the stored values were kept: if this file corrects them, {how}",
            file=read.name,
        )
    ]


def _left_out_stored(read: DealsFile, found: history.StoredAlready | None) -> list[Problem]:
    """A warning when lines this import leaves out by their status are stored by earlier
    imports: they stay in the report, and replacing those imports is how to take them out."""
    if found is None:
        return []
    deal, line = read.columns.get("deal_id"), read.columns.get("line_id")
    if deal is not None:
        examples = f" (e.g. {deal} {', '.join(dict.fromkeys(d for d, _ in found.examples))})"
    elif line is not None:
        examples = f" (e.g. {line} {', '.join(k[2:] for _, k in found.examples)})"
    else:
        examples = ""  # the lines are known by their content: nothing to name them by
    numbers = [str(n) for n in found.imports if n]
    if not numbers:
        held, how = "lines stored before imports were recorded", "undo or replace them"
    elif len(numbers) == 1:
        held, how = f"import {numbers[0]}", f"import with --replace {numbers[0]}"
    else:
        held = f"imports {', '.join(numbers)}"
        how = "replace each of those imports (--replace N) with a file read this way"
    return [
        Problem(
            "warning",
            f"{found.lines:,} line(s) this import leaves out by their status are stored already "
            f"by {held}{examples}: they stay in the report; to take them out, {how}",
            file=read.name,
        )
    ]


def _check_shrink(result: DealsImport, replace: int | None, *, preview: bool) -> None:
    """Note a replacement that adds fewer than 1/SHRINKS of the lines it removes; refuse it
    (roll back) unless forced or previewed."""
    undone = result.replaced
    if replace is None or undone is None or undone.removed <= SHRINKS * result.added:
        return
    result.shrink = Shrink(replace, undone.removed, result.added)
    if not result.forced and not preview:
        raise _Refusal


def _reads_alike(read: DealsFile, earlier: Reading) -> bool:
    """Whether the file, read as an earlier import of it was (its date format and decimal mark
    as named then), gives the very lines of this reading: ``--date-format %d/%m/%Y`` names
    what the values said when the first import read them day-first. Read again only here, on
    the rare import of a file imported before with another reading named."""
    assert read.lines is not None
    kept = read.status_filter or "default"
    again = read_deals(
        read.path,
        columns=read.columns,
        date_format=earlier.date_format,
        decimal=earlier.decimal,
        statuses=kept.removeprefix("only:").split(",") if kept.startswith("only:") else None,
        all_statuses=kept == "all",
    )
    if again.lines is None or has_errors(again.problems):
        return False
    return bool(again.lines.equals(read.lines))


def _fresh(conn: Connection, lines: pa.Table) -> Fresh:
    """The lines to add: a line already stored is already present. The deal's first line in the file counts the deal, unless the deal was stored
    before; a deal keeps its number, new deals are numbered after the stored ones."""
    import numpy as np
    import pyarrow as pa

    stored = segments.scan(conn, ["line_key", "deal_id", "deal_no"])
    # Keys never repeat within a file (the reader makes them so, or refuses the file): lines of
    # one file are never "already present" because of each other.
    keys = segments.whole(lines["line_key"])
    total = lines.num_rows
    fresh = np.ones(total, dtype=bool)
    held = None
    if stored.num_rows:
        present, held_as = _held_as_line_ids(keys, stored, _is_in(keys, stored["line_key"]))
        fresh &= ~present
        held = history.held_keys(keys if held_as is None else held_as, present)
    deal_first = lines["deal_first"].to_numpy()
    deal_no = lines["deal_code"].to_numpy()
    if not fresh.all():
        lines = lines.filter(pa.array(fresh))
        deal_first, deal_no = deal_first[fresh], deal_no[fresh]
    if stored.num_rows:
        known, numbers = _stored_numbers(segments.whole(lines["deal_id"]), stored)
        deal_first = deal_first & ~known
        deal_no = np.where(known, numbers, deal_no + _max(stored["deal_no"]) + 1)
        return Fresh(lines, deal_first, deal_no, held, adds_to_stored_deals=bool(known.any()))
    return Fresh(lines, deal_first, deal_no, held)


def _held_as_line_ids(
    keys: Array, stored: pa.Table, present: npt.NDArray[np.bool_]
) -> tuple[npt.NDArray[np.bool_], Array | None]:
    """For a file whose lines are keyed within their deals (``N:``, a line number per deal),
    the lines an older import stored by their line id alone (``L:``, before a number like the
    file's was read within its deal) with the same deal id are the same lines: ``present``
    with them too, and the key each present line is stored under (the ``L:`` one where it
    matched so; None when none did), for the import's record of the lines it held, so that
    undoing the older import keeps them."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not len(keys) or not str(keys[0].as_py()).startswith("N:"):
        return present, None
    stored_keys = segments.whole(stored["line_key"])
    by_id = pc.and_(
        pc.starts_with(stored_keys, "L:"), pc.is_valid(segments.whole(stored["deal_id"]))
    )
    if not pc.any(by_id).as_py():
        return present, None
    by_id_alone = stored.select(["line_key", "deal_id"]).filter(by_id)
    old = segments.whole(by_id_alone["line_key"])
    # The key the file gives such a line: the deal id's length, the deal id, the line id.
    found = pc.index_in(keys, value_set=history.in_file_form(keys, by_id_alone))
    matched = pc.is_valid(found).to_numpy(zero_copy_only=False)
    if not matched.any():
        return present, None
    stored_as = old.take(fill_null(found, 0))
    held: Array = pc.if_else(pa.array(matched), stored_as, keys)
    return present | matched, held


def _leading_zero_hints(
    conn: Connection, unmatched: list[tuple[str, str]], file: str
) -> list[Problem]:
    """A warning for each unmatched SKU that is a book's SKU but for its leading zeros
    (``123`` where the book has ``00123``: Excel read the SKU column as numbers)."""
    bare = {sku: sku_key(sku).lstrip("0") for sku, _ in unmatched if sku[:1].isdigit()}
    found = deal_tables.book_skus_without_zeros(conn, [b for b in bare.values() if b])
    return [
        Problem(
            "warning",
            f"SKU {sku!r} has no list price, but the price book has {found[key]!r}: the export "
            "lost its leading zeros (Excel reads such a SKU column as numbers); format the "
            "column as text, export again and import that file instead",
            value=sku,
            file=file,
        )
        for sku, key in bare.items()
        if key in found and sku_key(found[key]) != sku_key(sku)
    ]


def _stored_numbers(
    deals: Array, stored: pa.Table
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int64]]:
    """Which deals are stored already, and their stored numbers (0 where not)."""
    import numpy as np
    import pyarrow.compute as pc

    encoded = dictionary_encode(segments.whole(stored["deal_id"]))
    numbers = np.zeros(len(encoded.dictionary), dtype=np.int64)
    numbers[encoded.indices.to_numpy(zero_copy_only=False)] = fill_null(
        stored["deal_no"], 0
    ).to_numpy()
    found = pc.index_in(deals, value_set=encoded.dictionary)
    known = pc.is_valid(found).to_numpy(zero_copy_only=False)
    return known, numbers[fill_null(found, 0).to_numpy(zero_copy_only=False)]


def _max(column: Chunked) -> int:
    import pyarrow.compute as pc

    value = pc.max(column).as_py()
    return int(value) if value is not None else -1


def _is_in(values: Array, stored: Chunked) -> npt.NDArray[np.bool_]:
    import pyarrow.compute as pc

    found: npt.NDArray[np.bool_] = pc.is_in(values, value_set=segments.whole(stored)).to_numpy(
        zero_copy_only=False
    )
    return found


def undo(conn: Connection, number: int, *, by: str, note: str | None = None) -> Undone:
    """:func:`pricing.lines.history.undo`, and the deals that import had lines of classified
    again on the lines they keep (a deal's value is its lines' in the store)."""
    import numpy as np

    reference = Reference(conn)
    deals = []
    if reference.reads_deal_value():
        for segment, size in deal_tables.import_segments(conn, number):
            try:
                part = segments.of_segment(conn, segment, size, ["deal_no"])
            except DamagedError:
                continue  # its lines go whole; their deals' other lines are judged as stored
            deals.append(np.unique(segments.zero_filled(part["deal_no"])))
    undone = history.undo(conn, number, by=by, note=note)
    if deals:
        why = f"deals import {number} was undone: its deals are worth what they keep"
        rematch(conn, deals=np.unique(np.concatenate(deals)), by=by, why=why, repriced=False)
    return undone


def rematch(
    conn: Connection,
    since: date | None = None,
    *,
    by: str | None,
    why: str | None = None,
    deals: npt.NDArray[np.int64] | None = None,
    repriced: bool = True,
) -> int:
    """Match again the stored lines dated ``since`` or later (all when None): after an edition
    or a policy is loaded, lines take the list and policy now in force on their dates. The
    imports changed are recorded in the audit as ``by``'s doing (``why`` says what caused it).
    ``deals``: only the lines of these deals (numbers), whose value a later import changed.
    ``repriced`` False: no edition changed, so every stored standard revenue stands (a policy
    was loaded, a deal grew or shrank).

    Each line is judged with its deal's value over the deal's lines in the store, as they
    are matched now (:func:`pricing.policy.checks.deal_values`)."""

    deal_tables.lock_for_writing(conn)
    if not deal_tables.count(conn):
        return 0  # no deals to match
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    reference = Reference(conn, keep_items=True)
    kinds = schema.arrow(schema.MATCHED)
    rematched = 0
    by_deal = reference.reads_deal_value()
    values = None
    if by_deal:
        values = (
            _stored_deal_values(conn, since, deals, reference)
            if repriced
            else _deal_values_as_stored(conn)
        )

    def due_lines(segment: pa.Table) -> npt.NDArray[np.bool_]:
        days = segment["date"].to_numpy()
        due = days >= np.datetime64(str(since)[:10]) if since is not None else ~np.isnat(days)
        if deals is not None:
            due &= np.isin(segments.zero_filled(segment["deal_no"]), deals)
        found: npt.NDArray[np.bool_] = due
        return found

    def scope(segment: pa.Table, due: npt.NDArray[np.bool_]) -> DealValues | None:
        if values is None:
            return None
        numbers = segments.zero_filled(segment["deal_no"])[due]
        return lambda qty, revenue: values[numbers]

    def again(segment: pa.Table) -> dict[str, Column] | None:
        nonlocal rematched
        due = due_lines(segment)
        if not due.any():
            return None
        rematched += int(due.sum())
        facts = segment.select(list(schema.FACTS))
        if due.all():
            matched = match(conn, facts, reference, scope(segment, due))
            return {name: matched[name] for name in schema.MATCHED}
        matched = match(conn, facts.filter(pa.array(due)), reference, scope(segment, due))
        spread = pa.array(np.maximum(np.cumsum(due) - 1, 0))  # a due line's row in ``matched``
        return {
            name: pc.if_else(
                pa.array(due),
                matched[name].cast(kinds.field(name).type).take(spread),
                segments.whole(segment[name]),
            )
            for name in schema.MATCHED
        }

    reads = [*schema.FACTS, *schema.MATCHED, *(["deal_no"] if by_deal or deals is not None else [])]
    changed = segments.rewrite(conn, again, reads=reads, since=since)
    _audit_changed(conn, changed, by=by, action="deals.rematched", note=why)
    return rematched


def _deal_values_as_stored(conn: Connection) -> npt.NDArray[Any]:
    """Each stored deal's value (by deal number) from the stored lines as they are."""
    stored = segments.scan(conn, ["deal_no", "qty", "standard_revenue"])
    return _by_number(*(segments.zero_filled(stored[name]) for name in stored.column_names))


def _by_number(
    deal: npt.NDArray[np.int64], qty: npt.NDArray[np.int64], revenue: npt.NDArray[np.int64]
) -> npt.NDArray[Any]:
    """Each deal's value (:func:`pricing.policy.checks.deal_values`) at its deal number."""
    import numpy as np

    value = deal_values(deal, qty, revenue)
    by_number = np.zeros(int(deal.max()) + 1 if len(deal) else 1, dtype=value.dtype)
    by_number[deal] = value
    return by_number


def _stored_deal_values(
    conn: Connection,
    since: date | None,
    deals: npt.NDArray[np.int64] | None,
    reference: Reference,
) -> npt.NDArray[Any]:
    """Each stored deal's value (by deal number) once the lines a re-match is due to change
    are matched anew (their standard revenue may change with the edition in force); the
    other lines count as stored."""
    import datetime as dt

    import numpy as np
    import pyarrow as pa

    parts: list[tuple[Any, Any, Any]] = []
    if since is not None:  # lines dated before ``since`` keep their stored revenue
        before = segments.scan(
            conn, ["deal_no", "qty", "standard_revenue"], end=since - dt.timedelta(days=1)
        )
        parts.append(tuple(segments.zero_filled(before[n]) for n in before.column_names))  # type: ignore[arg-type]

    def collect(segment: pa.Table) -> None:
        deal = segments.zero_filled(segment["deal_no"])
        qty = segments.zero_filled(segment["qty"])
        revenue = segments.zero_filled(segment["standard_revenue"])
        days = segment["date"].to_numpy()
        keep = days >= np.datetime64(str(since)[:10]) if since is not None else ~np.isnat(days)
        due = keep & (np.isin(deal, deals) if deals is not None else True)
        if due.any():
            facts = segment.select(list(schema.FACTS)).filter(pa.array(due))
            again = match(conn, facts, reference, judge=False)["standard_revenue"]
            revenue = revenue.copy()
            revenue[due] = segments.zero_filled(again)
        parts.append((deal[keep], qty[keep], revenue[keep]))

    reads = ["deal_no", "qty", "standard_revenue", *schema.FACTS]
    segments.rewrite(conn, collect, reads=list(dict.fromkeys(reads)), since=since)
    deal, qty, revenue = (np.concatenate([part[k] for part in parts]) for k in range(3))
    return _by_number(deal, qty, revenue)


def _audit_changed(
    conn: Connection, changed: list[int], *, by: str | None, action: str, note: str | None
) -> None:
    """Record the deals imports whose stored lines a re-match or a link rewrote (``by`` None:
    inside a migration from before the keyed audit, which has no chain to append to)."""
    if by is not None and changed:
        subjects = [audit.subject("deals", n) for n in deal_tables.imports_of(conn, changed)]
        audit.record(conn, by=by, action=action, subjects=subjects, note=note)


def link_won_requests(conn: Connection, *, by: str) -> None:
    """Lines without a request id are priced under a won request of the same customer and SKU
    when they are dated within its approval."""
    import datetime as dt

    won = deal_tables.won_requests(conn)
    if not won:
        return
    deal_tables.lock_for_writing(conn)
    if not deal_tables.count(conn):
        return
    windows = [
        (
            int(number),
            str(customer).lower(),
            sku_key(str(sku)),
            dt.date.fromisoformat(str(decided_at)[:10]),
            dt.date.fromisoformat(str(expires_at)[:10]) if expires_at else dt.date.max,
        )
        for number, customer, sku, decided_at, expires_at in won
    ]

    def link(segment: pa.Table) -> dict[str, Column] | None:
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        ids = segment["request_id"].to_numpy(zero_copy_only=False).astype(float)
        customers = pc.utf8_lower(fill_null(segment["customer"], "")).to_numpy(zero_copy_only=False)
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

    changed = segments.rewrite(conn, link, reads=["customer", "sku_key", "date", "request_id"])
    _audit_changed(
        conn, changed, by=by, action="deals.linked", note="lines priced under won requests"
    )
