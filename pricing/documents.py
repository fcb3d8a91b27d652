"""One JSON document per result: what ``--json`` prints, and what a server will answer.

Every front end turns the results of :mod:`pricing.api` into documents here and nowhere else,
so that the CLI's ``--json`` output and a server's JSON are the same by construction. Each
function takes a result (and what the front end was asked, where the result does not carry it)
and returns a plain ``dict`` (or ``list``) of JSON values, dates, datetimes and Decimals;
:func:`dumps` writes it as the CLI prints it (dates as ISO 8601, datetimes in UTC with ``Z``,
Decimals as strings), so that any front end's JSON text is the same too.

The drift report and the simulation documents are written with their files
(:mod:`pricing.analysis.report_files`, :mod:`pricing.analysis.simulate_files`); :func:`report`
and :func:`simulation` here are them, so that this is the one place to look.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pricing.text import json_text

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pricing.analysis.impact import Impact, Volume
    from pricing.analysis.report import Metrics, Report, Unjudged
    from pricing.analysis.simulate import Simulation
    from pricing.api import (
        BookView,
        DatabaseStatus,
        EditionDiff,
        EditionListing,
        Export,
        SchemaUpgrade,
    )
    from pricing.lines.history import ImportListing, Undone
    from pricing.lines.reader import DealsFile
    from pricing.lines.service import DealsImport
    from pricing.policy.file import PolicyFile
    from pricing.policy.model import Policy
    from pricing.policy.versions import PolicyVersion
    from pricing.pricebook.editions import ImportResult
    from pricing.pricebook.model import BookDiff, Edition, PriceBook, PriceItem
    from pricing.problems import Problem
    from pricing.requests.lifecycle import Quote, Request
    from pricing.storage.audit import Head, Verdict
    from pricing.storage.check import StoreCheck
    from pricing.storage.deal_tables import ImportRecord

Document = dict[str, Any]


def dumps(document: object) -> str:
    """A document as JSON text, exactly as ``--json`` prints it (without the final newline)."""
    return json_text(document, json_default)  # json.dumps(..., indent=2, ensure_ascii=False)


def json_default(value: object) -> str:
    """A Decimal, a datetime or a date as its JSON text (json.dumps' ``default``)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def problems(found: Sequence[Problem]) -> list[dict[str, Any]]:
    """Problems as data: severity, message and where (file, sheet, row, cell, key)."""
    return [p.as_dict() for p in found]


def problem_summary(found: Sequence[Problem]) -> Document:
    """Beside an import's ``problems`` (up to limits.PROBLEMS_PER_KIND of each kind, with their
    cells), ``problem_counts``: one entry per kind found, its severity, what the first of that
    kind says (``message``) and how many were found in all (``count``), as ``deals import``
    has them."""
    from pricing.problems import kind_counts

    return {"problem_counts": [k.as_dict() for k in kind_counts(found)]}


# Price book ----------------------------------------------------------------------------------


def price_book_import(result: ImportResult) -> Document:
    """``pricebook import``: the edition made (or not), counts, the diff's counts, problems."""
    diff = result.diff
    return {
        "edition": result.edition,
        "unchanged": result.unchanged,
        "dry_run": result.dry_run,
        "items": result.items,
        "tiers": result.tiers,
        "added": len(diff.added) if diff else 0,
        "removed": len(diff.removed) if diff else 0,
        "changed": len(diff.changed) if diff else 0,
        "unchanged_items": diff.unchanged if diff else 0,
        "tiers_changed": diff.tiers_changed if diff else False,
        "previous_edition": result.previous,
        "effective_from": result.effective_from,
        "source": result.source,
        "sheet": result.sheet,
        "currencies": result.currencies,
        "skipped": [
            {"sheet": r.sheet, "row": r.row, "sku": r.sku, "cells": r.cells, "problems": r.problems}
            for r in result.skipped
        ],
        "problems": problems(result.problems),
        **problem_summary(result.problems),
    }


def item(edition: Edition, priced: PriceItem, book: PriceBook) -> Document:
    """``pricebook show SKU``: one item as an edition prices it, with its tiers."""
    from pricing.money import format_money, format_pct

    return {
        "sku": priced.sku,
        "name": priced.name,
        "family": priced.family,
        "list_price": format_money(priced.list_price, priced.currency),
        "currency": priced.currency,
        "unit_cost": format_money(priced.unit_cost, priced.currency),
        "floor_price": format_money(priced.floor_price, priced.currency),
        "status": priced.status,
        "edition": edition.number,
        "effective_from": edition.effective_from,
        "tiers": [
            {
                "min_qty": tier.min_qty,
                "price": format_money(tier.price_for(priced), priced.currency),
                "discount_pct": format_pct(tier.discount_pct),
                "scope": "sku" if tier.sku else "family",
            }
            for tier in book.tiers_for(priced)
        ],
    }


def price_book(view: BookView, items: Sequence[PriceItem] | None = None) -> Document:
    """``pricebook show``: the edition in force and its items (``items``: those shown, e.g.
    one family; default all)."""
    shown = list(view.book.items.values()) if items is None else items
    return {
        "edition": view.edition.number,
        "effective_from": view.edition.effective_from,
        "as_of": view.as_of,
        "items": [item(view.edition, i, view.book) for i in shown],
    }


def editions(listing: EditionListing) -> list[Document]:
    """``pricebook editions``: every edition, oldest first, and which one is in force."""
    current = listing.in_force
    return [
        {
            "edition": e.number,
            "effective_from": e.effective_from,
            "items": e.items,
            "source": e.source,
            "imported_at": e.imported_at,
            "imported_by": e.imported_by,
            "in_force": current is not None and e.number == current.number,
        }
        for e in listing.editions
    ]


def diff_summary(old: Edition, new: Edition, diff: BookDiff) -> str:
    """Two editions compared, in one sentence (the diff document's ``summary``)."""
    return (
        f"Edition {old.number} (effective {old.effective_from.isoformat()}) -> edition "
        f"{new.number} (effective {new.effective_from.isoformat()}): {len(diff.added)} added, "
        f"{len(diff.removed)} removed, {len(diff.changed)} changed, {diff.unchanged} unchanged"
        + ("; volume tiers changed" if diff.tiers_changed else "")
    )


def edition_diff(compared: EditionDiff) -> Document:
    """``pricebook diff``: added, removed and changed items; the impact when estimated."""
    from pricing.money import format_money, format_pct

    old, new, diff = compared.old, compared.new, compared.diff
    shown = compared.listed or diff

    def listed(i: PriceItem) -> Document:
        return {
            "sku": i.sku,
            "name": i.name,
            "family": i.family,
            "list_price": format_money(i.list_price, i.currency),
            "currency": i.currency,
        }

    def plain(value: object, currency: str) -> object:
        return format_money(value, currency) if isinstance(value, Decimal) else value

    document: Document = {
        "old": {"edition": old.number, "effective_from": old.effective_from},
        "new": {"edition": new.number, "effective_from": new.effective_from},
        "summary": diff_summary(old, new, diff),
        "added": [listed(i) for i in shown.added],
        "removed": [listed(i) for i in shown.removed],
        "changed": [
            {
                "sku": c.new.sku,
                "name": c.new.name,
                "currency": c.new.currency,
                "old_price": format_money(c.old.list_price, c.old.currency),
                "new_price": format_money(c.new.list_price, c.new.currency),
                "change_pct": format_pct(c.price_change_pct),
                "fields": {
                    f: {
                        "old": plain(getattr(c.old, f), c.old.currency),
                        "new": plain(getattr(c.new, f), c.new.currency),
                    }
                    for f in c.fields
                },
            }
            for c in shown.changed
        ],
        "unchanged": diff.unchanged,
        "tiers_changed": diff.tiers_changed,
    }
    if compared.impact is not None:
        document["impact"] = impact(compared.impact, compared.currency)
    return document


def impact(estimate: Impact, currency: str) -> Document:
    """``pricebook diff --impact``: the period's volume re-priced, open approvals judged again."""
    from pricing.money import format_money, format_pct

    def change(old: Decimal, new: Decimal) -> str | None:
        return format_pct((new - old) / old * 100) if old else None

    def volume(v: Volume) -> Document:
        return {
            "lines": v.lines,
            "quantity": int(v.quantity)
            if v.quantity == v.quantity.to_integral_value()
            else str(v.quantity),
            "list_revenue_old": format_money(v.old, currency),
            "list_revenue_new": format_money(v.new, currency),
            "change": format_money(v.new - v.old, currency),
            "change_pct": change(v.old, v.new),
        }

    return {
        "from": estimate.start,
        "to": estimate.end,
        "lines": estimate.lines,
        "families": [
            {
                "family": f,
                "list_revenue_old": format_money(o, currency),
                "list_revenue_new": format_money(n, currency),
                "change": format_money(n - o, currency),
                "change_pct": change(o, n),
            }
            for f, o, n in estimate.families
        ],
        "total": {
            "list_revenue_old": format_money(estimate.total_old, currency),
            "list_revenue_new": format_money(estimate.total_new, currency),
            "change": format_money(estimate.total_new - estimate.total_old, currency),
            "change_pct": change(estimate.total_old, estimate.total_new),
        },
        "lines_no_longer_listed": estimate.missing_lines,
        "lines_not_in_old_edition": estimate.new_only_lines,
        # The price move itself: SKUs both editions list (the headline), in total and per family.
        "price_changes": {
            **volume(estimate.price_changes),
            "families": [
                {"family": family, **volume(v)}
                for family, v in sorted(
                    estimate.changes.items(), key=lambda kv: kv[1].new - kv[1].old
                )
            ],
        },
        # Volume apart from price changes: SKUs only the old edition lists (at its prices) and
        # SKUs only the new one lists (at the new prices).
        "removed": {
            k: volume(estimate.removed)[k] for k in ("lines", "quantity", "list_revenue_old")
        },
        "added": {k: volume(estimate.added)[k] for k in ("lines", "quantity", "list_revenue_new")},
        # Lines of SKUs neither edition lists (sold under another edition): not re-priced.
        "in_neither": {k: volume(estimate.neither)[k] for k in ("lines", "quantity")},
        "open_approved_requests": estimate.open_requests,
        "requests_affected": [
            {k: (format_money(v, currency) if isinstance(v, Decimal) else v) for k, v in a.items()}
            for a in estimate.affected
        ],
    }


def export(written: Export) -> Document:
    """``pricebook export``: the workbook written and what it holds."""
    return {
        "file": str(written.file),
        "edition": written.edition.number,
        "items": written.items,
        "tiers": written.tiers,
        "effective_from": written.edition.effective_from,
    }


# Policy --------------------------------------------------------------------------------------


def policy_counts(policy: Policy) -> dict[str, int]:
    """How many levels, rules and people a policy has."""
    return {"levels": len(policy.levels), "rules": len(policy.rule), "people": len(policy.person)}


def policy_check(parsed: PolicyFile) -> Document:
    """``policy check``: valid or not, every problem, and the counts of a valid policy."""
    return {
        "valid": parsed.policy is not None,
        "source": parsed.source,
        **_capped(parsed.problems),
        **(policy_counts(parsed.policy) if parsed.policy else {}),
    }


def policy_refused(parsed: PolicyFile, document: Document) -> Document:
    """An invalid policy file refused: ``document`` (what the command would have printed) with
    the problems of the file (up to limits.PROBLEMS_PER_KIND of a kind, and their counts)."""
    return {**document, **_capped(parsed.problems)}


def _capped(found: Sequence[Problem]) -> Document:
    """``problems`` listed up to limits.PROBLEMS_PER_KIND of each kind, ``problem_counts`` of
    them all: a file of twenty thousand bad lines is answered in a page."""
    from pricing.problems import Problems

    listed = Problems(found)
    return {"problems": problems(listed), **problem_summary(listed)}


def policy_version(version: PolicyVersion) -> Document:
    """``policy load``: the version stored, when it is in force, who loaded what."""
    return {
        "version": version.version,
        "effective_from": version.effective_from,
        "loaded_at": version.loaded_at,
        "loaded_by": version.loaded_by,
        "source": version.source,
        "sha256": version.sha256,
    }


def policy_loaded(version: PolicyVersion, unjudged: Unjudged) -> Document:
    """``policy load``: the version stored, and the stored deal lines no policy judges (none in
    force on their dates) with a warning that says how to back-date."""
    from pricing.money import display_money, format_money

    document = policy_version(version)
    document["unchanged"] = version.unchanged
    document["unjudged_lines"] = unjudged.lines
    document["unjudged_net_revenue"] = format_money(unjudged.net_revenue, unjudged.currency)
    document["warnings"] = []
    if unjudged.lines and unjudged.first is not None:
        document["warnings"].append(
            f"{unjudged.lines:,} stored deal lines (net "
            f"{display_money(unjudged.net_revenue, unjudged.currency)}, {unjudged.first} to "
            f"{unjudged.last}) have no policy in force on their dates and are not judged; to "
            f"judge them, back-date the policy: put `effective_from = {unjudged.first}` in "
            f"{version.source} and load it again"
        )
    return document


def policy(version: PolicyVersion) -> Document:
    """``policy show``: a version and its whole policy."""
    return {**policy_version(version), "policy": version.policy.to_dict()}


def simulation(result: Simulation, currency: str) -> Document:
    """``policy simulate``: the stored deals replayed under two policies."""
    from pricing.analysis.simulate_files import simulation_document

    return simulation_document(result, currency)


# Requests ------------------------------------------------------------------------------------


def quote(q: Quote, customer: str | None = None) -> Document:
    """``quote``: list, standard, each level's lowest price, the floor, and guidance."""
    from pricing.money import format_money, format_pct

    g = q.guidance
    return {
        "sku": q.sku,
        "name": q.name,
        "qty": q.qty,
        "customer": customer,
        "currency": q.currency,
        "list_price": format_money(q.list_price, q.currency),
        "standard_price": format_money(q.standard_price, q.currency),
        "hard_floor": format_money(q.hard_floor, q.currency),
        "floor_reasons": q.floor_reasons,
        "edition": q.edition,
        "policy_version": q.policy_version,
        "levels": [
            {
                "level": level,
                "max_discount_pct": format_pct(pct),
                "lowest_price": format_money(low, q.currency),
            }
            for level, pct, low in q.levels
        ],
        "guidance": None
        if g is None
        else {
            "deals": g.deals,
            "basis": g.basis,
            "scope": g.scope,
            "quantity_band": g.band,
            "since": g.since,
            "discount_p25": format_pct(g.discount_p25),
            "discount_median": format_pct(g.discount_median),
            "discount_p75": format_pct(g.discount_p75),
            "target_price": format_money(g.target_price, q.currency),
            "floor_price": format_money(g.floor_price, q.currency),
            "stretch_price": format_money(g.stretch_price, q.currency),
            "requests_won": g.requests_won,
            "requests_lost": g.requests_lost,
            "window_from": g.window_from,
            "window_to": g.window_to,
            "window_days": g.window_days,
        },
        "guidance_note": q.guidance_note or None,
    }


def request(r: Request, *, events: bool = False) -> Document:
    """A request: its lines judged, its state; with ``events``, its history (``requests show``)."""
    from pricing.money import format_money, format_pct

    document: Document = {
        "id": r.code,
        "status": r.status,
        "level": r.level,
        "customer": r.customer,
        "reason": r.reason,
        "rep": r.rep,
        "currency": r.currency,
        "created_at": r.created_at,
        "decided_by": r.decided_by,
        "decided_at": r.decided_at,
        "expires_at": r.expires_at,
        "policy_version": r.policy_version,
        "edition": r.edition,
        "lines": [
            {
                "line": line.line_no,
                "sku": line.sku,
                "qty": line.qty,
                "list_price": format_money(line.list_price, r.currency),
                "standard_price": format_money(line.standard_price, r.currency),
                "price": format_money(line.price, r.currency),
                "discount_pct": format_pct(line.discount_pct),
                "hard_floor": format_money(line.hard_floor, r.currency),
                "decision": line.decision,
                "level": line.level,
                "reasons": line.reasons,
            }
            for line in r.lines
        ],
    }
    if events:
        document["events"] = [
            {"at": e.at, "by": e.by, "action": e.action, "note": e.note} for e in r.events
        ]
    return document


def requests(found: Sequence[Request]) -> list[Document]:
    """``requests``: the requests listed, oldest first."""
    return [request(r) for r in found]


def request_refused(found: Sequence[Problem]) -> Document:
    """A request not submitted (or not changed) because its lines have problems."""
    return {"id": None, "problems": problems(found), **problem_summary(found)}


# Deals, report, audit, database --------------------------------------------------------------


def deals_import(read: DealsFile, result: DealsImport, *, dry_run: bool) -> Document:
    """``deals import``: lines read, added, already present, unmatched, left out by their
    status (``skipped_by_status``: status -> lines; ``lines`` counts them); columns (field ->
    header), notes, problems;
    the import recorded (``id``), the one already holding this very file
    (``already_imported_as``), the one replaced, and why the file was refused (``conflict``:
    the earlier import and the ``--replace`` hint)."""
    conflict = result.conflict
    shrink = result.shrink
    return {
        "id": result.import_id,
        "file": read.name,
        "already_imported_as": result.already_imported_as,
        "replaced": deals_undone(result.replaced) if result.replaced else None,
        "conflict": (
            {
                "import": conflict.earlier,
                "reason": conflict.reason,
                "hint": f"--replace {conflict.earlier}"
                if conflict.earlier and conflict.covers
                else None,
            }
            if conflict
            else None
        ),
        "shrink": (
            {
                "import": shrink.replaced,
                "removed": shrink.removed,
                "added": shrink.added,
                "forced": result.forced,
            }
            if shrink
            else None
        ),
        "sha256": read.sha256,
        "date_format": read.date_format,
        "decimal": read.decimal,
        "lines": result.lines,
        "added": result.added,
        "already_present": result.already_present,
        "unmatched": result.unmatched,
        "unmatched_skus": [
            {"sku": sku, "first_date": first} for sku, first in result.unmatched_skus
        ],
        "unmatched_sku_count": result.unmatched_sku_count,
        "skipped_by_status": result.skipped_by_status,
        "dry_run": dry_run,
        "columns": read.columns,
        "notes": read.notes,
        "problems": problems(read.problems),
        "problem_counts": deal_problem_counts(read),
    }


def deal_problem_counts(read: DealsFile) -> list[Document]:
    """How many problems of each kind a deals file has: ``problems`` lists up to
    limits.PROBLEMS_PER_KIND of a kind with their cells; these count them all."""
    from pricing.problems import kind_counts

    return [k.as_dict() for k in kind_counts(read.problems)]


def deals_imports(found: Sequence[ImportListing]) -> list[Document]:
    """``deals imports``: a list, oldest first, of each import's id, file, SHA-256, when, who,
    lines, added, its lines' dates, the mapping and date format it was read with (null for
    imports recorded before these were kept), and the lines it left out by their status
    (``skipped_by_status``: status -> lines; null when the file had no status column)."""
    return [
        {
            "id": i.id,
            "source": i.source,
            "sha256": i.sha256,
            "imported_at": i.imported_at,
            "imported_by": i.imported_by,
            "lines": i.lines,
            "added": i.added,
            "first_date": i.first_date,
            "last_date": i.last_date,
            "columns": i.columns,
            "date_format": i.date_format,
            "decimal": i.decimal,
            "skipped_by_status": i.skipped_by_status,
        }
        for i in found
    ]


def deals_undone(undone: Undone) -> Document:
    """``deals undo``: the import taken back, its lines removed, and those kept because a
    later import held them too."""
    return {
        "id": undone.id,
        "source": undone.source,
        "removed": undone.removed,
        "kept": undone.kept,
    }


def deals_refused(read: DealsFile) -> Document:
    """``deals import`` of a file with errors: nothing imported, and its problems (each kind
    listed up to limits.PROBLEMS_PER_KIND times; ``problem_counts`` says how many in all)."""
    return {
        "file": read.name,
        "lines": (0 if read.lines is None else len(read.lines))
        + sum(read.skipped_by_status.values()),
        "added": 0,
        "already_present": 0,
        "unmatched": 0,
        "skipped_by_status": read.skipped_by_status,
        "columns": read.columns,
        "problems": problems(read.problems),
        "problem_counts": deal_problem_counts(read),
    }


def report(result: Report) -> Document:
    """``report``: the drift report's totals and groups."""
    from pricing.analysis.report_files import report_document

    return report_document(result)


def metrics(measured: Metrics, currency: str) -> Document:
    """One set of drift measures (the totals, a group, a month) as the report document has it."""
    from pricing.analysis.report_files import metrics_document

    return metrics_document(measured, currency)


def audit(verdict: Verdict) -> Document:
    """``audit verify``: entries and subjects checked, intact or not, and every damage found
    (``first_broken`` is the first of them, as before the keyed chain)."""
    damage = [{"where": d.where, "why": d.why} for d in verdict.damage]
    return {
        "intact": verdict.intact,
        "entries": verdict.entries,
        "events": verdict.entries,
        "subjects": verdict.subjects,
        "started": verdict.started,
        "keyed_elsewhere": verdict.keyed_elsewhere,
        "head": str(verdict.head) if verdict.head else None,
        "witnessed": str(verdict.witnessed) if verdict.witnessed else None,
        "witness": verdict.witness,
        "earlier_stores": verdict.earlier,
        "damage": damage,
        "first_broken": damage[0] if damage else None,
    }


def audit_head(head: Head | None) -> Document:
    """``audit head``: the chain's newest entry, to keep somewhere the database is not."""
    return {"head": str(head) if head else None, "seq": head.seq if head else 0,
            "mac": head.mac if head else None}  # fmt: skip


def database_status(status: DatabaseStatus) -> Document:
    """``db status``: where the database is, its schema revision and what it holds."""
    return {
        "url": status.url,
        "dialect": status.dialect,
        "schema_revision": status.schema_revision,
        "latest_revision": status.latest_revision,
        "state": status.state,
        "counts": status.counts,
    }


def schema_upgrade(upgraded: SchemaUpgrade) -> Document:
    """``db upgrade``: the schema revision before and after."""
    return {"from": upgraded.before, "to": upgraded.after, "changed": upgraded.changed}


def _deals_import(record: ImportRecord | None) -> Document | None:
    if record is None:
        return None
    return {"id": record.id, "source": record.source, "imported_at": record.imported_at,
            "imported_by": record.imported_by}  # fmt: skip


def store_check(checked: StoreCheck) -> Document:
    """``db check``: whether the store is sound, what was checked, and each finding with how
    to recover (``import``: the deals import a damaged segment belongs to)."""
    return {
        "sound": checked.sound,
        "database": checked.url,
        "checked": checked.checked,
        "audit_started": checked.audit_started,
        "findings": [
            {
                "severity": f.severity,
                "kind": f.kind,
                "what": f.what,
                "problem": f.problem,
                "recover": f.recover,
                "import": _deals_import(f.deals_import),
                "segment": f.segment,
                "column": f.column,
            }
            for f in checked.findings
        ],
    }
