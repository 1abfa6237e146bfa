"""analyst decisions on stories (mute, split, merge); keyset index for the stories page

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("story", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("muted", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("merged_into", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_story_merged_into", "story", ["merged_into"], ["id"])
        batch_op.create_index("ix_story_first_seen_id", ["first_seen", "id"], unique=False)
    op.create_table(
        "storydecision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("story_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("other_story_id", sa.Integer(), nullable=True),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"]),
        sa.ForeignKeyConstraint(["other_story_id"], ["story.id"]),
        sa.ForeignKeyConstraint(["story_id"], ["story.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("storydecision", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_storydecision_story_id"), ["story_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("storydecision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_storydecision_story_id"))
    op.drop_table("storydecision")
    with op.batch_alter_table("story", schema=None) as batch_op:
        batch_op.drop_index("ix_story_first_seen_id")
        batch_op.drop_constraint("fk_story_merged_into", type_="foreignkey")
        batch_op.drop_column("merged_into")
        batch_op.drop_column("muted")
