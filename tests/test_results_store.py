"""The audit and database methods answer typed results (``pricing.results.store``): their JSON
is what ``pricing --json audit ...`` and ``db ...`` print (``db status`` and ``db upgrade`` are
the methods the CLI calls too), and a client reads it back as the same model (``from`` and
``import``, keywords of Python, under their keys both ways)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import pricing
from pricing import api
from pricing.results.store import AuditHead, AuditVerdict, DbCheck, DbStatus, DbUpgrade
from tests.conftest import Cli
from tests.test_results_requests import as_printed, printed, read_back


@pytest.fixture
def cli(sqlite_url: str) -> Iterator[Cli]:
    """One database engine is enough here: the results do not depend on it."""
    runner = Cli(sqlite_url)
    yield runner
    runner.close()


def test_audit_and_db_methods_answer_what_the_cli_prints(owner: Cli) -> None:
    with pricing.open(owner.db_url, user="dana") as p:
        head = p.audit_head()
        verdict = p.audit_verify(kept=head.head)
        checked = p.db_check()
    assert type(head) is AuditHead and head.seq > 0 and head.head == f"{head.seq}:{head.mac}"
    assert as_printed(head) == printed(owner, "audit", "head")
    assert type(verdict) is AuditVerdict and verdict.intact and verdict.first_broken is None
    assert verdict.entries == verdict.events == head.seq
    assert as_printed(verdict) == printed(owner, "audit", "verify", "--head", str(head.head))
    assert type(checked) is DbCheck and checked.sound and checked.checked.editions == 2
    assert as_printed(checked) == printed(owner, "db", "check")
    for name, result in [("audit.head", head), ("audit.verify", verdict), ("db.check", checked)]:
        back = read_back(name, result)
        assert type(back) is type(result) and back == result, name

    with pricing.open(owner.db_url, user="dana") as p:
        status = p.db_status()
        assert type(status) is DbStatus and status == DbStatus.of(api.database_status(owner.db_url))
        assert status.counts["editions"] == 2 and status.state == "up to date"
        assert as_printed(status) == printed(owner, "db", "status")
        same = printed(owner, "db", "upgrade")
        upgraded = p.db_upgrade()
    assert type(upgraded) is DbUpgrade and same == as_printed(upgraded)
    assert json.loads(same)["changed"] is False


def test_an_upgrade_from_nothing_says_from_null(tmp_path: Path) -> None:
    fresh = Cli(f"sqlite:///{tmp_path / 'new.db'}")
    answer = json.loads(printed(fresh, "db", "upgrade"))
    assert list(answer) == ["from", "to", "changed"] and answer["from"] is None
    upgrade = DbUpgrade.model_validate(answer)
    assert upgrade.from_ is None and upgrade.changed and upgrade.model_dump(mode="json") == answer


CHECKED = ["segments", "deal_lines", "columns", "held_keys", "edition_copies", "editions",
           "policies", "audited_subjects"]  # fmt: skip


def test_a_finding_names_its_deals_import_under_the_key_import() -> None:
    shown = {
        "sound": False,
        "database": "sqlite:///pricing.db",
        "checked": dict.fromkeys(CHECKED, 1),
        "audit_started": True,
        "findings": [
            {
                "severity": "damage",
                "kind": "deal data",
                "what": "deal data of import 3 (deals.csv)",
                "problem": "a block does not decode",
                "recover": "pricing deals undo 3, then import deals.csv again",
                "import": {
                    "id": 3,
                    "source": "deals.csv",
                    "imported_at": "2026-02-01T10:00:00Z",
                    "imported_by": "dana",
                },
                "segment": 7,
                "column": "qty",
            }
        ],
    }
    found = read_back("db.check", shown)
    assert isinstance(found, DbCheck)
    finding = found.findings[0]
    assert finding.import_ is not None and finding.import_.id == 3
    assert found.model_dump(mode="json") == shown
