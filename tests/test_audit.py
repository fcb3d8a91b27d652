"""The keyed audit: whoever holds the database and recomputes plain hashes is still found out.

Each test changes the past the way THREATS.md's attacker 5 would: directly in the database,
then covering the tracks with everything that needs no secret (the content digests are plain
SHA-256 of the rows, which anyone who reads the code can recompute and write back).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.compute as pc
import pytest
from sqlalchemy import Connection, text

from pricing.storage import audit_entries, audit_subjects
from tests.conftest import Cli, postgres_database
from tests.test_cli_requests import ask


def build_history(sales: Cli, folder: Path) -> None:
    ask(sales, "HW-100", "--qty", "50", "--price", "96.90")  # submitted, pending
    assert sales("approve", "R-000001", "--note", "strategic", user="marco").exit_code == 0
    ask(sales, "HW-200", "--qty", "5", "--discount", "5")  # submitted, approved by the system
    assert sales("requests", "won", "R-000002", user="priya").exit_code == 0
    # R-000003, pending for a manager (16 %: deeper than R-000001's 15 %, which is not reused)
    ask(sales, "HW-100", "--qty", "10", "--discount", "16")


@pytest.fixture
def history(sales: Cli, built: Callable[..., Cli]) -> Cli:
    """Three requests: R-000001 approved by marco, R-000002 won, R-000003 pending."""
    return built("history", sales, build_history, on="sales")


def tamper(cli: Cli, *statements: str) -> None:
    with cli.store().engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def cover_tracks(cli: Cli, subject: str) -> None:
    """What an attacker without the secret can do after an edit: recompute the subject's plain
    digest and write it into the chain's newest entry for it."""
    store = cli.store()
    with store.engine.begin() as conn:
        digest = audit_subjects.content_digest(conn, subject)
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
    digest = audit_subjects.content_digest(conn, subject)
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


CUT = (
    "DELETE FROM audit_log WHERE subject = 'request:3'",
    "DELETE FROM request_events WHERE request_id = 3",
    "DELETE FROM request_lines WHERE request_id = 3",
    "DELETE FROM requests WHERE id = 3",
)


def test_entries_cut_from_the_end_are_found_against_the_witness(history: Cli) -> None:
    """Given an attacker with database access who deletes the newest request and its entries
    at the chain's end (a clean cut: every remaining MAC and link holds), when the owner
    verifies without a head kept by hand, then the witness the tool appended the head to after
    each change shows the cut (exit 1); db check too."""
    assert history("audit", "verify").exit_code == 0
    tamper(history, *CUT)
    result = history("audit", "verify")
    assert result.exit_code == 1, result.output
    assert "recorded entry 8" in result.stderr and "the chain now ends at entry 7" in result.stderr
    checked = history("db", "check", user="dana")
    assert checked.exit_code == 1 and "recorded entry 8" in checked.stderr, checked.output


def test_entries_cut_from_the_end_are_found_against_a_kept_head(
    history: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = history.json("audit", "head")["head"]
    assert history("audit", "verify", "--head", kept).exit_code == 0
    tamper(history, *CUT)
    monkeypatch.setenv("PRICING_AUDIT_WITNESS", str(tmp_path / "elsewhere"))  # it never saw it
    assert history("audit", "verify").exit_code == 0  # without either, a clean cut is unseen
    result = history("audit", "verify", "--head", kept)
    assert result.exit_code == 1
    assert "the head you kept is gone" in result.stderr


@pytest.fixture
def own_witness(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A witness file of this test's own (list it before ``history``): moving it aside leaves
    the other tests' witnessed heads alone."""
    path = tmp_path / "audit-witness"
    monkeypatch.setenv("PRICING_AUDIT_WITNESS", str(path))
    return path


def test_an_older_backup_restored_on_purpose_verifies_once_the_witness_is_moved_aside(
    own_witness: Path, history: Cli, tmp_path: Path
) -> None:
    """Given a backup taken before R-000003 (its head kept with it) restored on purpose, when
    the owner verifies, then the witness reports the entries that are gone and says how to tell
    it was a restore (move the witness aside); with the witness moved aside, verify against the
    head kept with the backup is intact, and the next change starts the new witness."""
    with history.store().read() as conn:
        kept = conn.execute(text("SELECT seq, mac FROM audit_log WHERE seq = 7")).one()
    tamper(history, *CUT)  # what the restore of that backup leaves
    refused = history("audit", "verify")
    assert refused.exit_code == 1 and "recorded entry 8" in refused.stderr
    assert "restored from an older backup on purpose, move the witness aside" in refused.stderr
    own_witness.rename(tmp_path / "audit-witness.before-restore")
    restored = history.json("audit", "verify", "--head", f"{kept.seq}:{kept.mac}")
    assert restored["intact"] and restored["head"] == f"7:{kept.mac}", restored["damage"]
    ask(history, "HW-200", "--qty", "2", "--discount", "5")
    again = history.json("audit", "verify")
    assert again["intact"] and again["witnessed"] == again["head"], again["damage"]


def test_content_digests_are_those_of_the_plain_selects_existing_chains_recorded(
    history: Cli,
) -> None:
    """The digest of a subject's rows, whose SQL is now compiled once per process, is the one
    the plain select gives (what the chains of existing stores recorded): a request (its row,
    lines and events), a policy version and an edition (its row, items and tiers)."""
    from sqlalchemy import select

    from pricing.storage import store

    def plain(conn: Connection, *parts: tuple[object, str, object, str]) -> str:
        digests = []
        for table, column, value, order in parts:
            t = getattr(store, str(table))
            rows = audit_subjects.raw_rows(
                conn, select(t).where(t.c[column] == value).order_by(t.c[order])
            )
            digests.append(audit_subjects.rows_digest(t.name, rows))
        return audit_subjects._Digest.of(digests)

    with history.store().read() as conn:
        assert audit_subjects.content_digest(conn, "request:3") == plain(
            conn, ("requests", "id", 3, "id"), ("request_lines", "request_id", 3, "line_no"),
            ("request_events", "request_id", 3, "id"),
        )  # fmt: skip
        assert audit_subjects.content_digest(conn, "policy:1") == plain(
            conn, ("policies", "id", 1, "id")
        )
        assert audit_subjects.content_digest(conn, "edition:1") == plain(
            conn, ("editions", "id", 1, "id"), ("price_items", "edition_id", 1, "position"),
            ("price_tiers", "edition_id", 1, "position"),
        )  # fmt: skip
        segments = store.deal_segments  # deals import 0: the segments of no import (is null)
        legacy = select(segments).where(segments.c.import_id.is_(None)).order_by(segments.c.id)
        found = audit_subjects._matching_rows(conn, segments, "import_id", None, "id")
        assert list(found) == list(audit_subjects.raw_rows(conn, legacy))


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


# The audit emptied ----------------------------------------------------------------------------

APPROVE_3 = (
    "UPDATE requests SET status = 'approved', decided_by = 'marco' WHERE id = 3",
    "UPDATE request_lines SET decision = 'approved' WHERE request_id = 3",
)


def _truncate(cli: Cli) -> str:
    postgres = cli.db_url.startswith("postgresql")
    return "TRUNCATE audit_log" if postgres else "DELETE FROM audit_log"


def _emptied_then_refused(history: Cli, said: str) -> None:
    """verify and db check find it; the next ordinary change is refused, nothing written."""
    result = history("audit", "verify")
    assert result.exit_code == 1, result.output
    assert said in result.stderr and "Nothing has been recorded" not in result.output
    checked = history("db", "check", user="dana")
    assert checked.exit_code == 1, checked.output
    assert said in checked.stderr and "The store is sound" not in checked.output
    refused = history("request", "--customer", "Acme", "--reason", "bid", "HW-100", "--qty",
                      "1", "--discount", "5", user="priya")  # fmt: skip
    assert refused.exit_code == 2, refused.output
    assert "the audit was emptied behind the tool's back" in refused.stderr
    assert "pricing audit verify" in refused.stderr
    with history.store().read() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM requests")).scalar() == 3
    assert history("audit", "verify").exit_code == 1  # never "intact" over the tampered rows


def test_an_emptied_audit_and_an_approval_in_sql_are_found_and_never_covered(
    history: Cli,
) -> None:
    """Given an attacker with psql access as the database owner (no secret) who empties the
    audit, approves R-000003 directly and even writes the upgrade's "baseline pending" mark,
    when the owner verifies and checks the store and anyone makes the next change, then the
    witness shows the emptied chain (exit 1, never "nothing recorded"), and the change is
    refused (a baseline over the tampered rows would make verify say intact)."""
    tamper(history, _truncate(history), *APPROVE_3,
           "INSERT INTO audit_state (name, value) VALUES ('baseline', 'pending')")  # fmt: skip
    _emptied_then_refused(history, "recorded entry 8")


def test_an_emptied_audit_is_found_without_its_witness(
    history: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the same attack on a store its witness never saw (a witness file lost, or one of
    another host), when the owner verifies and checks and the next change comes, then the
    store's data beside an empty chain is the finding, and the change is refused."""
    tamper(history, _truncate(history), *APPROVE_3)
    monkeypatch.setenv("PRICING_AUDIT_WITNESS", str(tmp_path / "another-witness"))
    _emptied_then_refused(history, "the audit was emptied behind the tool's back")


def test_an_emptied_audit_with_a_forged_mark_and_a_new_store_id_is_refused(
    history: Cli,
) -> None:
    """Given an attacker with psql access as the database owner (no secret) who empties the
    audit, approves R-000003, writes the upgrade's "baseline pending" mark and gives the store
    a new id (so that it looks like a legitimate upgrade of a store its witness never saw),
    when the owner verifies and checks and the next change comes, then the witness's heads of
    this address are the finding (exit 1) and the change is refused."""
    tamper(history, _truncate(history), *APPROVE_3,
           "INSERT INTO audit_state (name, value) VALUES ('baseline', 'pending')",
           f"UPDATE audit_state SET value = '{'f' * 32}' WHERE name = 'store'")  # fmt: skip
    _emptied_then_refused(history, "recorded entry 8 of a store at this address")


@pytest.mark.parametrize(
    "statement",
    [
        f"UPDATE audit_state SET value = '{'e' * 32}' WHERE name = 'store'",
        "DELETE FROM audit_state WHERE name = 'store'",
    ],
    ids=["changed", "deleted"],
)
def test_a_store_id_changed_in_sql_is_found(history: Cli, statement: str) -> None:
    """Given an attacker with psql access who changes or deletes the store's id (so that the
    witness's heads of this store are no longer compared with its chain), when the owner
    verifies, and even after the next change, then the chain says it was begun by another
    store (exit 1)."""
    tamper(history, statement)
    whys = " ".join(d["why"] for d in damage_of(history))
    assert "its id was changed behind the tool's back" in whys
    assert "the chain was begun by the store" in whys
    assert history("approve", "R-000003", "--note", "ok", user="marco").exit_code == 0
    whys = " ".join(d["why"] for d in damage_of(history))
    assert "its id was changed behind the tool's back" in whys
    assert "the chain was begun by the store" in whys


def test_a_database_deleted_and_started_again_verifies(sqlite_url: str, tmp_path: Path) -> None:
    """A user who deletes pricing.db and imports a price book again starts a new chain (a new
    store id): verify says intact and compares nothing of the old store's witnessed heads."""
    book = tmp_path / "book.csv"
    book.write_text("SKU,List Price\nHW-1,10\nHW-2,20\n")
    first = Cli(sqlite_url)
    for _ in range(2):
        assert first("pricebook", "import", str(book), "--effective", "2026-01-01").exit_code == 0
        book.write_text("SKU,List Price\nHW-1,11\nHW-2,20\n")
    assert first.json("audit", "verify")["intact"]
    first.close()
    (tmp_path / "pricing.db").unlink()
    again = Cli(sqlite_url)
    try:
        result = again("pricebook", "import", str(book), "--effective", "2026-01-01")
        assert result.exit_code == 0, result.output
        document = again.json("audit", "verify")
        assert document["intact"] and document["head"].startswith("1:")
        assert document["witnessed"] == document["head"] and document["earlier_stores"] == 1
        assert "1 earlier database at this address" in again("audit", "verify").output
    finally:
        again.close()


def test_a_new_store_begins_its_chain_and_its_witness(cli: Cli, tmp_path: Path) -> None:
    """A fresh store's first change starts the chain (no baseline) and its witness."""
    book = tmp_path / "book.csv"
    book.write_text("SKU,List Price\nHW-1,10\n")
    assert cli("pricebook", "import", str(book), "--effective", "2026-01-01").exit_code == 0
    document = cli.json("audit", "verify")
    assert document["intact"] and document["witnessed"] == document["head"]
    assert document["head"].startswith("1:")
    from pricing import config

    witness = config.witness_file()
    assert document["witness"] == str(witness) and witness.stat().st_mode & 0o777 == 0o600


def test_the_witness_is_where_the_configuration_says_and_a_server_needs_it(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The witness named by the configuration (beside its secret by default, or witness_file)
    is the one appended to; a server that cannot append to its witness does not start."""
    from pricing import config

    (tmp_path / "secret").write_text("s" * 48)
    settings = tmp_path / "server.toml"
    settings.write_text('secret_file = "secret"\n')
    monkeypatch.setenv(config.CONFIG, str(settings))
    config.settings.cache_clear()
    assert config.witness_file() == tmp_path / "audit-witness"
    settings.write_text('secret_file = "secret"\nwitness_file = "state/witness"\n')
    config.settings.cache_clear()
    cli = Cli(sqlite_url, user="dana")
    assert cli("people", "add", "dana", "--role", "owner").exit_code == 0
    assert "\tsqlite:///" in (tmp_path / "state" / "witness").read_text()
    monkeypatch.setenv(config.WITNESS, "/proc/no-such-place/witness")
    done = cli("serve", "--port", "8999")
    assert done.exit_code == 2, done.output
    assert "cannot append to the audit's witness /proc/no-such-place/witness" in done.output
    monkeypatch.setenv(config.WITNESS, "postgresql://nobody@127.0.0.1:1/witness")  # none there
    done = cli("serve", "--port", "8999")
    assert done.exit_code == 2, done.output
    assert "cannot append to the audit's witness database postgresql://nobody@" in done.output
    cli.close()


# A witness database, for the servers of several hosts ---------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def witness_database(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A second database as the audit's witness (PRICING_AUDIT_WITNESS given as its URL),
    named before the history is made (list it before ``history``)."""
    from pricing.storage import witness

    def named(url: str) -> Iterator[str]:
        monkeypatch.setenv("PRICING_AUDIT_WITNESS", url)
        yield url
        witness._engine(url).dispose()
        witness._engine.cache_clear()

    if request.param == "sqlite":
        yield from named(f"sqlite:///{tmp_path / 'witness.db'}")
        return
    with postgres_database() as url:  # CREATE DATABASE: another database than the store's
        yield from named(url)


def test_a_witness_database_records_every_head_and_finds_a_cut_chain(
    witness_database: str, history: Cli
) -> None:
    """Given the witness named as a second database, when changes are made, then each head is
    a row there and verify compares the chain with it (intact); when an attacker with access to
    the store's database only cuts the chain's end, then verify names the witness database's
    head (exit 1), as db check does."""
    import sqlalchemy as sa

    document = history.json("audit", "verify")
    assert document["intact"], document["damage"]
    assert document["witnessed"] == document["head"] and document["head"].startswith("8:")
    assert document["witness"].startswith("database ")
    engine = sa.create_engine(witness_database.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as conn:
            top = conn.execute(sa.text("SELECT max(seq), count(*) FROM audit_witness")).one()
    finally:
        engine.dispose()
    assert top[0] == 8 and top[1] >= 5  # one row per change (a change may write two entries)
    tamper(history, *CUT)
    result = history("audit", "verify")
    assert result.exit_code == 1, result.output
    assert "the witness (database " in result.stderr and "recorded entry 8" in result.stderr
    checked = history("db", "check", user="dana")
    assert checked.exit_code == 1 and "recorded entry 8" in checked.stderr, checked.output


def test_a_witness_is_a_file_or_a_database_never_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """witness_url names a database witness; a configuration naming a file too is refused, and
    PRICING_AUDIT_WITNESS given as a URL is a database, as a path a file."""
    from pricing import config
    from pricing.errors import ConfigError

    settings = tmp_path / "server.toml"
    settings.write_text('secret = "' + "s" * 40 + '"\nwitness_url = "postgresql://w@db/witness"\n')
    monkeypatch.setenv(config.CONFIG, str(settings))
    config.settings.cache_clear()
    assert config.witness_url() == "postgresql://w@db/witness"
    monkeypatch.setenv(config.WITNESS, str(tmp_path / "witness"))
    assert config.witness_url() is None and config.witness_file() == tmp_path / "witness"
    monkeypatch.setenv(config.WITNESS, "sqlite:////var/lib/pricing/witness.db")
    assert config.witness_url() == "sqlite:////var/lib/pricing/witness.db"
    settings.write_text('witness_url = "w.db"\n')
    config.settings.cache_clear()
    with pytest.raises(ConfigError, match="witness_url must be a database URL"):
        config.settings()
    settings.write_text('witness_file = "w"\nwitness_url = "sqlite:///w.db"\n')
    config.settings.cache_clear()
    with pytest.raises(ConfigError, match="name one witness"):
        config.settings()


# A rotated secret ----------------------------------------------------------------------------


def test_an_entry_keyed_with_a_rotated_out_secret_fails_verification(
    history: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a secret rotated (the old one kept in previous_secret_files) and an attacker with
    psql access who also holds the old secret (it leaked: why it was rotated), when the next
    change records the rotation and the attacker appends an entry keyed with the old secret
    after it, then verify names that entry (exit 1): after a rotation only the new secret
    signs."""
    from pricing import config

    old_file = config.local_secret_file(create=False)
    new_file = tmp_path / "audit-secret-2027"
    new_file.write_text("n" * 48)
    settings = tmp_path / "server.toml"
    settings.write_text(f'secret_file = "{new_file}"\nprevious_secret_files = ["{old_file}"]\n')
    monkeypatch.setenv(config.CONFIG, str(settings))
    config.settings.cache_clear()
    config.audit_keys.cache_clear()
    assert history("requests", "lost", "R-000003", user="priya").exit_code == 0
    document = history.json("audit", "verify")
    assert document["intact"], document["damage"]
    old_key = old_file.read_text().strip().encode()
    with history.store().engine.begin() as conn:
        seq, previous = conn.execute(
            text("SELECT seq, mac FROM audit_log ORDER BY seq DESC")
        ).first()
        conn.execute(text("UPDATE requests SET status = 'approved' WHERE id = 3"))
        digest = audit_subjects.content_digest(conn, "request:3") or ""
        at = datetime.now(UTC).replace(microsecond=0)
        old_id = config.key_id(old_key)
        mac = audit_entries.entry_mac(old_key, previous, seq + 1, at, "marco", "request.approved",
                         "request:3", digest, None, old_id)  # fmt: skip
        conn.execute(
            text(
                "INSERT INTO audit_log (seq, at, by, action, subject, digest, note, key_id, mac) "
                "VALUES (:seq, :at, 'marco', 'request.approved', 'request:3', :d, NULL, :k, :m)"
            ),
            {"seq": seq + 1, "at": at, "d": digest, "k": old_id, "m": mac},
        )
    damage = damage_of(history)
    assert any(
        d["where"].startswith(f"entry {seq + 1}") and "rotated out at entry 9" in d["why"]
        for d in damage
    ), damage
    with history.store().read() as conn:  # the rotation: entry 9, keyed with the new secret
        rotation = conn.execute(text("SELECT action, key_id FROM audit_log WHERE seq = 9")).one()
    assert tuple(rotation) == ("audit.rotated", config.key_id(new_file.read_text().encode()))
