"""Foundation: events, users and identities, reviews, conversations, API keys, jobs, idempotency.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False, unique=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("scopes", sa.String(200), nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("revoked_ms", sa.BigInteger),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(200), nullable=False, unique=True),
        sa.Column("source_format", sa.String(20), nullable=False),
        sa.Column("type", sa.String(20), nullable=False),
        sa.Column("event", sa.String(300)),
        sa.Column("user_id", sa.String(200)),
        sa.Column("anonymous_id", sa.String(200)),
        sa.Column("ts_ms", sa.BigInteger, nullable=False),
        sa.Column("received_ms", sa.BigInteger, nullable=False),
        sa.Column("flags", sa.Integer, nullable=False),
        sa.Column("session_id", sa.String(200)),
        sa.Column("page_path", sa.String(2000)),
        sa.Column("page_url", sa.String(4000)),
        sa.Column("referrer", sa.String(4000)),
        sa.Column("utm_source", sa.String(300)),
        sa.Column("utm_medium", sa.String(300)),
        sa.Column("utm_campaign", sa.String(300)),
        sa.Column("utm_term", sa.String(300)),
        sa.Column("utm_content", sa.String(300)),
        sa.Column("revenue", sa.Float),
        sa.Column("currency", sa.String(10)),
        sa.Column("properties", sa.Text),
    )
    op.create_index("ix_events_ts", "events", ["ts_ms"])
    op.create_index("ix_events_user", "events", ["user_id"])
    op.create_index("ix_events_anon", "events", ["anonymous_id"])
    op.create_table(
        "users",
        sa.Column("user_id", sa.String(200), primary_key=True),
        sa.Column("email", sa.String(320)),
        sa.Column("traits", sa.Text),
        sa.Column("first_seen_ms", sa.BigInteger),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_users_email", "users", ["email"])
    op.create_table(
        "identities",
        sa.Column("alias_id", sa.String(200), primary_key=True),
        sa.Column("user_id", sa.String(200), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_identities_user", "identities", ["user_id"])
    op.create_table(
        "reviews",
        sa.Column("review_id", sa.String(200), primary_key=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("external_id", sa.String(200)),
        sa.Column("user_id", sa.String(200)),
        sa.Column("email", sa.String(320)),
        sa.Column("author", sa.String(300)),
        sa.Column("rating", sa.Float),
        sa.Column("title", sa.Text),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("product", sa.String(300)),
        sa.Column("language", sa.String(20)),
        sa.Column("created_ms", sa.BigInteger),
        sa.Column("received_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_reviews_user", "reviews", ["user_id"])
    op.create_index("ix_reviews_created", "reviews", ["created_ms"])
    op.create_table(
        "conversations",
        sa.Column("conversation_id", sa.String(200), primary_key=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("user_id", sa.String(200)),
        sa.Column("email", sa.String(320)),
        sa.Column("contact_id", sa.String(200)),
        sa.Column("subject", sa.Text),
        sa.Column("status", sa.String(50)),
        sa.Column("messages", sa.Text, nullable=False),
        sa.Column("customer_text", sa.Text, nullable=False),
        sa.Column("created_ms", sa.BigInteger),
        sa.Column("received_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_conversations_user", "conversations", ["user_id"])
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(50), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("params", sa.Text),
        sa.Column("result", sa.Text),
        sa.Column("error", sa.Text),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("locked_by", sa.String(100)),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("started_ms", sa.BigInteger),
        sa.Column("heartbeat_ms", sa.BigInteger),
        sa.Column("finished_ms", sa.BigInteger),
    )
    op.create_index("ix_jobs_status", "jobs", ["status", "created_ms"])
    op.create_table(
        "idempotency_keys",
        sa.Column("api_key_id", sa.String(40), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer, nullable=False),
        sa.Column("response_body", sa.Text, nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "ingest_log",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("received_ms", sa.BigInteger, nullable=False),
        sa.Column("accepted", sa.Integer, nullable=False),
        sa.Column("duplicate", sa.Integer, nullable=False),
        sa.Column("rejected", sa.Integer, nullable=False),
        sa.Column("flagged", sa.Integer, nullable=False),
        sa.Column("reject_reasons", sa.Text),
        sa.Column("field_sets", sa.Text),
    )
    op.create_index("ix_ingest_log_received", "ingest_log", ["received_ms"])


def downgrade() -> None:
    for table in (
        "ingest_log",
        "idempotency_keys",
        "jobs",
        "conversations",
        "reviews",
        "identities",
        "users",
        "events",
        "api_keys",
    ):
        op.drop_table(table)
