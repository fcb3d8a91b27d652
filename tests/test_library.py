"""The library object as issue 24 shows it: its snippet runs as written, and each typed result
of the deals, the drift report and the what-if dumps to exactly what ``pricing --json`` prints
(and validates back, as a client does, into the same model)."""

from __future__ import annotations

import json
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import pricing
from pricing.cli import main
from pricing.operations import find
from pricing.results.deals import DealImport, DealsImported, DealsRefused, ImportUndone
from pricing.results.policy import PolicyRefused
from pricing.results.report import DetailedReport, DriftReport, Figures
from pricing.results.simulation import PolicySimulation
from tests.conftest import SAMPLE_DATA


def printed(*args: str, expect: int = 0) -> Any:
    """What ``pricing --json ARGS`` prints on the snippet's database, as JSON."""
    done = CliRunner().invoke(
        main, ["--db", "sqlite:///shop.db", "--user", "dana", "--json", *args],
        catch_exceptions=False,
    )  # fmt: skip
    assert done.exit_code == expect, done.output
    return json.loads(done.stdout)


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder holding the snippet's files (the sample data), as the working directory."""
    shutil.copy(SAMPLE_DATA / "price-book-2026.xlsx", tmp_path / "book.xlsx")
    shutil.copy(SAMPLE_DATA / "guardrails.toml", tmp_path / "guardrails.toml")
    shutil.copy(SAMPLE_DATA / "deals-2025-2026.csv", tmp_path / "deals.csv")
    shutil.copy(SAMPLE_DATA / "guardrails-proposed.toml", tmp_path / "proposed.toml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


# The snippet of issue 24, exactly as written there.
SNIPPET = """
import pricing
with pricing.open("sqlite:///shop.db", user="dana") as p:   # or open(server_url, token=...)
    p.import_price_book("book.xlsx", effective="2026-01-01")
    p.load_policy("guardrails.toml")
    p.import_deals("deals.csv")
    rep = p.report(by=["rep"])
    rep.totals.net_revenue            # a Decimal
    rep.model_dump(mode="json")       # exactly what `pricing --json report --by rep` prints
"""


def test_the_issue_snippet_runs_as_written_and_its_report_is_the_clis(shop: Path) -> None:
    ran: dict[str, Any] = {}
    exec(SNIPPET, ran)
    rep = ran["rep"]
    assert isinstance(rep, DriftReport) and not isinstance(rep, DetailedReport)
    assert isinstance(rep.totals.net_revenue, Decimal)
    assert rep.totals.net_revenue > 0 and rep.groups
    assert rep.model_dump(mode="json") == printed("report", "--by", "rep")
    assert [g.key["rep"] for g in rep.groups] == [g["key"]["rep"] for g in printed(
        "report", "--by", "rep")["groups"]]  # fmt: skip


def test_deals_report_and_simulation_results_are_the_clis_json(shop: Path) -> None:
    """Each method's result dumps to the command's --json, key for key, and validates back
    from that JSON (what a client receives) into the same model."""
    with pricing.open("sqlite:///shop.db", user="dana") as p:
        p.import_price_book("book.xlsx", effective="2026-01-01")
        p.load_policy("guardrails.toml")
        dry = p.import_deals("deals.csv", dry_run=True)
        assert isinstance(dry, DealsImported) and dry.dry_run and dry.id is None
        imported = p.import_deals("deals.csv")
        again = p.import_deals("deals.csv")
        listed = p.deal_imports()
        plain = p.report(by=["family"])
        detailed = p.report(by=["family"], output=shop / "drift.xlsx")
        simulated = p.simulate("proposed.toml", output=shop / "what-if.json")
    assert isinstance(imported, DealsImported) and imported.id is not None
    assert imported.unmatched_skus and isinstance(imported.unmatched_skus[0].first_date, date)
    assert isinstance(again, DealsImported) and again.already_imported_as == imported.id
    assert again.model_dump(mode="json") == printed("deals", "import", "deals.csv")
    assert [i.model_dump(mode="json") for i in listed] == printed("deals", "imports")
    assert all(isinstance(i, DealImport) for i in listed)
    assert isinstance(plain, DriftReport) and not isinstance(plain, DetailedReport)
    assert plain.model_dump(mode="json") == printed("report", "--by", "family")
    assert isinstance(detailed, DetailedReport) and detailed.months and detailed.price_bands
    assert detailed.model_dump(mode="json") == printed(
        "report", "--by", "family", "-o", str(shop / "again.xlsx")
    )
    assert isinstance(simulated, PolicySimulation) and simulated.changed
    assert simulated.model_dump(mode="json") == printed("policy", "simulate", "proposed.toml")
    assert json.loads((shop / "what-if.json").read_text()) == simulated.model_dump(mode="json")
    # Client mode: the server's JSON validated into the method's result type.
    for name, result in (
        ("deals.import", imported), ("report.build", plain),
        ("report.build", detailed), ("policy.simulate", simulated),
    ):  # fmt: skip
        answer = find(name).answer(result.model_dump(mode="json"))
        assert type(answer) is type(result) and answer == result
    listed_again = find("deals.imports").answer([i.model_dump(mode="json") for i in listed])
    assert listed_again == listed
    with pricing.open("sqlite:///shop.db", user="dana") as p:
        undone = p.undo_import(number=imported.id)
    assert isinstance(undone, ImportUndone) and undone.removed == imported.added
    assert find("deals.undo").answer(undone.model_dump(mode="json")) == undone


def test_refusals_are_their_own_results_and_validate_back_as_such(shop: Path) -> None:
    (shop / "bad.csv").write_text("Order ID,Order Date,Customer,SKU,Quantity,Sales\nD1,x,A,B,1,9\n")
    (shop / "bad.toml").write_text("currency = 12\n")
    with pricing.open("sqlite:///shop.db", user="dana") as p:
        refused = p.import_deals("bad.csv")
        not_simulated = p.simulate("bad.toml")
    assert isinstance(refused, DealsRefused) and refused.problems
    assert refused.model_dump(mode="json") == printed("deals", "import", "bad.csv", expect=2)
    assert type(find("deals.import").answer(refused.model_dump(mode="json"))) is DealsRefused
    assert isinstance(not_simulated, PolicyRefused) and not_simulated.problem_counts
    answer = find("policy.simulate").answer(not_simulated.model_dump(mode="json"))
    assert type(answer) is PolicyRefused


def test_a_detailed_report_of_nothing_leaves_out_its_months_and_bands_as_the_cli_does(
    shop: Path,
) -> None:
    with pricing.open("sqlite:///shop.db", user="dana") as p:
        p.import_price_book("book.xlsx", effective="2026-01-01")
        p.load_policy("guardrails.toml")
        p.import_deals("deals.csv")
        empty = p.report(start="2030-01-01", output=shop / "empty.xlsx")
    assert isinstance(empty, DetailedReport) and empty.totals.lines == 0
    assert empty.months is None and empty.price_bands is None
    dumped = empty.model_dump(mode="json")
    assert "months" not in dumped and "months_deals_overlap" not in dumped
    assert "price_bands" not in dumped and dumped["unmatched"] == []
    assert dumped == printed("report", "--from", "2030-01-01", "-o", str(shop / "again.xlsx"))
    assert type(find("report.build").answer(dumped)) is DetailedReport


def test_the_report_figures_are_in_the_order_of_every_file() -> None:
    from pricing.analysis.report import EXTRA_KEYS, METRIC_KEYS

    assert list(Figures.model_fields) == [*METRIC_KEYS, *EXTRA_KEYS]
