"""Dynamic personas: outbound hooks and their durable outbox, emitted events, shifts,
recommendations, persona cards and the LLM answer cache.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hooks",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("target_url", sa.String(2000), nullable=False),
        sa.Column("event", sa.String(60), nullable=False),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("api_key_id", sa.String(40)),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("disabled_reason", sa.String(300)),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_hooks_event", "hooks", ["event", "active"])
    op.create_table(
        "emitted_events",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("event_type", sa.String(60), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_emitted_events_type", "emitted_events", ["event_type", "created_ms"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("hook_id", sa.String(40), nullable=False),
        sa.Column("event_id", sa.String(40), nullable=False),
        sa.Column("event_type", sa.String(60), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_ms", sa.BigInteger, nullable=False),
        sa.Column("last_status_code", sa.Integer),
        sa.Column("last_error", sa.Text),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("delivered_ms", sa.BigInteger),
    )
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_ms"])
    op.create_table(
        "delivery_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("outbox_id", sa.String(40), nullable=False),
        sa.Column("hook_id", sa.String(40), nullable=False),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("error", sa.Text),
        sa.Column("duration_ms", sa.Integer, nullable=False),
        sa.Column("at_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_delivery_log_hook", "delivery_log", ["hook_id", "at_ms"])
    op.create_table(
        "shifts",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("version_id", sa.String(40), nullable=False),
        sa.Column("persona_id", sa.String(40)),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("label", sa.String(200)),
        sa.Column("severity", sa.String(20), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("detected_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_shifts_detected", "shifts", ["detected_ms"])
    op.create_table(
        "recommendations",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("version_id", sa.String(40), primary_key=True),
        sa.Column("persona_id", sa.String(40)),
        sa.Column("kind", sa.String(60), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("priority", sa.String(20), nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "persona_cards",
        sa.Column("version_id", sa.String(40), primary_key=True),
        sa.Column("persona_id", sa.String(40), primary_key=True),
        sa.Column("backend", sa.String(40), nullable=False),
        sa.Column("card", sa.Text, nullable=False),
        sa.Column("facts", sa.Text, nullable=False),
        sa.Column("grounding", sa.Text, nullable=False),
        sa.Column("rejection", sa.Text),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "llm_cache",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "llm_cache",
        "persona_cards",
        "recommendations",
        "shifts",
        "delivery_log",
        "outbox",
        "emitted_events",
        "hooks",
    ):
        op.drop_table(table)
