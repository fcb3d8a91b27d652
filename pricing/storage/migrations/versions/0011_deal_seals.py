"""Deal storage sealed by position (issue 23): each stored column block gets a seal binding it
to its import, segment, column, lines and bytes, and each import a sealed manifest of its
segments and their columns, keyed with a key derived from the server's secret (which the
upgrade needs: the CLI and the server hold it). The blocks already stored are sealed as they
are: what was changed behind the tool's back before this upgrade is sealed with them, and only
``audit verify`` (the digests the chain recorded of each import's blocks) still finds it.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from pricing.storage import seals

    with op.batch_alter_table("deal_columns") as batch:
        batch.add_column(sa.Column("seal", sa.String(80)))
    op.create_table(
        "deal_manifests",
        sa.Column("import_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("seal", sa.String(80), nullable=False),
    )
    conn = op.get_bind()
    seals.suspend(conn, False)  # blocks written by the migrations after this one are sealed
    seals.seal_all(conn)


def downgrade() -> None:
    op.drop_table("deal_manifests")
    with op.batch_alter_table("deal_columns") as batch:
        batch.drop_column("seal")
