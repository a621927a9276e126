"""Ingest counts per minute: the data-quality history stops growing with every request.

Until now each ingestion request wrote one ingest_log row. With one event a request (Segment's HTTP
destination) that log outgrew the events themselves (20,500 single events: 3.3 MB of log and 0.3 MB
of index against 2.7 MB of events), and the report summed all of it. ingest_counts keeps the counts
per minute, kind and source (one upsert a request); ingest_log keeps the requests with rejected items
and a sample of field sets. The existing log is summed into ingest_counts here and kept as it is.

Downgrading drops ingest_counts: the requests logged since are only those ingest_log kept, so the
report of the older code would count fewer.

Revision ID: 0007_ingest_counts
Revises: 0006_dynamic
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_ingest_counts"
down_revision = "0006_dynamic"
branch_labels = None
depends_on = None

MINUTE_MS = 60_000


def upgrade() -> None:
    op.create_table(
        "ingest_counts",
        sa.Column("bucket_ms", sa.BigInteger, primary_key=True),
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("source", sa.String(20), primary_key=True),
        sa.Column("requests", sa.Integer, nullable=False),
        sa.Column("accepted", sa.Integer, nullable=False),
        sa.Column("duplicate", sa.Integer, nullable=False),
        sa.Column("rejected", sa.Integer, nullable=False),
        sa.Column("flagged", sa.Integer, nullable=False),
        sqlite_with_rowid=False,
    )
    op.execute(
        sa.text(
            f"""INSERT INTO ingest_counts
                  (bucket_ms, kind, source, requests, accepted, duplicate, rejected, flagged)
                SELECT (received_ms / {MINUTE_MS}) * {MINUTE_MS}, kind, source, COUNT(*),
                       SUM(accepted), SUM(duplicate), SUM(rejected), SUM(COALESCE(flagged, 0))
                FROM ingest_log
                GROUP BY (received_ms / {MINUTE_MS}) * {MINUTE_MS}, kind, source"""
        )
    )


def downgrade() -> None:
    op.drop_table("ingest_counts")
