"""The audit log is append-only and tamper-evident: edits and deletions behind the tool's back show."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.conftest import Cli
from tests.test_cli_requests import ask


@pytest.fixture
def history(sales: Cli) -> Cli:
    ask(sales, "HW-100", "--qty", "50", "--price", "96.90")  # submitted, pending
    assert sales("approve", "R-000001", "--note", "strategic", user="marco").exit_code == 0
    ask(sales, "HW-200", "--qty", "5", "--discount", "5")  # submitted, approved by the system
    assert sales("requests", "won", "R-000002", user="priya").exit_code == 0
    return sales


def test_an_untouched_log_verifies(history: Cli) -> None:
    assert history.json("audit", "verify") == {"events": 5, "intact": True, "first_broken": None}
    assert "intact: 5 events" in history("audit", "verify").stdout


def test_an_edited_event_is_named(history: Cli) -> None:
    with history.store().engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE request_events SET note = 'always allowed' WHERE action = 'approved' AND by = 'marco'"
            )
        )
    result = history("audit", "verify")
    assert result.exit_code == 1
    assert "broken at event 2 (R-000001, approved by marco)" in result.stderr
    assert "edited after it was written" in result.stderr


def test_a_deleted_event_breaks_the_next_link(history: Cli) -> None:
    with history.store().engine.begin() as conn:
        conn.execute(text("DELETE FROM request_events WHERE id = 2"))
    document = history.json("audit", "verify", expect=1)
    assert document["intact"] is False
    assert document["first_broken"]["event"] == 3
    assert "deleted or edited" in document["first_broken"]["why"]
