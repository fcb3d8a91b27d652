"""Deal storage sealed by position: each stored column block is keyed to its import, segment,
column and lines, and each import's layout (its segments, their lines, the columns each holds)
is kept in a sealed manifest.

A block's bytes end with their own SHA-256 (:mod:`pricing.lines.segments`), which finds a
failing disk but not a hand edit: anyone who can write to the database can move a whole block
(``net_amount`` where ``list_revenue`` was, a block of another import) or delete one, and the
report would read other numbers. So each block's row also holds its *seal*: an HMAC of (import,
segment, column, lines, first and last date of the segment, the block's SHA-256), keyed with a
key derived from the server's secret (:func:`pricing.config.audit_keys`), which is never in the
database. A block moved, swapped, copied from another import or counted differently no longer
matches its seal; a block or segment deleted is missing from its import's manifest (sealed the
same way). Who holds only the database cannot seal anything again.

Checking costs one HMAC of a hundred bytes per block read (the block's SHA-256 is checked as it
is decoded anyway) and one per import's manifest. What it cannot find: a whole import removed
with its manifest (``audit verify`` finds that), or a store put back as a whole from an older
copy (the chain's head kept elsewhere does).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from datetime import date
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.engine import Connection

from pricing import config
from pricing.errors import DamagedError
from pricing.storage import store

SEAL = b"PRCSEAL1"  # ends a block's bytes, after the SHA-256 of its stream
DIGEST = 32
_PURPOSE = b"pricing deal storage seal v1"
_SEALING = "pricing.deal_seals"  # conn.info: False while migrations before 0011 run


class Unsealed(DamagedError):
    """What the deal storage's seals found wrong, and which import it concerns (0: lines
    stored before imports were recorded); :mod:`pricing.lines.segments` says whose lines
    they are and how to get them back."""

    def __init__(self, import_id: int, why: str, segment: int | None = None) -> None:
        whose = f"deals import {import_id}" if import_id else "lines stored before imports"
        super().__init__(
            f"stored deal data is damaged: {whose}: {why}. Nothing was changed; "
            "`pricing db check` lists every damaged part"
        )
        self.import_id, self.why, self.segment = import_id, why, segment


class Place(NamedTuple):
    """Where a block belongs: what its seal binds besides its bytes."""

    import_id: int  # 0: stored before imports were recorded
    segment: int
    lines: int
    first_date: date
    last_date: date


def enabled(conn: Connection) -> bool:
    """Whether the schema holds seals (not while the migrations before 0011 run)."""
    return bool(conn.info.get(_SEALING, True))


def suspend(conn: Connection, off: bool) -> None:
    """Blocks are stored unsealed (``off``) while the migrations before 0011 run; 0011 seals
    them all."""
    if off:
        conn.info[_SEALING] = False
    else:
        conn.info.pop(_SEALING, None)


@cache
def _derived(secret: bytes) -> bytes:
    return hmac.new(secret, _PURPOSE, hashlib.sha256).digest()


def _keys() -> dict[str, bytes]:
    return {ident: _derived(secret) for ident, secret in config.audit_keys().items()}


def _current() -> tuple[str, bytes]:
    ident, secret = config.audit_key()
    return ident, _derived(secret)


def content_digest(blob: bytes | memoryview) -> bytes:
    """A block's SHA-256 as its bytes carry it (checked when it is decoded), or, for a block
    written before blocks carried one, the SHA-256 of all of it."""
    data = memoryview(blob)
    if len(data) >= DIGEST + len(SEAL) and data[-len(SEAL) :] == SEAL:
        return bytes(data[-(DIGEST + len(SEAL)) : -len(SEAL)])
    return hashlib.sha256(data).digest()


def _block_message(place: Place, column: str, digest: bytes) -> bytes:
    return (
        f"block\x1f{place.import_id}\x1f{place.segment}\x1f{column}\x1f{place.lines}\x1f"
        f"{place.first_date.isoformat()}\x1f{place.last_date.isoformat()}\x1f{digest.hex()}"
    ).encode()


def _sign(message: bytes, key: tuple[str, bytes] | None = None) -> str:
    ident, secret = key or _current()
    return f"{ident}:{hmac.new(secret, message, hashlib.sha256).hexdigest()}"


def _holds(seal: str | None, message: bytes, keys: Mapping[str, bytes]) -> str | None:
    """Why a seal does not hold for ``message`` (None: it holds)."""
    if not seal:
        return "it carries no seal (written behind the tool's back, or its seal was removed)"
    ident, _, mac = seal.partition(":")
    key = keys.get(ident)
    if key is None:
        return (
            f"it is sealed with a secret this configuration does not hold (key id {ident}): "
            "forged, or the secret was changed without listing the old one in "
            "previous_secret_files"
        )
    expected = hmac.new(key, message, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, mac):
        return "its seal does not match where it is stored"
    return None


def block_seal(place: Place, column: str, blob: bytes) -> str:
    """The seal of a block stored at ``place`` as column ``column``."""
    return _sign(_block_message(place, column, content_digest(blob)))


def block_problem(
    place: Place, column: str, blob: bytes, seal: str | None, keys: Mapping[str, bytes]
) -> str | None:
    """Why a block read at ``place`` is not the one sealed there (None: it is)."""
    why = _holds(seal, _block_message(place, column, content_digest(blob)), keys)
    if why == "its seal does not match where it is stored":
        return (
            f"the {column} block is not the one stored there (another column's, another "
            "segment's or import's, or its lines or dates were changed)"
        )
    return None if why is None else f"the {column} block: {why}"


# Manifests --------------------------------------------------------------------------------


class Manifest(NamedTuple):
    """An import's layout as sealed: each segment's lines and the columns it holds."""

    import_id: int
    segments: dict[int, tuple[int, frozenset[str]]]


def _body(import_id: int, segments: Mapping[int, tuple[int, Iterable[str]]]) -> str:
    listed = {str(n): [lines, sorted(cols)] for n, (lines, cols) in sorted(segments.items())}
    return json.dumps({"import": import_id, "segments": listed}, separators=(",", ":"))


def _manifest_message(body: str) -> bytes:
    return b"manifest\x1f" + body.encode()


def _parse(import_id: int, body: str) -> Manifest:
    data: Any = json.loads(body)
    if data.get("import") != import_id:
        raise Unsealed(import_id, "its manifest is another import's")
    segments = {int(n): (int(lines), frozenset(cols)) for n, (lines, cols) in
                data["segments"].items()}  # fmt: skip
    return Manifest(import_id, segments)


def manifest(conn: Connection, import_id: int) -> Manifest | None:
    """One import's manifest, its seal checked (None: it has none)."""
    m = store.deal_manifests.c
    row = conn.execute(select(m.body, m.seal).where(m.import_id == import_id)).first()
    if row is None:
        return None
    why = _holds(row.seal, _manifest_message(str(row.body)), _keys())
    if why:
        raise Unsealed(import_id, f"its manifest: {why}")
    try:
        return _parse(import_id, str(row.body))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise Unsealed(import_id, "its manifest does not read") from None


def write_manifest(
    conn: Connection, import_id: int, segments: Mapping[int, tuple[int, Iterable[str]]]
) -> None:
    """Store an import's manifest (replacing any), sealed."""
    body = _body(import_id, segments)
    m = store.deal_manifests
    conn.execute(m.delete().where(m.c.import_id == import_id))
    if segments:
        seal = _sign(_manifest_message(body))
        conn.execute(m.insert().values(import_id=import_id, body=body, seal=seal))


def extend_manifest(
    conn: Connection, import_id: int, added: Mapping[int, tuple[int, Iterable[str]]]
) -> None:
    """Segments (or columns of a segment) added to an import's manifest: the manifest as
    stored is checked first (a tampered one is never sealed again)."""
    if not added:
        return
    current = manifest(conn, import_id)
    listed: dict[int, tuple[int, Iterable[str]]] = dict(current.segments if current else {})
    for number, (lines, cols) in added.items():
        before = listed.get(number)
        listed[number] = (lines, set(cols) | (set(before[1]) if before else set()))
    write_manifest(conn, import_id, listed)


def drop_from_manifest(conn: Connection, import_id: int, segment: int) -> None:
    """A segment taken out of an import's manifest (checked first)."""
    current = manifest(conn, import_id)
    if current is None:
        return
    listed = {n: v for n, v in current.segments.items() if n != segment}
    write_manifest(conn, import_id, listed)


def remove_manifest(conn: Connection, import_id: int) -> None:
    m = store.deal_manifests
    conn.execute(m.delete().where(m.c.import_id == import_id))


class Layout(NamedTuple):
    """The deal storage's segments checked against the manifests: each segment's place, the
    columns its manifest lists, and what is wrong with each import (none: empty)."""

    places: dict[int, Place]
    columns: dict[int, frozenset[str]]
    damaged: dict[int, Unsealed]  # by import
    keys: Mapping[str, bytes]

    def first_damage(self) -> Unsealed | None:
        return next(iter(self.damaged.values()), None)


def layout(conn: Connection) -> Layout:
    """Every segment as recorded, checked against its import's manifest: no segment missing,
    none added, the same lines; an import whose manifest's seal does not hold is damaged."""
    s, m = store.deal_segments.c, store.deal_manifests.c
    rows = conn.execute(
        select(s.id, s.import_id, s.lines, s.first_date, s.last_date).order_by(s.id)
    ).all()
    stored = conn.execute(select(m.import_id, m.body, m.seal).order_by(m.import_id)).all()
    keys: Mapping[str, bytes] = _keys() if rows or stored else {}
    damaged: dict[int, Unsealed] = {}
    listed: dict[int, Manifest] = {}
    for ident, body, seal in stored:
        why = _holds(seal, _manifest_message(str(body)), keys)
        try:
            if why:
                raise Unsealed(int(ident), f"its manifest: {why}")
            listed[int(ident)] = _parse(int(ident), str(body))
        except Unsealed as exc:
            damaged.setdefault(int(ident), exc)
        except (ValueError, KeyError, TypeError, AttributeError):
            damaged.setdefault(int(ident), Unsealed(int(ident), "its manifest does not read"))
    places: dict[int, Place] = {}
    columns: dict[int, frozenset[str]] = {}
    for row in rows:
        place = Place(int(row.import_id or 0), int(row.id), int(row.lines),
                      _date(row.first_date), _date(row.last_date))  # fmt: skip
        places[place.segment] = place
        columns[place.segment] = frozenset()
        if place.import_id in damaged:
            continue
        sealed = listed.get(place.import_id)
        entry = sealed.segments.get(place.segment) if sealed else None
        why = None
        if sealed is None:
            why = f"segment {place.segment} is stored for it, but it has no sealed manifest"
        elif entry is None:
            why = f"segment {place.segment} is stored for it, but is not in its manifest"
        elif entry[0] != place.lines:
            why = (f"segment {place.segment} is recorded with {place.lines:,} lines where its "
                   f"manifest has {entry[0]:,}")  # fmt: skip
        if why:
            damaged[place.import_id] = Unsealed(place.import_id, why, place.segment)
        elif entry is not None:
            columns[place.segment] = entry[1]
    for sealed in listed.values():
        for number, (lines, _) in sealed.segments.items():
            if sealed.import_id in damaged:
                break
            if number not in places or places[number].import_id != sealed.import_id:
                damaged[sealed.import_id] = Unsealed(
                    sealed.import_id, f"its segment {number} of {lines:,} lines is missing", number
                )
    return Layout(places, columns, damaged, keys)


def place_of(conn: Connection, segment: int) -> Place | None:
    """A segment's place as recorded (None: no such segment)."""
    s = store.deal_segments.c
    row = conn.execute(
        select(s.id, s.import_id, s.lines, s.first_date, s.last_date).where(s.id == segment)
    ).first()
    if row is None:
        return None
    return Place(int(row.import_id or 0), int(row.id), int(row.lines),
                 _date(row.first_date), _date(row.last_date))  # fmt: skip


def segment_layout(conn: Connection, segment: int) -> tuple[Place, frozenset[str]] | None:
    """One segment's place and the columns its import's manifest lists for it (checked: else
    :class:`Unsealed`; None: no such segment)."""
    place = place_of(conn, segment)
    if place is None:
        return None
    sealed = manifest(conn, place.import_id)
    if sealed is None:
        raise Unsealed(place.import_id,
                       f"segment {segment} is stored for it, but it has no sealed manifest",
                       segment)  # fmt: skip
    entry = sealed.segments.get(segment)
    if entry is None or entry[0] != place.lines:
        why = ("is not in its manifest" if entry is None
               else f"is recorded with {place.lines:,} lines where its manifest has {entry[0]:,}")  # fmt: skip
        raise Unsealed(place.import_id, f"segment {segment} {why}", segment)
    return place, entry[1]


def keys() -> Mapping[str, bytes]:
    """The keys seals are checked with."""
    return _keys()


def _date(value: object) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def seal_all(conn: Connection) -> int:
    """Seal every block and write every import's manifest from what is stored now (migration
    0011: what was stored before seals existed is trusted as it is; ``audit verify`` still
    compares it with the digests the chain recorded). Returns the blocks sealed."""
    s, c = store.deal_segments.c, store.deal_columns.c
    places = {
        int(row.id): Place(int(row.import_id or 0), int(row.id), int(row.lines),
                           _date(row.first_date), _date(row.last_date))
        for row in conn.execute(select(s.id, s.import_id, s.lines, s.first_date, s.last_date))
    }  # fmt: skip
    layouts: dict[int, dict[int, tuple[int, set[str]]]] = {}
    for place in places.values():
        layouts.setdefault(place.import_id, {})[place.segment] = (place.lines, set())
    key = _current() if places else None
    sealed = 0
    for number, place in places.items():
        blobs = conn.execute(select(c.name, c.data).where(c.segment_id == number)).all()
        for name, data in blobs:
            seal = _sign(_block_message(place, str(name), content_digest(bytes(data))), key)
            conn.execute(
                store.deal_columns.update()
                .where(c.segment_id == number, c.name == name)
                .values(seal=seal)
            )
            layouts[place.import_id][number][1].add(str(name))
            sealed += 1
    for import_id, segments in layouts.items():
        write_manifest(conn, import_id, segments)
    return sealed
