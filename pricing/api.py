"""The operations every front end calls: the CLI today, a server tomorrow.

Each operation is a typed function over an open :class:`~pricing.storage.store.Store`; none
prints, exits or knows click. Problems come back as data and operations that fail raise a
:class:`~pricing.errors.PricingError`. Operations that change what is stored and must then
re-match the deal history (a new price book edition, a new policy version) do both here, in one
transaction, so that the domain packages below need not know the deal history.

The modules behind the operations are imported when an operation runs: short commands (help,
a request check) then load no more than they need.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pricing.policy.file import PolicyFile
    from pricing.policy.versions import PolicyVersion
    from pricing.pricebook.editions import ImportResult
    from pricing.storage.store import Store

Progress = Callable[[int, int], None]


def open_store(url: str | None = None, *, create: bool = False) -> Store:
    """The database at ``url`` (default: the configured one), at this version's schema.

    ``create=True`` is for operations that bring data in: only they may start a new database.
    """
    from pricing.storage.store import Store

    return Store.open(url, create=create)


# Price book ---------------------------------------------------------------------------------


def import_price_book(
    db: Store | Callable[[], Store],
    file: Path,
    *,
    effective_from: date,
    user: str,
    sheet: str | None = None,
    columns: Mapping[str, str] | None = None,
    currency: str | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> ImportResult:
    """Read a price book file, compare it with the newest edition and store it as a new edition
    (unless it is a dry run, unchanged, or an error stands), then re-match the deal history
    from ``effective_from`` against it, all in one transaction.

    ``db`` may be a callable that opens the database: it is called only once the file could be
    read, while the workbook is parsed on another thread (a bad file then creates no database).
    ``currency`` is that of a book without a currency column (default: the newest policy's,
    else USD).
    """
    from concurrent.futures import ThreadPoolExecutor

    from pricing.io.perf import paused_gc
    from pricing.pricebook.file import ReadOptions, load_price_book, read_price_book

    with ThreadPoolExecutor(1) as pool:
        # The workbook is parsed (without the GIL) while the database layer loads.
        loading = pool.submit(load_price_book, file, sheet)
        from pricing.lines.service import rematch
        from pricing.policy import versions as policies
        from pricing.pricebook import editions

        loaded = loading.result()
        store = db() if callable(db) else db
        options = ReadOptions(
            sheet=sheet,
            columns=dict(columns or {}),
            currency=(currency or policies.latest_currency(store) or "USD").upper(),
        )
        read = read_price_book(file, options, progress, loaded=loaded)
    result = editions.import_result(read, effective_from=effective_from, dry_run=dry_run)
    if read.book is None or result.failed:
        return result
    with paused_gc(), store.read() if dry_run else store.write() as conn:
        editions.store_import(conn, read, result, user=user, now=now)
        if result.edition is not None:
            result.rematched = rematch(conn, since=effective_from)
    return result


# Policy -------------------------------------------------------------------------------------


def load_policy(
    db: Store, parsed: PolicyFile, *, user: str, now: datetime | None = None
) -> PolicyVersion:
    """Store a valid policy as the newest version and re-match the deal history from the date
    it is in force, in one transaction."""
    from pricing.lines.service import rematch
    from pricing.policy import versions as policies

    with db.write() as conn:
        version = policies.load(conn, parsed, user=user, now=now)
        rematch(conn, since=version.effective_from)
    return version


# Database -----------------------------------------------------------------------------------


def stored_counts(db: Store) -> dict[str, int]:
    """How much the database holds: editions, policy versions, requests and deal lines."""
    from pricing.lines import segments
    from pricing.storage import queries

    with db.read() as conn:
        counts = queries.table_counts(conn)
        counts["deal_lines"] = segments.count(conn)
    return counts
