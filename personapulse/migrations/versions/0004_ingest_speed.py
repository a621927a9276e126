"""Ingest speed: coalesced rescoring (dirty_people) and partial indexes on events' ids.

dirty_people: ingestion marks the people to rescore, one worker job drains them.
ix_events_user / ix_events_anon become partial (only rows that have the id): every reader compares
the column with ``=`` or ``IN``, which implies NOT NULL (SQLite and PostgreSQL both use the partial
index then), and an event that has only one of the two ids no longer writes an entry for the other.

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
    for name, column in (("ix_events_user", "user_id"), ("ix_events_anon", "anonymous_id")):
        op.drop_index(name, table_name="events")
        where = sa.text(f"{column} IS NOT NULL")
        op.create_index(name, "events", [column], sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    for name, column in (("ix_events_user", "user_id"), ("ix_events_anon", "anonymous_id")):
        op.drop_index(name, table_name="events")
        op.create_index(name, "events", [column])
    op.drop_index("ix_dirty_people_marked", table_name="dirty_people")
    op.drop_table("dirty_people")
