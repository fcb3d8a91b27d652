"""The tests' PostgreSQL schemas (tests/conftest.py's SchemaPool): a schema a test changed only
the rows of is a new store again for a later test, under a name and a store id of its own; one
whose shape a test changed is never used again. And a server a test starts is forked
(tests/forking.py), the checkout on its path as the zygote's."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests import forking
from tests.conftest import SAMPLE_DATA, Cli, SchemaPool, schema_url, shape_of
from tests.serving import environment


@pytest.fixture
def pool() -> Iterator[SchemaPool]:
    made = SchemaPool()
    yield made
    made.close()


def _store_id(pool: SchemaPool, schema: str) -> str:
    row = (
        pool.connection()
        .execute(f"SELECT value FROM \"{schema}\".audit_state WHERE name = 'store'")
        .fetchone()
    )
    return str(row[0])


def _rows(pool: SchemaPool, schema: str, table: str) -> int:
    return int(
        pool.connection().execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()[0]
    )


def test_a_schema_whose_rows_a_test_changed_is_a_new_store_again_under_another_name(
    pool: SchemaPool,
) -> None:
    first = pool.take()
    cli = Cli(schema_url(first))
    book = str(SAMPLE_DATA / "price-book-2025.xlsx")
    assert cli("pricebook", "import", book, "--effective", "2025-01-01").exit_code == 0
    cli.close()
    assert _rows(pool, first, "price_items") > 0
    used_id = _store_id(pool, first)
    pool.give_back(first)

    again = pool.take()
    assert again != first  # (the audit's witness knows a store by its URL)
    assert _store_id(pool, again) != used_id
    assert [_rows(pool, again, t) for t in ("price_items", "editions", "audit_log")] == [0, 0, 0]
    cli = Cli(schema_url(again))
    imported = cli.json("pricebook", "import", book, "--effective", "2025-01-01")
    assert imported["edition"] == 1  # its sequences where a new store's are
    assert cli.json("audit", "verify")["intact"] is True
    cli.close()
    pool.give_back(again)


@pytest.mark.parametrize(
    "change",
    [
        'ALTER TABLE "{s}".price_items ADD COLUMN extra integer',
        'CREATE INDEX extra ON "{s}".price_items (sku)',
        'ALTER TABLE "{s}".price_items ALTER COLUMN sku DROP NOT NULL',
        'CREATE FUNCTION "{s}".f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;'
        ' CREATE TRIGGER t BEFORE INSERT ON "{s}".price_items FOR EACH ROW EXECUTE FUNCTION "{s}".f()',
        'DROP TABLE "{s}".fx_series',
        'GRANT SELECT ON "{s}".price_items TO PUBLIC',
        'ALTER TABLE "{s}".price_items ENABLE ROW LEVEL SECURITY',
    ],
    ids=["column", "index", "not-null", "trigger", "dropped", "grant", "row-security"],
)
def test_a_schema_whose_shape_a_test_changed_is_dropped(pool: SchemaPool, change: str) -> None:
    schema = pool.take()
    new_shape = shape_of(pool.connection(), schema)
    pool.connection().execute(change.format(s=schema))
    assert shape_of(pool.connection(), schema) != new_shape
    pool.give_back(schema)
    gone = (
        pool.connection()
        .execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema])
        .fetchone()
    )
    assert gone is None
    assert pool.take() != schema


def test_a_server_a_test_starts_is_forked() -> None:
    """tests/serving.py puts this checkout on the server's PYTHONPATH: the zygote has it first
    on its own, so the server is forked (not started from scratch: a second of imports)."""
    before = forking.FORKED[0]
    done = subprocess.run(
        [sys.executable, "-m", "pricing", "--help"], env=environment(), capture_output=True
    )
    assert done.returncode == 0
    assert forking.FORKED[0] == before + 1
