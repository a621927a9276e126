"""Coalesced rescoring: the dirty_people table ingestion marks and one worker job drains.

Revision ID: 0004_ingest_speed
Revises: 0003
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_ingest_speed"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dirty_people",
        sa.Column("person_ref", sa.String(320), primary_key=True),
        sa.Column("marked_ms", sa.BigInteger, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_dirty_people_marked", "dirty_people", ["marked_ms"])


def downgrade() -> None:
    op.drop_table("dirty_people")
