"""The record of erasure requests (a person's data deleted on request; services/erasure.py).

Revision ID: 0010_erasures
Revises: 0009_flagged_events
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_erasures"
down_revision = "0009_flagged_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "erasures",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("subject_hash", sa.String(64), nullable=False),
        sa.Column("salt", sa.String(32), nullable=False),
        sa.Column("found", sa.Boolean(), nullable=False),
        sa.Column("requested_by", sa.String(100), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.Column("airtable_job_id", sa.String(40)),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_erasures_created", "erasures", ["created_ms"])


def downgrade() -> None:
    op.drop_index("ix_erasures_created", table_name="erasures")
    op.drop_table("erasures")
