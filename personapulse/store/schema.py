"""Tables of the store (SQLAlchemy Core).

Times are stored as integer epoch milliseconds (``*_ms``): portable across SQLite and PostgreSQL,
cheap to index and to load into pandas. JSON payloads are stored as text (orjson-encoded) so the same
schema works on every backend. Alembic migrations in ``personapulse/migrations`` create these tables;
this module is the single description the code reads and writes through.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData()

# Bit flags on events: garbage is named, stored for the data-quality report, and excluded from analytics.
FLAG_MISSING_TIMESTAMP = 1
FLAG_FUTURE_TIMESTAMP = 2
FLAG_ANCIENT_TIMESTAMP = 4
# Before this (2000-01-01) a behavioural event is a clock or parsing error, not history.
EARLIEST_PLAUSIBLE_MS = 946_684_800_000

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("prefix", String(16), nullable=False, unique=True),
    Column("key_hash", String(64), nullable=False),
    Column("scopes", String(200), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("revoked_ms", BigInteger),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(200), nullable=False, unique=True),
    Column("source_format", String(20), nullable=False),
    Column("type", String(20), nullable=False),
    Column("event", String(300)),
    Column("user_id", String(200)),
    Column("anonymous_id", String(200)),
    Column("ts_ms", BigInteger, nullable=False),
    Column("received_ms", BigInteger, nullable=False),
    Column("flags", Integer, nullable=False, default=0),
    Column("session_id", String(200)),
    Column("page_path", String(2000)),
    Column("page_url", String(4000)),
    Column("referrer", String(4000)),
    Column("utm_source", String(300)),
    Column("utm_medium", String(300)),
    Column("utm_campaign", String(300)),
    Column("utm_term", String(300)),
    Column("utm_content", String(300)),
    Column("revenue", Float),
    Column("currency", String(10)),
    Column("properties", Text),
    Index("ix_events_ts", "ts_ms"),
    # Partial (revision 0004_ingest_speed): readers look ids up with = / IN, never for NULL.
    Index(
        "ix_events_user",
        "user_id",
        sqlite_where=text("user_id IS NOT NULL"),
        postgresql_where=text("user_id IS NOT NULL"),
    ),
    Index(
        "ix_events_anon",
        "anonymous_id",
        sqlite_where=text("anonymous_id IS NOT NULL"),
        postgresql_where=text("anonymous_id IS NOT NULL"),
    ),
    # Only the flagged (garbage) events, so the data-quality report counts them without reading
    # the table, and a clean event writes no entry (revision 0009).
    Index(
        "ix_events_flagged",
        "flags",
        sqlite_where=text("flags != 0"),
        postgresql_where=text("flags != 0"),
    ),
)

users = Table(
    "users",
    metadata,
    Column("user_id", String(200), primary_key=True),
    Column("email", String(320)),
    Column("traits", Text),
    Column("first_seen_ms", BigInteger),
    Column("updated_ms", BigInteger, nullable=False),
    Index("ix_users_email", "email"),
)

# alias_id (an anonymous id or a former user id) belongs to user_id. Chains are resolved on write, so
# one lookup gives the canonical person.
identities = Table(
    "identities",
    metadata,
    Column("alias_id", String(200), primary_key=True),
    Column("user_id", String(200), nullable=False),
    Column("source", String(20), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Index("ix_identities_user", "user_id"),
)

reviews = Table(
    "reviews",
    metadata,
    Column("review_id", String(200), primary_key=True),
    Column("source", String(20), nullable=False),
    Column("external_id", String(200)),
    Column("user_id", String(200)),
    Column("email", String(320)),
    Column("author", String(300)),
    Column("rating", Float),
    Column("title", Text),
    Column("text", Text, nullable=False),
    Column("product", String(300)),
    Column("language", String(20)),
    Column("created_ms", BigInteger),
    Column("received_ms", BigInteger, nullable=False),
    Index("ix_reviews_user", "user_id"),
    Index("ix_reviews_created", "created_ms"),
)

conversations = Table(
    "conversations",
    metadata,
    Column("conversation_id", String(200), primary_key=True),
    Column("source", String(20), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("user_id", String(200)),
    Column("email", String(320)),
    Column("contact_id", String(200)),
    Column("subject", Text),
    Column("status", String(50)),
    Column("messages", Text, nullable=False),
    Column("customer_text", Text, nullable=False),
    Column("created_ms", BigInteger),
    Column("received_ms", BigInteger, nullable=False),
    Index("ix_conversations_user", "user_id"),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("kind", String(50), nullable=False),
    Column("status", String(20), nullable=False),
    Column("params", Text),
    Column("result", Text),
    Column("error", Text),
    Column("attempts", Integer, nullable=False, default=0),
    Column("locked_by", String(100)),
    Column("created_ms", BigInteger, nullable=False),
    Column("started_ms", BigInteger),
    Column("heartbeat_ms", BigInteger),
    Column("finished_ms", BigInteger),
    Index("ix_jobs_status", "status", "created_ms"),
)

# A replayed request (same Idempotency-Key) is answered from here.
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("api_key_id", String(40), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status_code", Integer, nullable=False),
    Column("response_body", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    # Retention prunes by age (revision 0008).
    Index("ix_idempotency_keys_created", "created_ms"),
)

# The data-quality report's counts per minute, kind and source (revision 0007): one upsert per
# ingestion request, so the history grows with time and sources, not with requests (duplicates and
# rejects are not stored as data, so they are counted here).
ingest_counts = Table(
    "ingest_counts",
    metadata,
    Column("bucket_ms", BigInteger, primary_key=True),  # the minute the requests arrived in
    Column("kind", String(20), primary_key=True),
    Column("source", String(20), primary_key=True),
    Column("requests", Integer, nullable=False),
    Column("accepted", Integer, nullable=False),
    Column("duplicate", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
    Column("flagged", Integer, nullable=False),
    sqlite_with_rowid=False,
)

# Requests worth a closer look: every one that had rejected items (with the reasons), and a sample of
# the others' field sets (every batch; one single-item request per FIELD_SET_SAMPLE_SECONDS per
# process, kind and source, its counts scaled to stand for the ones skipped; writes.py). Before
# revision 0007, every request.
ingest_log = Table(
    "ingest_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False),
    Column("source", String(20), nullable=False),
    Column("received_ms", BigInteger, nullable=False),
    Column("accepted", Integer, nullable=False),
    Column("duplicate", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
    Column("flagged", Integer, nullable=False, default=0),
    Column("reject_reasons", Text),
    Column("field_sets", Text),
    Index("ix_ingest_log_received", "received_ms"),
)

# --- derived data (revision 0002) --------------------------------------------------------------

review_classes = Table(
    "review_classes",
    metadata,
    Column("review_id", String(200), primary_key=True),
    Column("sentiment_label", String(10), nullable=False),
    Column("sentiment_score", Float, nullable=False),
    Column("pain_points", Text, nullable=False),
    Column("motivations", Text, nullable=False),
    Column("keywords", Text, nullable=False),
    Column("model_version", String(40), nullable=False),
    Column("classified_ms", BigInteger, nullable=False),
)

conversation_classes = Table(
    "conversation_classes",
    metadata,
    Column("conversation_id", String(200), primary_key=True),
    Column("sentiment_label", String(10), nullable=False),
    Column("sentiment_score", Float, nullable=False),
    Column("pain_points", Text, nullable=False),
    Column("motivations", Text, nullable=False),
    Column("keywords", Text, nullable=False),
    Column("intents", Text, nullable=False),
    Column("model_version", String(40), nullable=False),
    Column("classified_ms", BigInteger, nullable=False),
)

# Exactly one version has status "current"; a refresh switches it in one transaction, so readers
# see the old personas or the new ones, never half of each.
persona_versions = Table(
    "persona_versions",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("seq", Integer, nullable=False, unique=True),
    Column("status", String(20), nullable=False),
    Column("reliable", Boolean, nullable=False),
    Column("k", Integer, nullable=False),
    Column("method", String(40), nullable=False),
    Column("gate", Text, nullable=False),
    Column("candidates", Text, nullable=False),
    Column("provenance", Text, nullable=False),
    Column("model_state", Text, nullable=False),
    Column("appeared", Text, nullable=False),
    Column("vanished", Text, nullable=False),
    Column("job_id", String(40)),
    Column("created_ms", BigInteger, nullable=False),
    Index("ix_persona_versions_status", "status"),
)

personas = Table(
    "personas",
    metadata,
    Column("version_id", String(40), primary_key=True),
    Column("persona_id", String(40), primary_key=True),
    Column("label", String(300), nullable=False),
    Column("size", Integer, nullable=False),
    Column("share", Float, nullable=False),
    Column("is_negative", Boolean, nullable=False),
    Column("profile", Text, nullable=False),
    Column("centroid", Text, nullable=False),
)

# What people own about a persona (names, owners, interview notes): it outlives every refit.
persona_meta = Table(
    "persona_meta",
    metadata,
    Column("persona_id", String(40), primary_key=True),
    Column("display_name", String(300)),
    Column("owner", String(300)),
    Column("interview_notes", Text),
    Column("qualitative_insights", Text),
    Column("do_not_target", Boolean),
    Column("first_version_id", String(40), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)

assignments = Table(
    "assignments",
    metadata,
    Column("version_id", String(40), primary_key=True),
    Column("person_id", String(200), primary_key=True),
    Column("persona_id", String(40), nullable=False),
    Column("probability", Float, nullable=False),
    Column("probabilities", Text, nullable=False),
    Index("ix_assignments_persona", "version_id", "persona_id"),
)

# --- dynamic personas (revision 0003) ----------------------------------------------------------

hooks = Table(
    "hooks",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("target_url", String(2000), nullable=False),
    Column("event", String(60), nullable=False),
    Column("secret", String(100), nullable=False),
    Column("api_key_id", String(40)),
    Column("active", Boolean, nullable=False),
    Column("disabled_reason", String(300)),
    Column("created_ms", BigInteger, nullable=False),
    Index("ix_hooks_event", "event", "active"),
)

# Every domain event the service emitted (also the samples Zapier's performList shows).
emitted_events = Table(
    "emitted_events",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("event_type", String(60), nullable=False),
    Column("payload", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Index("ix_emitted_events_type", "event_type", "created_ms"),
)

# The durable outbox: one row per (event, subscription), written in the transaction that caused
# the event, delivered and retried by the worker.
outbox = Table(
    "outbox",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("hook_id", String(40), nullable=False),
    Column("event_id", String(40), nullable=False),
    Column("event_type", String(60), nullable=False),
    Column("payload", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_ms", BigInteger, nullable=False),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    Column("created_ms", BigInteger, nullable=False),
    Column("delivered_ms", BigInteger),
    Index("ix_outbox_due", "status", "next_attempt_ms"),
)

delivery_log = Table(
    "delivery_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("outbox_id", String(40), nullable=False),
    Column("hook_id", String(40), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("status_code", Integer),
    Column("error", Text),
    Column("duration_ms", Integer, nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Index("ix_delivery_log_hook", "hook_id", "at_ms"),
    Index("ix_delivery_log_at", "at_ms"),  # retention prunes by age (revision 0008)
)

shifts = Table(
    "shifts",
    metadata,
    Column("id", String(80), primary_key=True),
    Column("version_id", String(40), nullable=False),
    Column("persona_id", String(40)),
    Column("kind", String(40), nullable=False),
    Column("label", String(200)),
    Column("severity", String(20), nullable=False),
    Column("summary", Text, nullable=False),
    Column("evidence", Text, nullable=False),
    Column("detected_ms", BigInteger, nullable=False),
    Index("ix_shifts_detected", "detected_ms"),
)

recommendations = Table(
    "recommendations",
    metadata,
    Column("id", String(80), primary_key=True),
    Column("version_id", String(40), primary_key=True),
    Column("persona_id", String(40)),
    Column("kind", String(60), nullable=False),
    Column("title", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("priority", String(20), nullable=False),
    Column("evidence", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)

persona_cards = Table(
    "persona_cards",
    metadata,
    Column("version_id", String(40), primary_key=True),
    Column("persona_id", String(40), primary_key=True),
    Column("backend", String(40), nullable=False),
    Column("card", Text, nullable=False),
    Column("facts", Text, nullable=False),
    Column("grounding", Text, nullable=False),
    Column("rejection", Text),
    Column("created_ms", BigInteger, nullable=False),
)

llm_cache = Table(
    "llm_cache",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("answer", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)


# --- coalesced rescoring (revision 0004_ingest_speed) -----------------------------------------

# People whose behaviour changed since they were last scored against the current personas. Ingestion
# marks them in its own transaction (one row per person however many requests touch them); one
# worker job rescores them in chunks and clears each mark it covered (a mark made meanwhile bumps
# ``version`` and survives).
dirty_people = Table(
    "dirty_people",
    metadata,
    Column("person_ref", String(320), primary_key=True),
    Column("marked_ms", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
    Index("ix_dirty_people_marked", "marked_ms"),
)


# --- Slack alerts through the outbox (revision 0006_dynamic) -----------------------------------

# One row per Slack message (a shift, or a digest of several), written with the persona version
# that found the shifts; attempts are logged in delivery_log under hook_id "slack".
slack_outbox = Table(
    "slack_outbox",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("webhook_key", String(40), nullable=False),
    Column("webhook_url", String(2000), nullable=False),
    Column("payload", Text, nullable=False),
    Column("shift_ids", Text, nullable=False),
    Column("digest", Boolean, nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_ms", BigInteger, nullable=False),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    Column("created_ms", BigInteger, nullable=False),
    Column("delivered_ms", BigInteger),
    Index("ix_slack_outbox_due", "status", "next_attempt_ms"),
)

# The send gate: no message to a webhook before next_send_ms (one a second, across processes).
slack_webhooks = Table(
    "slack_webhooks",
    metadata,
    Column("webhook_key", String(40), primary_key=True),
    Column("next_send_ms", BigInteger, nullable=False),
)

# Incremental journey counters, per person (personapulse.services.journey_counters).
journey_people = Table(
    "journey_people",
    metadata,
    Column("person_id", String(200), primary_key=True),
    Column("path", Text, nullable=False),
    Column("sessions", Integer, nullable=False),
    Column("steps", Integer, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)

journey_transitions = Table(
    "journey_transitions",
    metadata,
    Column("person_id", String(200), primary_key=True),
    Column("step_number", Integer, primary_key=True),
    Column("source", String(1000), primary_key=True),
    Column("target", String(1000), primary_key=True),
    Column("count", Integer, nullable=False),
)

journey_step_counts = Table(
    "journey_step_counts",
    metadata,
    Column("person_id", String(200), primary_key=True),
    Column("step", String(1000), primary_key=True),
    Column("count", Integer, nullable=False),
)

# One row per erasure request (revision 0010): what was deleted and scrubbed, never whom. The subject
# is a salted SHA-256 of the id asked for (personapulse.services.erasure.subject_hash).
erasures = Table(
    "erasures",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("subject_hash", String(64), nullable=False),
    Column("salt", String(32), nullable=False),
    Column("found", Boolean, nullable=False),
    Column("requested_by", String(100), nullable=False),
    Column("counts", Text, nullable=False),
    Column("airtable_job_id", String(40)),
    Column("created_ms", BigInteger, nullable=False),
    Index("ix_erasures_created", "created_ms"),
)

# Ids whose data ingestion drops (revision 0011; services/suppression.py): a person erased and
# suppressed is not stored again when their sources keep sending. Keyed SHA-256 of each id, never
# the id; the key is the installation's, in store_settings.
suppressions = Table(
    "suppressions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subject_hash", String(64), nullable=False, unique=True),
    Column("erasure_id", String(40)),
    Column("created_by", String(100), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)

# Values the store keeps for itself (revision 0011): the suppression list's hashing key.
store_settings = Table(
    "store_settings",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)
