"""Review and conversation classes; persona versions, personas, assignments, human persona fields.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_classes",
        sa.Column("review_id", sa.String(200), primary_key=True),
        sa.Column("sentiment_label", sa.String(10), nullable=False),
        sa.Column("sentiment_score", sa.Float, nullable=False),
        sa.Column("pain_points", sa.Text, nullable=False),
        sa.Column("motivations", sa.Text, nullable=False),
        sa.Column("keywords", sa.Text, nullable=False),
        sa.Column("model_version", sa.String(40), nullable=False),
        sa.Column("classified_ms", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "conversation_classes",
        sa.Column("conversation_id", sa.String(200), primary_key=True),
        sa.Column("sentiment_label", sa.String(10), nullable=False),
        sa.Column("sentiment_score", sa.Float, nullable=False),
        sa.Column("pain_points", sa.Text, nullable=False),
        sa.Column("motivations", sa.Text, nullable=False),
        sa.Column("keywords", sa.Text, nullable=False),
        sa.Column("intents", sa.Text, nullable=False),
        sa.Column("model_version", sa.String(40), nullable=False),
        sa.Column("classified_ms", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "persona_versions",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False, unique=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reliable", sa.Boolean, nullable=False),
        sa.Column("k", sa.Integer, nullable=False),
        sa.Column("method", sa.String(40), nullable=False),
        sa.Column("gate", sa.Text, nullable=False),
        sa.Column("candidates", sa.Text, nullable=False),
        sa.Column("provenance", sa.Text, nullable=False),
        sa.Column("model_state", sa.Text, nullable=False),
        sa.Column("appeared", sa.Text, nullable=False),
        sa.Column("vanished", sa.Text, nullable=False),
        sa.Column("job_id", sa.String(40)),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_persona_versions_status", "persona_versions", ["status"])
    op.create_table(
        "personas",
        sa.Column("version_id", sa.String(40), primary_key=True),
        sa.Column("persona_id", sa.String(40), primary_key=True),
        sa.Column("label", sa.String(300), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("share", sa.Float, nullable=False),
        sa.Column("is_negative", sa.Boolean, nullable=False),
        sa.Column("profile", sa.Text, nullable=False),
        sa.Column("centroid", sa.Text, nullable=False),
    )
    op.create_table(
        "persona_meta",
        sa.Column("persona_id", sa.String(40), primary_key=True),
        sa.Column("display_name", sa.String(300)),
        sa.Column("owner", sa.String(300)),
        sa.Column("interview_notes", sa.Text),
        sa.Column("qualitative_insights", sa.Text),
        sa.Column("do_not_target", sa.Boolean),
        sa.Column("first_version_id", sa.String(40), nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("updated_ms", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "assignments",
        sa.Column("version_id", sa.String(40), primary_key=True),
        sa.Column("person_id", sa.String(200), primary_key=True),
        sa.Column("persona_id", sa.String(40), nullable=False),
        sa.Column("probability", sa.Float, nullable=False),
        sa.Column("probabilities", sa.Text, nullable=False),
    )
    op.create_index("ix_assignments_persona", "assignments", ["version_id", "persona_id"])


def downgrade() -> None:
    for table in (
        "assignments",
        "persona_meta",
        "personas",
        "persona_versions",
        "conversation_classes",
        "review_classes",
    ):
        op.drop_table(table)
