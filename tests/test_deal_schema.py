"""The stored deal line is declared once (pricing.lines.schema), and old segments still read."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from sqlalchemy import delete, func, select

from pricing.lines import schema, segments
from pricing.lines.reader import DEAL_HEADERS, TEXT_INPUTS
from pricing.lines.schema import MATCHED
from pricing.lines.service import rematch
from pricing.storage import seals, store
from tests.conftest import Cli
from tests.test_cli_deals_report import SALES, deals_csv

# The stored column set, in storage order, as every existing database holds it: the schema
# may grow at its end, never change these.
STORED = (
    "line_key", "deal_id", "deal_no", "deal_first", "date", "customer", "rep", "sku", "sku_key",
    "qty", "amount", "unit_price", "discount_pct", "request_id", "currency", "import_id",
    "edition_id", "family", "list_price", "standard_price", "net_amount", "list_revenue",
    "standard_revenue", "cost_amount", "unit_cost", "item_floor", "item_currency", "hard_floor",
    "policy_version", "level_rank", "level", "below_floor",
)  # fmt: skip
SMALL = ("deal_first", "below_floor", "level_rank")
NUMBERS = ("edition_id", "policy_version", "import_id", "deal_no")
STRINGS = (
    "line_key", "deal_id", "customer", "rep", "sku", "sku_key", "currency", "family", "level",
    "item_currency",
)  # fmt: skip


def test_schema__keeps_the_stored_columns_their_order_and_types() -> None:
    assert schema.NAMES == STORED  # the storage order of existing databases
    for field in schema.arrow():
        expected = (
            pa.date32() if field.name == "date"
            else pa.int8() if field.name in SMALL
            else pa.int32() if field.name in NUMBERS
            else pa.string() if field.name in STRINGS
            else pa.int64()
        )  # fmt: skip
        assert field.type == expected, field.name
        assert field.nullable  # scans return nullable fields, as before
    assert STORED[STORED.index("edition_id") :] == MATCHED
    assert all(c.description for c in schema.DECLARED)


def test_schema__text_inputs_the_reader_maps_are_declared() -> None:
    assert TEXT_INPUTS == ("customer", "rep", "currency")
    assert all(name in DEAL_HEADERS for name in TEXT_INPUTS)
    inputs = schema.names(schema.Role.INPUT)
    assert set(schema.FACTS) <= {*inputs, *schema.names(schema.Role.KEY)}


def test_import__stores_each_column_with_its_declared_type_and_no_nulls_where_declared(
    owner: Cli, tmp_path: Path
) -> None:
    assert owner("deals", "import", str(deals_csv(tmp_path, SALES))).exit_code == 0
    with owner.store().read() as conn:
        c = store.deal_columns.c
        blobs = conn.execute(select(c.name, c.data)).all()
        lines = segments.scan(conn)
    assert sorted({name for name, _ in blobs}) == sorted(STORED)
    for name, blob in blobs:
        assert segments.decode(blob).type == schema.arrow_type(name), name
    for column in schema.DECLARED:
        if not column.nullable:
            assert lines[column.name].null_count == 0, column.name


def test_scan__a_column_an_old_segment_lacks_reads_as_nulls_and_a_rematch_adds_it(
    owner: Cli, tmp_path: Path
) -> None:
    """A segment stored before a column existed (here: its blobs deleted, then the store
    sealed as migration 0011 seals an older one) reads that column as nulls of its declared
    type; the report still runs; a rematch writes the column."""
    assert owner("deals", "import", str(deals_csv(tmp_path, SALES))).exit_code == 0
    before = owner.json("report", "--by", "rep")
    db = owner.store()
    c = store.deal_columns.c
    with db.write() as conn:
        conn.execute(delete(store.deal_columns).where(c.name.in_(["rep", "level"])))
        seals.seal_all(conn)
    with db.read() as conn:
        lines = segments.scan(conn, ["sku", "rep", "level", "qty"])
        held = select(func.count()).select_from(store.deal_columns).where(c.name == "level")
        assert conn.execute(held).scalar() == 0
    assert lines["rep"].type == pa.string() and lines["level"].type == pa.string()
    assert lines["rep"].null_count == lines["level"].null_count == lines.num_rows == 4
    assert lines["sku"].to_pylist() == ["HW-100", "SV-1", "HW-100", "NOPE-1"]
    report = owner.json("report", "--by", "rep")
    assert report["totals"] == before["totals"]
    assert [g["key"]["rep"] for g in report["groups"]] == ["(none)"]
    assert owner("report", "--output", str(tmp_path / "report.html")).exit_code == 0
    # Matching every line again writes the verdict columns: the missing one is added.
    with db.write() as conn:
        assert rematch(conn, by="test") == 4
    with db.read() as conn:
        level = segments.scan(conn, ["level"])["level"]
    assert level.null_count == 1  # the unmatched line has no level
