"""polling daemon: source leases, schedule and health; item versions; operator alerts

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("source", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column("next_poll_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("lease_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("lease_owner", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
        batch_op.add_column(sa.Column("interval_s", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column("redirect_url", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
        batch_op.add_column(sa.Column("mean_gap_s", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column("notice_state", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
        batch_op.add_column(sa.Column("polls", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("warnings", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("last_warning", sa.Text(), nullable=True))
        batch_op.create_index("ix_source_due", ["enabled", "next_poll_at"], unique=False)

    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.alter_column("story_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("source_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("message", sa.Text(), nullable=True))
        batch_op.create_foreign_key("fk_alert_source_id", "source", ["source_id"], ["id"])

    op.create_table(
        "itemversion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("content_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("replaced_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("itemversion", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_itemversion_item_id"), ["item_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("itemversion", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_itemversion_item_id"))
    op.drop_table("itemversion")
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_constraint("fk_alert_source_id", type_="foreignkey")
        batch_op.drop_column("message")
        batch_op.drop_column("source_id")
        batch_op.alter_column("story_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("source", schema=None) as batch_op:
        batch_op.drop_index("ix_source_due")
        for column in (
            "last_warning",
            "warnings",
            "polls",
            "notice_state",
            "mean_gap_s",
            "redirect_url",
            "interval_s",
            "lease_owner",
            "lease_until",
            "next_poll_at",
            "enabled",
        ):
            batch_op.drop_column(column)
