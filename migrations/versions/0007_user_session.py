"""Server-side sessions (``user_session``: one row per signed-in browser, deleted to end it at once) and an index
for the per-account login throttle (``login_attempt`` by e-mail and time).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "user_session",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_user_session_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_session_token_hash")),
    )
    with op.batch_alter_table("user_session") as batch:
        batch.create_index(batch.f("ix_user_session_user_id"), ["user_id"], unique=False)
    with op.batch_alter_table("login_attempt") as batch:
        batch.create_index("ix_login_attempt_email_time", ["email", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("login_attempt") as batch:
        batch.drop_index("ix_login_attempt_email_time")
    with op.batch_alter_table("user_session") as batch:
        batch.drop_index(batch.f("ix_user_session_user_id"))
    op.drop_table("user_session")
