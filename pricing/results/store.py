"""What looking after the store answers: the audit chain verified, its head, the database's
status, a schema upgrade, the store checked, and a database made anew for the demo.

``from`` and ``import`` are keys of these documents and keywords of Python: those fields are
``from_`` and ``import_`` here, written (and read back) under their keys.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import ConfigDict, Field

from pricing.results.common import Result

if TYPE_CHECKING:
    from pricing.api import DatabaseStatus, SchemaUpgrade
    from pricing.storage.audit import Head, Verdict
    from pricing.storage.check import Finding, StoreCheck
    from pricing.storage.deal_tables import ImportRecord

# A model with a field named by its key (``from``, ``import``): JSON under the key, Python by name.
KEYED = ConfigDict(serialize_by_alias=True, validate_by_alias=True, validate_by_name=True)


# Audit ------------------------------------------------------------------------------------------


class Damage(Result):
    """One place where what is stored differs from what the audit chain recorded."""

    where: str
    why: str


class AuditVerdict(Result):
    """``audit verify``: entries and subjects checked, intact or not, and every damage found
    (``first_broken`` is the first of them, as before the keyed chain; ``events`` is
    ``entries`` under its earlier name)."""

    intact: bool
    entries: int
    events: int
    subjects: int
    started: bool
    keyed_elsewhere: bool
    head: str | None
    witnessed: str | None
    witness: str | None
    earlier_stores: int
    damage: list[Damage]
    first_broken: Damage | None

    @classmethod
    def of(cls, verdict: Verdict) -> AuditVerdict:
        damage = [Damage(where=d.where, why=d.why) for d in verdict.damage]
        return cls(
            intact=verdict.intact,
            entries=verdict.entries,
            events=verdict.entries,
            subjects=verdict.subjects,
            started=verdict.started,
            keyed_elsewhere=verdict.keyed_elsewhere,
            head=str(verdict.head) if verdict.head else None,
            witnessed=str(verdict.witnessed) if verdict.witnessed else None,
            witness=verdict.witness,
            earlier_stores=verdict.earlier,
            damage=damage,
            first_broken=damage[0] if damage else None,
        )


class AuditHead(Result):
    """``audit head``: the chain's newest entry (``SEQ:MAC``), to keep somewhere the database
    is not; ``seq`` 0 and no ``mac`` while the chain is empty."""

    head: str | None
    seq: int
    mac: str | None

    @classmethod
    def of(cls, head: Head | None) -> AuditHead:
        if head is None:
            return cls(head=None, seq=0, mac=None)
        return cls(head=str(head), seq=head.seq, mac=head.mac)


# Database ---------------------------------------------------------------------------------------


class Outbox(Result):
    """The mail waiting to be sent (``failing``: of those, the ones the mail server has not
    taken yet, ``last_error`` saying why), the oldest waiting, how many were sent, and how many
    are left unsent for good (``unsent``: no longer needed, or not sealed by the server)."""

    waiting: int
    failing: int
    sent: int
    unsent: int
    oldest_waiting: datetime | None
    last_error: str | None


class DbStatus(Result):
    """``db status``: where the database is, its schema revision and what it holds (``counts``
    by table, empty unless its schema is this version's; ``outbox``: the mail, likewise)."""

    url: str
    dialect: str
    schema_revision: str | None
    latest_revision: str
    state: str
    counts: dict[str, int]
    outbox: Outbox | None

    @classmethod
    def of(cls, status: DatabaseStatus) -> DbStatus:
        return cls.model_validate(status, from_attributes=True)  # its fields, by name


class DbUpgrade(Result):
    """``db upgrade``: the schema revision before (None: an empty database) and after."""

    model_config = KEYED

    from_: str | None = Field(serialization_alias="from", validation_alias="from")
    to: str
    changed: bool

    @classmethod
    def of(cls, upgraded: SchemaUpgrade) -> DbUpgrade:
        return cls(from_=upgraded.before, to=upgraded.after, changed=upgraded.changed)


class DemoStore(Result):
    """``demo``: the demo's folder, its database (made anew there by the demo's first
    command) and the sample data the demo tells its story on."""

    folder: str
    database: str
    sample_data: str


class ImportNamed(Result):
    """The deals import a finding belongs to, as people name it: its id, file, when and who."""

    id: int
    source: str
    imported_at: datetime
    imported_by: str

    @classmethod
    def of(cls, record: ImportRecord) -> ImportNamed:
        return cls.model_validate(record, from_attributes=True)  # its fields, by name


class CheckFinding(Result):
    """One thing ``db check`` found: damage or a warning, what it is, what is wrong and how to
    recover; for deal data, the import (None: lines from before imports were recorded), the
    segment and the column."""

    model_config = KEYED

    severity: Literal["damage", "warning"]
    kind: str
    what: str
    problem: str
    recover: str
    import_: ImportNamed | None = Field(serialization_alias="import", validation_alias="import")
    segment: int | None
    column: str | None

    @classmethod
    def of(cls, f: Finding) -> CheckFinding:
        return cls(
            severity=f.severity,
            kind=f.kind,
            what=f.what,
            problem=f.problem,
            recover=f.recover,
            import_=None if f.deals_import is None else ImportNamed.of(f.deals_import),
            segment=f.segment,
            column=f.column,
        )


class Checked(Result):
    """How much ``db check`` went over: deal-data segments, lines and columns, held keys, kept
    edition copies, editions, policy versions, and subjects compared with the audit."""

    segments: int
    deal_lines: int
    columns: int
    held_keys: int
    edition_copies: int
    editions: int
    policies: int
    audited_subjects: int


class DbCheck(Result):
    """``db check``: whether the store is sound (no damage; warnings do not count), what was
    checked, whether the audit holds an entry, and each finding with how to recover."""

    sound: bool
    database: str
    checked: Checked
    audit_started: bool
    findings: list[CheckFinding]

    @classmethod
    def of(cls, checked: StoreCheck) -> DbCheck:
        return cls(
            sound=checked.sound,
            database=checked.url,
            checked=Checked.model_validate(checked.checked),
            audit_started=checked.audit_started,
            findings=[CheckFinding.of(f) for f in checked.findings],
        )
