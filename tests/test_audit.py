"""The keyed audit: whoever holds the database and recomputes plain hashes is still found out.

Each test changes the past the way THREATS.md's attacker 5 would: directly in the database,
then covering the tracks with everything that needs no secret (the content digests are plain
SHA-256 of the rows, which anyone who reads the code can recompute and write back).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.compute as pc
import pytest
from sqlalchemy import Connection, text

from pricing.storage import audit
from tests.conftest import Cli
from tests.test_cli_requests import ask


@pytest.fixture
def history(sales: Cli) -> Cli:
    ask(sales, "HW-100", "--qty", "50", "--price", "96.90")  # submitted, pending
    assert sales("approve", "R-000001", "--note", "strategic", user="marco").exit_code == 0
    ask(sales, "HW-200", "--qty", "5", "--discount", "5")  # submitted, approved by the system
    assert sales("requests", "won", "R-000002", user="priya").exit_code == 0
    ask(sales, "HW-100", "--qty", "10", "--discount", "15")  # R-000003, pending for a manager
    return sales


def tamper(cli: Cli, *statements: str) -> None:
    with cli.store().engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def cover_tracks(cli: Cli, subject: str) -> None:
    """What an attacker without the secret can do after an edit: recompute the subject's plain
    digest and write it into the chain's newest entry for it."""
    store = cli.store()
    with store.engine.begin() as conn:
        digest = audit.content_digest(conn, subject)
        conn.execute(
            text(
                "UPDATE audit_log SET digest = :d WHERE seq = "
                "(SELECT max(seq) FROM audit_log WHERE subject = :s)"
            ),
            {"d": digest, "s": subject},
        )


def damage_of(cli: Cli) -> list[dict[str, str]]:
    document = cli.json("audit", "verify", expect=1)
    assert document["intact"] is False
    damage: list[dict[str, str]] = document["damage"]
    return damage


def test_an_untouched_store_verifies(history: Cli) -> None:
    document = history.json("audit", "verify")
    assert document["intact"] is True and document["damage"] == []
    # the edition, the policy, and 6 events of 3 requests
    assert document["entries"] == 8 and document["subjects"] == 5
    result = history("audit", "verify")
    assert result.exit_code == 0
    assert "The audit is intact: 8 entries" in result.stdout


def test_a_loosened_policy_body_is_found_even_with_its_digest_recomputed(history: Cli) -> None:
    tamper(history, "UPDATE policies SET body = replace(body, '10.0', '80.0')")
    assert any(d["where"] == "policy 1" and "edited" in d["why"] for d in damage_of(history))
    cover_tracks(history, "policy:1")
    assert any(
        "entry 2" in d["where"] and "MAC does not hold" in d["why"] for d in damage_of(history)
    )


def test_a_deleted_event_is_found(history: Cli) -> None:
    tamper(history, "DELETE FROM request_events WHERE action = 'approved' AND by = 'marco'")
    damage = damage_of(history)
    assert damage[0]["where"] == "request R-000001" and "edited" in damage[0]["why"]
    cover_tracks(history, "request:1")
    assert any("MAC does not hold" in d["why"] for d in damage_of(history))


def test_an_edited_line_price_is_found(history: Cli) -> None:
    tamper(history, "UPDATE request_lines SET price = price * 2 WHERE request_id = 3")
    assert [d["where"] for d in damage_of(history)] == ["request R-000003"]
    cover_tracks(history, "request:3")
    assert any("MAC does not hold" in d["why"] for d in damage_of(history))


def _forge_entry(conn: Connection, subject: str, mac: Callable[[str], str]) -> None:
    """Append an entry for ``subject`` as the tool would, with a MAC made without the secret."""
    seq, previous = conn.execute(text("SELECT seq, mac FROM audit_log ORDER BY seq DESC")).first()
    digest = audit.content_digest(conn, subject)
    conn.execute(
        text(
            "INSERT INTO audit_log (seq, at, by, action, subject, digest, note, key_id, mac) "
            "VALUES (:seq, :at, 'marco', 'request.approved', :s, :d, NULL, :k, :m)"
        ),
        {
            "seq": seq + 1, "at": datetime.now(UTC), "s": subject, "d": digest,
            "k": conn.execute(text("SELECT key_id FROM audit_log LIMIT 1")).scalar(),
            "m": mac(previous + (digest or "")),
        },
    )  # fmt: skip


def test_an_inserted_approval_is_found(history: Cli) -> None:
    """R-000003 approved directly: status, decision, an event in marco's name, and a chain
    entry whose MAC is a plain SHA-256 (all an attacker without the secret can make)."""
    store = history.store()
    with store.engine.begin() as conn:
        conn.execute(
            text("UPDATE requests SET status = 'approved', decided_by = 'marco' WHERE id = 3")
        )
        conn.execute(text("UPDATE request_lines SET decision = 'approved' WHERE request_id = 3"))
        conn.execute(
            text(
                "INSERT INTO request_events (request_id, at, by, action, note) "
                "VALUES (3, :at, 'marco', 'approved', 'ok')"
            ),
            {"at": datetime.now(UTC)},
        )
        _forge_entry(conn, "request:3", lambda m: hashlib.sha256(m.encode()).hexdigest())
    damage = damage_of(history)
    assert damage[0]["where"].startswith("entry 9") and "MAC does not hold" in damage[0]["why"]
    assert history.json("requests", "show", "R-000003")["status"] == "approved"  # it is stored…
    # …and the owner is told: the verdict above names the forged entry.


def test_entries_cut_from_the_end_are_found_against_a_kept_head(history: Cli) -> None:
    kept = history.json("audit", "head")["head"]
    assert history("audit", "verify", "--head", kept).exit_code == 0
    tamper(
        history,
        "DELETE FROM audit_log WHERE subject = 'request:3'",
        "DELETE FROM request_events WHERE request_id = 3",
        "DELETE FROM request_lines WHERE request_id = 3",
        "DELETE FROM requests WHERE id = 3",
    )
    assert history("audit", "verify").exit_code == 0  # without the head, a clean cut is unseen
    result = history("audit", "verify", "--head", kept)
    assert result.exit_code == 1
    assert "the head you kept is gone" in result.stderr


def test_a_deleted_entry_in_the_middle_breaks_the_chain(history: Cli) -> None:
    tamper(history, "DELETE FROM audit_log WHERE seq = 4")
    damage = damage_of(history)
    assert damage[0] == {"where": "entry 4", "why": "missing: entries 4 to 4 were deleted"}


def test_a_wrong_secret_verifies_nothing(history: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    from pricing import config

    monkeypatch.setenv(config.SECRET, "x" * 40)
    config.audit_keys.cache_clear()
    damage = damage_of(history)
    assert "secret this configuration does not hold" in damage[0]["why"]


def test_a_bad_head_is_a_usage_error(history: Cli) -> None:
    result = history("audit", "verify", "--head", "twelve")
    assert result.exit_code == 2
    assert "is not an audit head" in result.stderr


def test_a_lowered_list_price_in_the_matching_copy_is_found(owner: Cli, tmp_path: Path) -> None:
    """The deal history is matched against each edition's columnar copy of its items: cutting a
    list price there (the report's leakage would shrink) is an edit of the edition."""
    from pricing.lines import segments
    from tests.test_cli_deals_report import SALES, deals_csv

    assert owner("deals", "import", str(deals_csv(tmp_path, SALES))).exit_code == 0
    assert owner("audit", "verify").exit_code == 0
    store = owner.store()
    with store.engine.begin() as conn:
        edition, blob = conn.execute(text("SELECT edition_id, data FROM edition_columns")).first()
        items = segments.decode_table(bytes(blob))
        cheaper = items.set_column(
            items.schema.get_field_index("list_price"),
            "list_price",
            pc.divide(items["list_price"], 2),
        )
        conn.execute(
            text("UPDATE edition_columns SET data = :d WHERE edition_id = :e"),
            {"d": segments.encode_table(cheaper), "e": edition},
        )
    assert any(d["where"] == f"edition {edition}'s copy for matching" for d in damage_of(owner))
