"""Deal lines move from one row each to columnar segments, a blob per column (pricing.lines.segments).

The lines already stored are carried over as they were read from their files, import by import,
and matched again to the price book and policy in force on their dates.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

RAW = (
    "line_key", "deal_id", "deal_first", "date", "customer", "rep", "sku", "sku_key", "qty",
    "amount", "unit_price", "discount_pct", "request_id", "currency", "import_id",
)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "deal_segments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("import_id", sa.Integer, sa.ForeignKey("deal_imports.id")),
        sa.Column("lines", sa.Integer, nullable=False),
        sa.Column("first_date", sa.Date, nullable=False),
        sa.Column("last_date", sa.Date, nullable=False),
    )
    op.create_index("ix_deal_segments_last_date", "deal_segments", ["last_date"])
    op.create_table(
        "deal_columns",
        sa.Column("segment_id", sa.Integer, sa.ForeignKey("deal_segments.id"), primary_key=True),
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    conn = op.get_bind()
    if conn.execute(sa.text("SELECT 1 FROM deal_lines LIMIT 1")).first() is not None:
        _carry_over(conn)
    op.drop_table("deal_lines")


def _carry_over(conn: sa.Connection) -> None:
    """Stored lines, 100,000 at a time (a big history is never all in memory), become segments
    of their import; then everything is matched again as a new import would be."""
    import pandas as pd

    # A data migration runs the domain code of its time: the one place storage calls up into
    # the deal lines (an import-linter contract lists it as an exception).
    from pricing.lines import segments
    from pricing.lines.service import rematch

    rows = conn.execution_options(stream_results=True).execute(
        sa.text(f"SELECT {', '.join(RAW)} FROM deal_lines ORDER BY id")
    )
    numbers: dict[str, int] = {}  # deal id -> its number, across chunks
    for chunk in rows.partitions(segments.SEGMENT):
        frame = pd.DataFrame(chunk, columns=list(RAW))
        frame["date"] = pd.to_datetime(frame["date"].astype(str).str[:10])
        for name in segments.COLUMNS:
            if name not in RAW:
                frame[name] = None
        frame["deal_no"] = [numbers.setdefault(d, len(numbers)) for d in frame["deal_id"]]
        for number, lines in frame.groupby("import_id", sort=False):
            segments.append(conn, segments.as_stored(lines), int(str(number)))
    rematch(conn, by=None)  # no keyed audit yet at this revision


def downgrade() -> None:
    raise NotImplementedError("deal lines stored as segments cannot go back to one row each")
