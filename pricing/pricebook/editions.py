"""Editions: turning a price book file into a new edition, and finding the one in force.

An import compares the file with the most recently imported edition (whatever its date):
the same content makes no edition ("unchanged"); otherwise a new edition is stored, in one
transaction, unless any error stands or it is a dry run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection

from pricing.errors import NotFoundError
from pricing.keys import sku_key
from pricing.money import display_money, format_money
from pricing.pricebook.model import BookDiff, Edition, PriceBook, PriceItem, Tier, compare
from pricing.problems import Problem, has_errors
from pricing.storage import queries, store
from pricing.storage.store import Store

if TYPE_CHECKING:
    from pricing.pricebook.file import PriceBookFile
    from pricing.pricebook.rows import SkippedRow

PRICE_MOVE_WARNING_PCT = Decimal(50)


@dataclass
class ImportResult:
    """What an import did (or, on a dry run or an error, would have done)."""

    source: str
    sheet: str | None
    effective_from: date
    dry_run: bool
    problems: list[Problem]
    edition: int | None = None
    previous: int | None = None
    unchanged: bool = False
    items: int = 0
    tiers: int = 0
    diff: BookDiff | None = None
    currencies: list[str] = field(default_factory=list)
    rematched: int = 0
    # The rows --skip-invalid left out (the first SKIPPED_ROWS_LISTED listed) and how many.
    skipped: list[SkippedRow] = field(default_factory=list)
    skipped_rows: int = 0

    @property
    def failed(self) -> bool:
        return has_errors(self.problems)


def import_result(read: PriceBookFile, *, effective_from: date, dry_run: bool) -> ImportResult:
    """What importing a file read from disk comes to before the database is asked: its counts
    and the problems found in it (an import with an error stops here)."""
    result = ImportResult(
        source=read.path.name,
        sheet=read.sheet,
        effective_from=effective_from,
        dry_run=dry_run,
        problems=read.problems,
        skipped=read.skipped,
        skipped_rows=read.skipped_rows,
    )
    if read.book is not None and not result.failed:
        result.items, result.tiers = len(read.book.items), len(read.book.tiers)
        result.currencies = sorted({item.currency for item in read.book.items.values()})
    return result


def store_import(
    conn: Connection,
    read: PriceBookFile,
    result: ImportResult,
    *,
    user: str,
    now: datetime | None = None,
) -> None:
    """Compare the book read with the newest edition and, unless it is the same content or a
    dry run, store it as a new edition on ``conn`` (the caller's transaction), filling in
    ``result``. Re-matching the deal history against the new edition is the caller's job
    (:func:`pricing.api.import_price_book` does both)."""
    book = read.book
    assert book is not None and not result.failed, "only a book without errors is stored"
    latest = latest_edition(conn)
    previous = load_book(conn, latest.number) if latest else None
    result.previous = latest.number if latest else None
    result.diff = compare(previous, book)
    result.problems.extend(_change_warnings(result.diff, read.location, result.source))
    # The same content again adds nothing, unless it is given an earlier date than the newest
    # edition's (today is the default, so an earlier day other than today was asked for): then
    # it is that edition back-dated, e.g. a book first imported without --effective.
    back_dated = (
        latest is not None
        and result.effective_from < latest.effective_from
        and result.effective_from != store.utcnow().date()
    )
    if latest is not None and result.diff.is_empty and not back_dated:
        result.unchanged = True
        return
    if result.dry_run:
        return
    result.edition = add_edition(
        conn,
        book,
        effective_from=result.effective_from,
        source=result.source,
        source_sha256=read.sha256,
        imported_by=user,
        imported_at=now or store.utcnow(),
    )
    from pricing.storage import audit  # (a request check reads editions, records nothing)

    audit.record(conn, by=user, action="edition.imported", note=result.source, at=now,
                 subjects=[audit.subject("edition", result.edition)])  # fmt: skip


def _change_warnings(
    diff: BookDiff, location: Callable[[str, str], dict[str, Any]], source: str
) -> list[Problem]:
    """Warnings that only a comparison with the previous edition can raise."""
    found: list[Problem] = []
    switched = [c for c in diff.changed if c.currency_changed]
    if switched:
        pairs = sorted({f"{c.old.currency} -> {c.new.currency}" for c in switched})
        found.append(
            Problem(
                "warning",
                f"{len(switched):,} SKU(s) changed currency from the previous edition "
                f"({', '.join(pairs)}): their prices are not compared as price moves",
                file=source,
            )
        )
    for change in diff.changed:
        move = change.price_change_pct
        if move is not None and abs(move) > PRICE_MOVE_WARNING_PCT:
            found.append(
                Problem(
                    "warning",
                    f"list price moved {move:+.2f} % from "
                    f"{display_money(change.old.list_price, change.old.currency)} in the "
                    "previous edition; check it is not a typo",
                    value=format_money(change.new.list_price, change.new.currency),
                    **location(change.new.key, "list_price"),
                )
            )
    previous = len(diff.removed) + len(diff.changed) + diff.unchanged
    if previous and len(diff.removed) * 2 > previous:
        found.append(
            Problem(
                "warning",
                f"{len(diff.removed):,} of the previous edition's {previous:,} SKUs are not in "
                "this file: is it the right file (not a part of the price book)? Check with "
                "--dry-run before importing; every SKU left out is dropped",
                file=source,
            )
        )
    for item in diff.removed:
        found.append(
            Problem(
                "warning",
                f"SKU {item.sku!r} is in the previous edition but not in this file: it is dropped",
                file=source,
                value=item.sku,
            )
        )
    return found


def newest_currencies(conn: Connection) -> tuple[int, list[str]] | None:
    """The most recently imported edition's number and currencies (that of most items first),
    None before the first import: a file that names no currency is in the book's currency."""
    latest = latest_edition(conn)
    if latest is None:
        return None
    return latest.number, queries.item_currencies(conn, latest.number)


def editions(db: Store) -> list[Edition]:
    with db.read() as conn:
        return list_editions(conn)


def in_force(db: Store, on: date) -> tuple[Edition, PriceBook]:
    """The edition in force on a date and its whole book."""
    with db.read() as conn:
        edition = edition_in_force(conn, on)
        if edition is None:
            raise NotFoundError(_nothing_in_force(conn, on))
        return edition, load_book(conn, edition.number)


def item_in_force(db: Store, sku: str, on: date) -> tuple[Edition, PriceItem, PriceBook]:
    """One SKU as the edition in force on a date prices it (with that edition's tiers)."""
    with db.read() as conn:
        edition = edition_in_force(conn, on)
        if edition is None:
            raise NotFoundError(_nothing_in_force(conn, on))
        book = load_book(conn, edition.number, sku=sku)
    item = book.get(sku)
    if item is None:
        raise NotFoundError(
            f"no SKU {sku!r} in edition {edition.number} "
            f"(in force on {on.isoformat()}, effective {edition.effective_from.isoformat()})"
        )
    return edition, item, book


def book_of(db: Store, number: int) -> tuple[Edition, PriceBook]:
    with db.read() as conn:
        edition = get_edition(conn, number)
        if edition is None:
            known = [e.number for e in list_editions(conn)]
            raise NotFoundError(
                f"no edition {number}; the editions are {', '.join(map(str, known)) or 'none yet'}"
            )
        return edition, load_book(conn, number)


def diff(
    db: Store, old: int | None = None, new: int | None = None
) -> tuple[Edition, Edition, BookDiff]:
    """Compare two editions; by default the two most recently imported."""
    if (old is None) != (new is None):
        raise NotFoundError("give both editions to compare (OLD NEW), or neither")
    if old is None or new is None:
        listed = editions(db)
        if len(listed) < 2:
            raise NotFoundError(
                f"there {'is' if len(listed) == 1 else 'are'} {len(listed)} edition(s); "
                "a diff needs two: import another edition first"
            )
        old, new = listed[-2].number, listed[-1].number
    old_edition, old_book = book_of(db, old)
    new_edition, new_book = book_of(db, new)
    return old_edition, new_edition, compare(old_book, new_book)


def _nothing_in_force(conn: Connection, on: date) -> str:
    listed = list_editions(conn)
    if not listed:
        return "no price book imported yet: run `pricing pricebook import FILE` first"
    first = min(e.effective_from for e in listed)
    return (
        f"no edition is in force on {on.isoformat()}: the earliest is effective {first.isoformat()}"
    )


# The domain's view of the stored editions -----------------------------------------------------


def _edition(record: queries.EditionRecord) -> Edition:
    return Edition(
        number=record.id,
        effective_from=record.effective_from,
        source=record.source,
        imported_at=record.imported_at,
        imported_by=record.imported_by,
        items=record.item_count,
        source_sha256=record.source_sha256,
    )


def list_editions(conn: Connection) -> list[Edition]:
    return [_edition(r) for r in queries.edition_rows(conn)]


def get_edition(conn: Connection, number: int) -> Edition | None:
    record = queries.edition_row(conn, number)
    return _edition(record) if record else None


def latest_edition(conn: Connection) -> Edition | None:
    record = queries.latest_edition_row(conn)
    return _edition(record) if record else None


def edition_in_force(conn: Connection, on: date) -> Edition | None:
    """The newest edition effective on or before ``on`` (a later import wins a tie)."""
    record = queries.edition_row_in_force(conn, on)
    return _edition(record) if record else None


def load_book(conn: Connection, number: int, sku: str | None = None) -> PriceBook:
    """The items (all, or one SKU's) and tiers of an edition."""
    items = {
        r.sku_key: PriceItem(
            r.sku, r.list_price, r.currency, r.name, r.family, r.unit_cost, r.floor_price, r.status
        )
        for r in queries.item_rows(conn, number, None if sku is None else sku_key(sku))
    }
    tiers = [
        Tier(
            min_qty=t.min_qty,
            sku=t.sku,
            family=t.family,
            price=t.price,
            discount_pct=t.discount_pct,
        )
        for t in queries.tier_rows(conn, number)
    ]
    return PriceBook(items=items, tiers=tiers)


def add_edition(
    conn: Connection,
    book: PriceBook,
    *,
    effective_from: date,
    source: str,
    source_sha256: str,
    imported_by: str,
    imported_at: datetime,
) -> int:
    """Store a book as a new edition and return its number."""
    number = queries.insert_edition(
        conn,
        effective_from=effective_from,
        source=source,
        source_sha256=source_sha256,
        imported_by=imported_by,
        imported_at=imported_at,
        item_count=len(book.items),
    )
    tiers = [queries.TierRecord(t.sku, t.family, t.min_qty, t.price, t.discount_pct)
             for t in book.tiers]  # fmt: skip
    queries.insert_items(conn, number, book.stored_rows(number), tiers)
    return number
