"""Indexes for pruning by age: idempotency keys by creation time, the delivery log by attempt time.

The retention job (personapulse/store/retention.py) deletes bookkeeping rows older than their
setting. The other tables it prunes have an index that starts with the age column already
(ingest_counts' key, ix_ingest_log_received, ix_jobs_status, the outboxes' due indexes,
ix_emitted_events_type); these two did not, so each run would have read them whole.

Revision ID: 0008_retention
Revises: 0007_ingest_counts
Create Date: 2026-12-06
"""

from alembic import op

revision = "0008_retention"
down_revision = "0007_ingest_counts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_idempotency_keys_created", "idempotency_keys", ["created_ms"])
    op.create_index("ix_delivery_log_at", "delivery_log", ["at_ms"])


def downgrade() -> None:
    op.drop_index("ix_delivery_log_at", table_name="delivery_log")
    op.drop_index("ix_idempotency_keys_created", table_name="idempotency_keys")
