"""The suppression list (ids whose data ingestion drops; services/suppression.py) and its key.

Revision ID: 0011_suppressions
Revises: 0010_erasures
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_suppressions"
down_revision = "0010_erasures"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "suppressions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("subject_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("erasure_id", sa.String(40)),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "store_settings",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("store_settings")
    op.drop_table("suppressions")
