"""Slack alerts through the durable outbox: one row per message, and a send gate per webhook.

Revision ID: 0006_dynamic
Revises: 0003
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_dynamic"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "slack_outbox",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("webhook_key", sa.String(40), nullable=False),
        sa.Column("webhook_url", sa.String(2000), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("shift_ids", sa.Text, nullable=False),
        sa.Column("digest", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_ms", sa.BigInteger, nullable=False),
        sa.Column("last_status_code", sa.Integer),
        sa.Column("last_error", sa.Text),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("delivered_ms", sa.BigInteger),
    )
    op.create_index("ix_slack_outbox_due", "slack_outbox", ["status", "next_attempt_ms"])
    op.create_table(
        "slack_webhooks",
        sa.Column("webhook_key", sa.String(40), primary_key=True),
        sa.Column("next_send_ms", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("slack_webhooks")
    op.drop_table("slack_outbox")
