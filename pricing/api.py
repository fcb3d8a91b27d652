"""The functions over an open store that are more than a call passed along.

What stays here does work of its own between the operations (:mod:`pricing.operations`) and
the domain: two things in one transaction (a new price book edition or policy version and the
deal history re-matched against it), a workbook parsed on a thread while the database opens,
the views that put an edition, its book and a day together, the database's status, upgrade and
check. An operation that only hands a call on calls the domain module itself (requests go to
:mod:`pricing.requests.lifecycle`, people to :mod:`pricing.access.people`). None of these
functions prints, exits, knows click, or decides who may act (:mod:`pricing.access.authority`
does); problems come back as data and operations that fail raise a
:class:`~pricing.errors.PricingError`.

The modules behind each function are imported when it runs: short commands (help, a request
check) then load no more than they need.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar

from pricing.errors import InputError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from pricing.analysis.impact import Impact
    from pricing.analysis.report import Report
    from pricing.analysis.simulate import Simulation
    from pricing.lines.reader import DealsFile
    from pricing.lines.service import DealsImport
    from pricing.policy.file import PolicyFile
    from pricing.policy.model import Policy
    from pricing.policy.versions import PolicyVersion
    from pricing.pricebook.editions import ImportResult
    from pricing.pricebook.model import BookDiff, Edition, PriceBook, PriceItem
    from pricing.storage.audit import Verdict
    from pricing.storage.check import Finding, StoreCheck
    from pricing.storage.outbox import OutboxState
    from pricing.storage.store import Store

Progress = Callable[[int, int], None]


# Results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EditionListing:
    """Every edition, oldest first, and the one in force on the day asked about."""

    editions: list[Edition]
    in_force: Edition | None


@dataclass(frozen=True)
class BookView:
    """An edition and its book (all items, or the one SKU asked for, with the tiers)."""

    edition: Edition
    book: PriceBook
    as_of: date


@dataclass(frozen=True)
class ItemView:
    """One SKU as an edition prices it, with that edition's tiers."""

    edition: Edition
    item: PriceItem
    book: PriceBook
    as_of: date


@dataclass(frozen=True)
class ItemSearch:
    """The items of the edition in force whose SKU or name has a text in it (``matches``),
    and when none does, those most like it (``closest``)."""

    view: BookView
    text: str
    matches: list[PriceItem]
    closest: list[PriceItem]

    def not_found(self) -> str:
        """What to say when nothing matches: the SKU is not there, and the closest ones."""
        edition = self.view.edition
        said = (
            f"no SKU {self.text!r} in edition {edition.number} (in force on "
            f"{self.view.as_of.isoformat()}, effective {edition.effective_from.isoformat()}), "
            "and no name has it in it"
        )
        if not self.closest:
            return said + "; `pricing pricebook show` lists every item"
        shown = ", ".join(f"{i.sku} ({i.name})" if i.name else i.sku for i in self.closest)
        return f"{said}; did you mean: {shown}?"


@dataclass(frozen=True)
class EditionDiff:
    """Two editions compared; with an impact estimate when asked for."""

    old: Edition
    new: Edition
    diff: BookDiff
    impact: Impact | None = None
    currency: str = "USD"
    # The part of ``diff`` asked to be listed (changed only, one family, sorted); None: all.
    listed: BookDiff | None = None


@dataclass(frozen=True)
class Export:
    """A price book edition written to a workbook."""

    file: Path
    edition: Edition
    items: int
    tiers: int


@dataclass(frozen=True)
class DatabaseStatus:
    """Where the database is, its schema revision and what it holds."""

    url: str
    dialect: str
    schema_revision: str | None
    latest_revision: str
    state: str
    counts: dict[str, int]
    outbox: OutboxState | None = None  # the mail waiting to be sent (None: schema not current)


@dataclass(frozen=True)
class SchemaUpgrade:
    """The schema revision before and after an upgrade."""

    before: str | None
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


_T = TypeVar("_T")


# Database ------------------------------------------------------------------------------------


def _today() -> date:
    """Today as the store dates things (UTC), the default day of every view."""
    from pricing.storage.store import utcnow

    return utcnow().date()


def open_store(url: str | None = None, *, create: bool = False, dry_run: bool = False) -> Store:
    """The database at ``url`` (default: the configured one), at this version's schema.

    ``create=True`` is for operations that bring data in: only they may start a new database.
    ``dry_run=True`` is for a dry run of one: where nothing is stored yet it gets an empty
    database in memory, so that it answers as on a new one and creates none.
    """
    from pricing.storage.store import Store

    if dry_run:
        return Store.for_dry_run(url)
    return Store.open(url, create=create)


def open_current(url: str | None = None) -> Store | None:
    """The database at ``url`` (default: the configured one) when it exists at this version's
    schema, opened; else None. Nothing is made or changed: a caller with time to spare (a
    price book being parsed) opens it early, and one that may have to make or upgrade it
    opens it later, once it knows it will store something."""
    from sqlalchemy.exc import SQLAlchemyError

    from pricing.errors import PricingError
    from pricing.storage.store import Store

    try:
        return Store.open(url, upgrade=False, create=False)
    except (PricingError, SQLAlchemyError):
        return None


def load_dialect(url: str | None = None) -> None:
    """Import the SQLAlchemy dialect of the database at ``url`` (default: the configured one)
    without connecting, for a caller with time to spare before it opens the store. A URL that
    cannot be used is said when the store is opened, as ever (nothing is said here)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from pricing.errors import PricingError
    from pricing.storage.urls import resolve_url

    try:
        make_url(resolve_url(url)).get_dialect()
    except (PricingError, SQLAlchemyError, ImportError, ValueError):
        return


def stored_counts(db: Store) -> dict[str, int]:
    """How much the database holds: editions, policy versions, requests and deal lines."""
    from pricing.storage import deal_tables, queries

    with db.read() as conn:
        counts = queries.table_counts(conn)
        counts["deal_lines"] = deal_tables.count(conn)
    return counts


def database_status(url: str | None = None) -> DatabaseStatus:
    """Where the database is, at which schema revision and what it holds (changes nothing; a
    missing SQLite file is an error, never created)."""
    from pricing.storage.migrations import known_revisions
    from pricing.storage.store import SCHEMA_REVISION, Store
    from pricing.storage.urls import display_url, resolve_url

    store = Store.connect(url, create=False)
    try:
        revision = store.schema_revision()
        if revision is None:
            state = "empty: its tables are created on first use (or by `pricing db upgrade`)"
        elif revision == SCHEMA_REVISION:
            state = "up to date"
        elif revision in known_revisions():
            state = "older: `pricing db upgrade` brings it up to date (commands also do it on first use)"
        else:
            state = "written by a newer version of pricing: upgrade pricing before using it"
        counts = stored_counts(store) if revision == SCHEMA_REVISION else {}
        mail = None
        if revision == SCHEMA_REVISION:
            from pricing.storage import outbox

            with store.read() as conn:
                mail = outbox.state(conn)
    finally:
        store.close()
    return DatabaseStatus(
        url=display_url(resolve_url(url)),
        dialect=store.engine.dialect.name,
        schema_revision=revision,
        latest_revision=SCHEMA_REVISION,
        state=state,
        counts=counts,
        outbox=mail,
    )


def upgrade_database(url: str | None = None) -> SchemaUpgrade:
    """Apply the schema migrations this version needs (safe to run any time)."""
    from pricing.storage.store import SCHEMA_REVISION, Store

    store = Store.connect(url)
    try:
        before = store.schema_revision()
        store.ensure_schema(upgrade=True)
        if before is not None and before != SCHEMA_REVISION:
            store.compact()  # e.g. 0005 moved deal lines into a third of the space
    finally:
        store.close()
    return SchemaUpgrade(before, SCHEMA_REVISION)


def check_database(
    db: Store, *, user: str | None = None, progress: Progress | None = None
) -> StoreCheck:
    """Verify the store (the owner's): every deal-data segment decodes and holds what was
    stored, editions and policies hold what was recorded at their import and load, every
    subject matches its newest audit entry; each damaged thing named with how to recover. One
    read snapshot; nothing is changed."""
    from pricing.lines import segments
    from pricing.storage import check

    rows: list[Finding] = []  # tables with a row that does not even read

    def part(what: str, run: Callable[[], _T], otherwise: _T) -> _T:
        """One part of the check; a row it cannot read (a date or number made garbage by an
        edit by hand, which SQLite keeps as it was typed) is a finding, not a traceback."""
        try:
            return run()
        except (ValueError, TypeError, KeyError, ArithmeticError) as exc:
            rows.append(check.unreadable_rows(what, exc))
            return otherwise

    with db.read() as conn:
        counted = dict.fromkeys(
            ("segments", "deal_lines", "columns", "held_keys", "edition_copies"), 0
        )
        deal = part("deal data and deals imports", lambda: segments.check(conn, progress),
                    segments.Checked(counted, [], {}))  # fmt: skip
        none: list[Finding] = []
        editions, damaged_editions = part("editions", lambda: check.editions(conn), (0, none))
        policies, damaged_policies = part("policies", lambda: check.policies(conn), (0, none))
        unreadable = part("policies", lambda: _unreadable_rules(conn), none)
        found = [*deal.findings, *damaged_editions, *damaged_policies, *unreadable, *rows]
        before = len(rows)
        named = {f.subject for f in found if f.subject}
        audited, started, differing = part(
            "audit", lambda: check.audited(conn, deal.known, named), (0, True, none)
        )
    counts = {**deal.counts, "editions": editions, "policies": policies,
              "audited_subjects": audited}  # fmt: skip
    findings = [*found, *rows[before:], *differing, *check.file_mode(db.url)]
    return check.StoreCheck(db.url, counts, findings, audit_started=started)


def _unreadable_rules(conn: Connection) -> list[Finding]:
    """Policy versions whose stored rules (the body every decision reads) no longer read."""
    from pricing.policy.versions import stored_rules
    from pricing.storage import audit, queries
    from pricing.storage.check import BACKUP, Finding

    found = []
    for record in queries.policy_rows(conn):
        rules, why = stored_rules(record)
        if rules is None:
            found.append(Finding(
                "policy", f"policy version {record.id} ({record.source})",
                f"its stored rules do not read ({why})",
                f"{BACKUP}; to put a sound version in force meanwhile, load the file again "
                f"(`pricing policy load {record.source}`)",
                subject=audit.subject("policy", record.id),
            ))  # fmt: skip
    return found


# Price book ---------------------------------------------------------------------------------


def column_overrides(
    pairs: Iterable[str], *, kind: Literal["pricebook", "deals"]
) -> dict[str, str]:
    """``["sku=Numero", ...]`` -> ``{"sku": "Numero"}``: headers the loose matching does not
    know, for a price book or a deals file; an unknown field or a pair without ``=`` raises an
    :class:`~pricing.errors.InputError` on the field ``columns``. (From the headers' own
    module: the price book's reader and its models are not imported for a deals file.)"""
    from pricing.pricebook.columns import ITEM_HEADERS, parse_column_overrides

    if kind == "deals":
        from pricing.lines.reader import DEAL_HEADERS

        return parse_column_overrides(pairs, DEAL_HEADERS)
    return parse_column_overrides(pairs, ITEM_HEADERS)


def import_price_book(
    db: Store | Callable[[], Store],
    file: Path | str,
    *,
    effective_from: date,
    user: str,
    sheet: str | None = None,
    columns: Mapping[str, str] | None = None,
    currency: str | None = None,
    skip_invalid: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
    now: datetime | None = None,
    meanwhile: Callable[[], object] | None = None,
) -> ImportResult:
    """Read a price book file, compare it with the newest edition and store it as a new edition
    (unless it is a dry run, unchanged, or an error stands), then re-match the deal history
    from ``effective_from`` against it, all in one transaction.

    ``db`` may be a callable that opens the database: it is called only once the file could be
    read, while the workbook is parsed on another thread (a bad file then creates no database).
    ``currency`` is that of a book without a currency column (default: the currency of the
    book's newest edition; for a first edition the newest policy's, else USD); a file naming
    another currency than the newest edition's is refused unless ``currency`` names it.
    ``skip_invalid`` leaves out the rows with errors of their own (listed in the result's
    ``skipped``) and stores the others; errors of the whole file still refuse it.
    ``meanwhile``: what the caller wants done while the workbook is parsed (the library loads
    the model it answers with), after the database layer has loaded.
    """
    from concurrent.futures import ThreadPoolExecutor

    from pricing.io.perf import paused_gc
    from pricing.pricebook.file import ReadOptions, open_price_book, read_price_book

    file = Path(file)
    opened = open_price_book(file, sheet)  # the checks before parsing (bound by the GIL)
    with ThreadPoolExecutor(1) as pool:
        # The workbook is parsed (without the GIL) while the database layer loads.
        loading = pool.submit(opened.load)
        from pricing.policy import versions as policies
        from pricing.pricebook import editions

        _load_for_storing()
        if meanwhile is not None:
            meanwhile()
        loaded = loading.result()
        store = db() if callable(db) else db
        policy_currency = policies.latest_currency(store)
        with store.read() as conn:
            newest = editions.newest_currencies(conn)
        options = ReadOptions(
            sheet=sheet,
            columns=dict(columns or {}),
            currency=(currency or policy_currency or "USD").upper(),
            currency_given=currency is not None,
            previous=None if newest is None else (newest[0], tuple(newest[1])),
            skip_invalid=skip_invalid,
        )
        read = read_price_book(file, options, progress, loaded=loaded)
    result = editions.import_result(read, effective_from=effective_from, dry_run=dry_run)
    if read.book is None or result.failed:
        return result
    other = [c for c in result.currencies if policy_currency and c != policy_currency.upper()]
    if other:
        from pricing.problems import Problem

        result.problems.append(
            Problem(
                "warning",
                f"its prices are in {', '.join(other)} while the policy's limits and floors are "
                f"in {policy_currency}: deals and floors are compared with these prices as if in "
                "one currency (exchange rates, `pricing fx`, are not used for that yet); check "
                "the file's currency (--currency)",
                file=result.source,
            )
        )
    with paused_gc(), store.read() if dry_run else store.write() as conn:
        editions.store_import(conn, read, result, user=user, now=now)
        if result.edition is not None:
            result.rematched = _rematch_history(
                conn, since=effective_from, by=user, why=f"price book edition {result.edition}"
            )
    return result


def _load_for_storing() -> None:
    """Load the code that authorizing and storing a book runs (who may act, the audit, the
    deal tables), while the workbook is parsed on the other thread: after the parse it would
    load on the path that waits (importing runs no code of the store and opens nothing)."""
    import pricing.access.authority
    import pricing.storage.audit
    import pricing.storage.deal_tables  # noqa: F401


def _rematch_history(conn: Connection, *, since: date, by: str, why: str) -> int:
    """Match the stored deal lines again against a new edition
    (:func:`pricing.lines.service.rematch`); without a deal stored, the deal-history modules
    are not even loaded (a price book imported first does not wait for them)."""
    from pricing.storage import deal_tables

    deal_tables.lock_for_writing(conn)  # (as rematch does first: a deals import may be under way)
    if not deal_tables.count(conn):
        return 0
    from pricing.lines.service import rematch

    return rematch(conn, since=since, by=by, why=why)


# Price book views ----------------------------------------------------------------------------


def list_editions(db: Store, *, on: date | None = None) -> EditionListing:
    """Every imported edition, oldest first, and the one in force on ``on``."""
    from pricing.pricebook import editions

    on = on or _today()
    listed = editions.editions(db)
    with db.read() as conn:
        return EditionListing(listed, editions.edition_in_force(conn, on))


def show_price_book(db: Store, *, on: date | None = None) -> BookView:
    """The edition in force on ``on`` and its whole book."""
    from pricing.pricebook import editions

    on = on or _today()
    edition, book = editions.in_force(db, on)
    return BookView(edition, book, on)


def show_item(db: Store, sku: str, *, on: date | None = None) -> ItemView:
    """One SKU as the edition in force on ``on`` prices it."""
    from pricing.pricebook import editions

    on = on or _today()
    edition, item, book = editions.item_in_force(db, sku, on)
    return ItemView(edition, item, book, on)


def search_items(db: Store, text: str, *, on: date | None = None) -> ItemSearch:
    """The items in force on ``on`` whose SKU or name has ``text`` in it (case aside); when
    none does, the closest SKUs and names (``pricebook show NAME``)."""
    view = show_price_book(db, on=on)
    matches = view.book.search(text)
    closest = [] if matches else view.book.closest(text)
    return ItemSearch(view, text, matches, closest)


def ordered(start: date | None, end: date | None) -> None:
    """Refuse a period that ends before it starts (it would hold nothing, silently)."""
    if start is not None and end is not None and start > end:
        raise InputError(
            f" {start.isoformat()} is after the period's end ({end.isoformat()}): nothing "
            "could be in it",
            field="start",
        )


def check_diff_sort(sort: str) -> None:
    """Refuse an order ``pricebook diff`` does not know (before anything is opened)."""
    from pricing.pricebook.model import DIFF_SORTS

    if sort not in DIFF_SORTS:
        raise InputError(f" {sort!r}: sort by {', '.join(DIFF_SORTS)}", field="sort")


def diff_editions(
    db: Store,
    old: int | None = None,
    new: int | None = None,
    *,
    impact: bool = False,
    start: date | None = None,
    end: date | None = None,
    user: str | None = None,
    changed_only: bool = False,
    family: str | None = None,
    sort: str = "file",
) -> EditionDiff:
    """Compare two editions (default: the two newest); with ``impact``, re-price the period's
    volume at both and judge open approvals again on the new one (deal volumes and everyone's
    approvals: for those who may read the drift report).

    ``changed_only``, ``family`` and ``sort`` (``file``, ``move``: the largest price move in %
    first, or ``sku``) choose what is listed (``listed``); counts and impact stay the whole
    diff's."""
    from pricing.policy import versions as policies
    from pricing.pricebook import editions
    from pricing.pricebook.model import narrowed

    check_diff_sort(sort)
    if impact:
        ordered(start, end)
    old_edition, new_edition, diff = editions.diff(db, old, new)
    listed = narrowed(diff, changed_only=changed_only, family=family, sort=sort)
    if not impact:
        return EditionDiff(old_edition, new_edition, diff, listed=listed)
    from pricing.analysis.impact import impact as estimate_impact

    _, old_book = editions.book_of(db, old_edition.number)
    _, new_book = editions.book_of(db, new_edition.number)
    estimate = estimate_impact(db, old_book, new_book, start=start, end=end)
    currency = policies.latest_currency(db) or "USD"
    return EditionDiff(old_edition, new_edition, diff, estimate, currency, listed)


def check_export_name(file: Path | str) -> None:
    """Refuse an export file name that is not a workbook's, before anything is opened."""

    if Path(file).suffix.lower() != ".xlsx":
        raise InputError(f"{file}: the export is an Excel workbook; name it with .xlsx")


def export_price_book(
    db: Store, file: Path | str, *, on: date | None = None, edition: int | None = None
) -> Export:
    """Write an edition (``edition``, else the one in force on ``on``) to a clean xlsx."""
    from pricing.pricebook import editions
    from pricing.pricebook.file import export_price_book as write_workbook

    file = Path(file)
    check_export_name(file)
    on = on or _today()
    if edition is not None:
        stored, book = editions.book_of(db, edition)
    else:
        stored, book = editions.in_force(db, on)
    write_workbook(file, stored, book)
    return Export(file, stored, len(book.items), len(book.tiers))


# Policy --------------------------------------------------------------------------------------


def check_policy(file: Path | str) -> PolicyFile:
    """Read and validate a policy file: the policy, or every problem with its line and key."""
    from pricing.policy.versions import read_policy_file

    return read_policy_file(Path(file))


def load_policy(
    db: Store, parsed: PolicyFile, *, user: str, now: datetime | None = None
) -> PolicyVersion:
    """Store a valid policy as the newest version and re-match the deal history from the date
    it is in force, in one transaction."""
    from pricing.lines.service import rematch
    from pricing.policy import versions as policies

    with db.write() as conn:
        version = policies.load(conn, parsed, user=user, now=now)
        if not version.unchanged:
            rematch(
                conn,
                since=version.effective_from,
                by=user,
                why=f"policy version {version.version}",
                repriced=False,  # a policy changes no price: the stored revenues stand
            )
    return version


def show_policy(db: Store, version: int | None = None, *, on: date | None = None) -> PolicyVersion:
    """A policy version: the one asked for, else the one in force on ``on`` (default: today)."""
    from pricing.policy import versions as policies
    from pricing.storage.store import utcnow

    with db.read() as conn:
        if version is not None:
            return policies.get(conn, version)
        return policies.in_force(conn, on or utcnow().date())


def simulate_policy(
    db: Store,
    proposed: Policy,
    *,
    start: date | None = None,
    end: date | None = None,
    user: str | None = None,
) -> Simulation:
    """Replay the stored deals under the policy in force and under ``proposed``."""
    from pricing.analysis.simulate import simulate

    ordered(start, end)
    return simulate(db, proposed, start=start, end=end)


# Deals, report, audit ------------------------------------------------------------------------


def read_deals(
    file: Path | str,
    *,
    columns: Mapping[str, str] | None = None,
    date_format: str | None = None,
    decimal: str | None = None,
    sheet: str | None = None,
    progress: Progress | None = None,
    statuses: Sequence[str] | None = None,
    all_statuses: bool = False,
    then_import: Sequence[str] = (),
) -> DealsFile:
    """Read a deals export (csv or xlsx) into normalised lines and problems (``decimal``:
    ``comma`` or ``point``, the decimal mark of money written as text, when the file's own
    values do not say; ``sheet``: a workbook's sheet, by default the deals sheet found).
    Lines of a cancelled, void or lost status are left out (``skipped_by_status``);
    ``statuses`` keeps only those named, ``all_statuses`` every line. ``then_import``:
    modules the caller needs next, imported on another thread while the file is read."""
    from pricing.lines.reader import read_deals as read

    return read(
        Path(file),
        columns=dict(columns or {}),
        date_format=date_format,
        decimal=decimal,
        sheet=sheet,
        progress=progress,
        statuses=statuses,
        all_statuses=all_statuses,
        then_import=then_import,
    )


def import_deals(
    db: Store,
    read: DealsFile,
    *,
    user: str,
    dry_run: bool = False,
    replace: int | None = None,
    force: bool = False,
    progress: Progress | None = None,
    now: datetime | None = None,
) -> DealsImport:
    """Store the lines of a deals file not already stored, matched to list and policy.

    ``replace``: undo that import first, in the same transaction (a corrected file); one that
    adds fewer than half the lines it removes is refused (``shrink``) unless ``force``; with
    ``dry_run`` it is done and rolled back, to show what it would add and remove. The same
    file read the same way again stores nothing (``already_imported_as``); a file that would
    count sales twice stores nothing either (``conflict`` names the earlier import)."""
    from pricing.lines.service import import_deals as store_lines

    return store_lines(
        db,
        read,
        user=user,
        dry_run=dry_run,
        replace=replace,
        force=force,
        now=now,
        progress=progress,
    )


def build_report(
    db: Store,
    *,
    start: date | None = None,
    end: date | None = None,
    by: list[str] | str | None = None,
    details: bool = False,
    sort: str | None = None,
    user: str | None = None,
    currency: str | None = None,
) -> Report:
    """The drift report for the period, totals and groups ranked by ``sort`` (any figure of the
    report, largest first; default the money given away), ``details``: months, bands, lines;
    ``currency``: every line converted to it at its date's exchange rate."""
    from pricing.analysis.report import build, parse_by, parse_sort
    from pricing.money import is_currency_code

    ordered(start, end)
    keys = parse_by(by if isinstance(by, str) else ",".join(by or []))  # unknown keys: InputError
    to = currency.strip().upper() if currency is not None else None
    if to is not None and not is_currency_code(to):
        raise InputError(
            f" {currency!r:.20}: a currency code, three letters (USD)", field="currency"
        )
    return build(
        db, start=start, end=end, by=keys, details=details, sort=parse_sort(sort), convert_to=to
    )


def write_simulation(
    simulation: Simulation,
    path: Path,
    *,
    currency: str,
    document: Mapping[str, object] | None = None,
) -> None:
    """Write a policy simulation to ``path``: .xlsx, .html, .csv or .json, by its suffix.

    ``document`` is its JSON document (:class:`pricing.results.simulation.PolicySimulation`
    dumped) when the caller has it already.
    """
    from pricing.analysis.simulate_files import simulation_document
    from pricing.analysis.simulate_files import write_simulation as write

    written = dict(document) if document is not None else simulation_document(simulation, currency)
    write(simulation, written, path)


def verify_audit(db: Store, *, kept: str | None = None, user: str | None = None) -> Verdict:
    """Check the keyed audit chain and every stored subject against it; ``kept`` is a head
    (``SEQ:MAC``) the owner kept elsewhere, to find entries cut from the chain's end."""
    from pricing.storage.audit import Head, verify

    try:
        head = Head.parse(kept) if kept else None
    except ValueError as exc:
        raise InputError(str(exc), field=None) from None
    try:
        return verify(db, kept=head)
    except (ValueError, TypeError) as exc:  # SQLite keeps whatever an edit by hand wrote
        from pricing.errors import DamagedError

        why = (str(exc).strip().splitlines() or [""])[0][:120] or type(exc).__name__
        raise DamagedError(
            f"the audit holds an entry that does not read ({why}): it was edited behind the "
            "tool's back; restore the database from a backup taken before the damage"
        ) from None
