"""One JSON document per result: what ``--json`` prints, and what a server will answer.

Every front end turns the results of :mod:`pricing.api` into documents here and nowhere else,
so that the CLI's ``--json`` output and a server's JSON are the same by construction. Each
function takes a result (and what the front end was asked, where the result does not carry it)
and returns a plain ``dict`` (or ``list``) of JSON values, dates, datetimes and Decimals;
:func:`dumps` writes it as the CLI prints it (dates as ISO 8601, datetimes in UTC with ``Z``,
Decimals as strings), so that any front end's JSON text is the same too.

The deals, drift report and simulation results are typed models (:mod:`pricing.results`); the
report and simulation documents are written with their files
(:mod:`pricing.analysis.report_files`, :mod:`pricing.analysis.simulate_files`) and typed there.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pricing.api import DatabaseStatus, SchemaUpgrade
    from pricing.problems import Problem
    from pricing.requests.lifecycle import Quote, Request
    from pricing.storage.audit import Head, Verdict
    from pricing.storage.check import StoreCheck
    from pricing.storage.deal_tables import ImportRecord

Document = dict[str, Any]


def dumps(document: object) -> str:
    """A document as JSON text, exactly as ``--json`` prints it (without the final newline)."""
    return json.dumps(document, indent=2, ensure_ascii=False, default=_json_default)


def _json_default(value: object) -> object:
    if hasattr(value, "model_dump"):  # a typed result (pydantic): its JSON form
        return value.model_dump(mode="json")
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


# Policy --------------------------------------------------------------------------------------


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
