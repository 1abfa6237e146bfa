"""anchor document frequencies for story detection

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-24 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "0004"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "anchorstat",
        sa.Column("anchor", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("docs", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("anchor"),
    )


def downgrade() -> None:
    op.drop_table("anchorstat")
