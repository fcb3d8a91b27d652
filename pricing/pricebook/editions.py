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
from typing import Any

from sqlalchemy.engine import Connection

from pricing.errors import NotFoundError
from pricing.io.perf import paused_gc
from pricing.money import display_money, format_money
from pricing.pricebook.file import PriceBookFile
from pricing.pricebook.model import BookDiff, Edition, PriceBook, PriceItem, compare
from pricing.problems import Problem, has_errors
from pricing.storage import store
from pricing.storage.store import Store

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

    @property
    def failed(self) -> bool:
        return has_errors(self.problems)


def import_price_book(
    db: Store,
    read: PriceBookFile,
    *,
    effective_from: date,
    user: str,
    dry_run: bool = False,
    now: datetime | None = None,
) -> ImportResult:
    """Store a price book read from a file as a new edition effective ``effective_from``.

    Reading (:func:`pricing.pricebook.file.read_price_book`) is separate so that a caller can
    read the workbook while the database is being opened.
    """
    path = read.path
    result = ImportResult(
        source=path.name,
        sheet=read.sheet,
        effective_from=effective_from,
        dry_run=dry_run,
        problems=read.problems,
    )
    book = read.book
    if book is None or result.failed:
        return result
    result.items, result.tiers = len(book.items), len(book.tiers)
    result.currencies = sorted({item.currency for item in book.items.values()})
    with paused_gc(), db.write() if not dry_run else db.read() as conn:
        latest = store.latest_edition(conn)
        previous = store.load_book(conn, latest.number) if latest else None
        result.previous = latest.number if latest else None
        result.diff = compare(previous, book)
        result.problems.extend(_change_warnings(result.diff, read.location, path.name))
        if latest is not None and result.diff.is_empty:
            result.unchanged = True
            return result
        if dry_run:
            return result
        result.edition = store.add_edition(
            conn,
            book,
            effective_from=effective_from,
            source=path.name,
            source_sha256=read.sha256,
            imported_by=user,
            imported_at=now or store.utcnow(),
        )
        from pricing.lines.service import rematch

        result.rematched = rematch(conn, since=effective_from)
    return result


def _change_warnings(
    diff: BookDiff, location: Callable[[str, str], dict[str, Any]], source: str
) -> list[Problem]:
    """Warnings that only a comparison with the previous edition can raise."""
    found: list[Problem] = []
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
    for item in diff.removed:
        found.append(
            Problem(
                "warning",
                f"SKU {item.sku} is in the previous edition but not in this file: it is dropped",
                file=source,
                value=item.sku,
            )
        )
    return found


def editions(db: Store) -> list[Edition]:
    with db.read() as conn:
        return store.list_editions(conn)


def in_force(db: Store, on: date) -> tuple[Edition, PriceBook]:
    """The edition in force on a date and its whole book."""
    with db.read() as conn:
        edition = store.edition_in_force(conn, on)
        if edition is None:
            raise NotFoundError(_nothing_in_force(conn, on))
        return edition, store.load_book(conn, edition.number)


def item_in_force(db: Store, sku: str, on: date) -> tuple[Edition, PriceItem, PriceBook]:
    """One SKU as the edition in force on a date prices it (with that edition's tiers)."""
    with db.read() as conn:
        edition = store.edition_in_force(conn, on)
        if edition is None:
            raise NotFoundError(_nothing_in_force(conn, on))
        book = store.load_book(conn, edition.number, sku=sku)
    item = book.get(sku)
    if item is None:
        raise NotFoundError(
            f"no SKU {sku!r} in edition {edition.number} "
            f"(in force on {on.isoformat()}, effective {edition.effective_from.isoformat()})"
        )
    return edition, item, book


def book_of(db: Store, number: int) -> tuple[Edition, PriceBook]:
    with db.read() as conn:
        edition = store.get_edition(conn, number)
        if edition is None:
            known = [e.number for e in store.list_editions(conn)]
            raise NotFoundError(
                f"no edition {number}; the editions are {', '.join(map(str, known)) or 'none yet'}"
            )
        return edition, store.load_book(conn, number)


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
    listed = store.list_editions(conn)
    if not listed:
        return "no price book imported yet: run `pricing pricebook import FILE` first"
    first = min(e.effective_from for e in listed)
    return (
        f"no edition is in force on {on.isoformat()}: the earliest is effective {first.isoformat()}"
    )
