"""Slack alerts through the durable outbox (one row per message, a send gate per webhook) and
incremental journey counters per person.

Revision ID: 0006_dynamic
Revises: 0003
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_dynamic"
down_revision = "0004_ingest_speed"
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
    op.create_table(
        "journey_people",
        sa.Column("person_id", sa.String(200), primary_key=True),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("sessions", sa.Integer, nullable=False),
        sa.Column("steps", sa.Integer, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "journey_transitions",
        sa.Column("person_id", sa.String(200), primary_key=True),
        sa.Column("step_number", sa.Integer, primary_key=True),
        sa.Column("source", sa.String(1000), primary_key=True),
        sa.Column("target", sa.String(1000), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
    )
    op.create_table(
        "journey_step_counts",
        sa.Column("person_id", sa.String(200), primary_key=True),
        sa.Column("step", sa.String(1000), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for table in ("journey_step_counts", "journey_transitions", "journey_people"):
        op.drop_table(table)
    op.drop_table("slack_webhooks")
    op.drop_table("slack_outbox")
