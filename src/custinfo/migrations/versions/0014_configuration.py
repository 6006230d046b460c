"""editable vocabularies: versioned terms and synonyms, seeded from the shipped file

Revision ID: 0014_configuration
Revises: 0010_audit_mac
Create Date: 2026-12-07

Each vocabulary of `defaults/vocabulary.json` becomes stored version 1 (author "defaults");
edits add versions, never change one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from custinfo import defaults
from custinfo.core.db import utcnow
from custinfo.core.types import UTCDateTime

revision = "0014_configuration"
down_revision = "0013_latest_evaluation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create vocabulary_versions and store the shipped vocabularies as version 1."""
    table = op.create_table(
        "vocabulary_versions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("synonyms", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("name", "number", name="uq_vocabulary_versions_name"),
    )
    op.create_index("ix_vocabulary_versions_name", "vocabulary_versions", ["name"])
    now = utcnow()
    rows = [
        {
            "name": name,
            "number": 1,
            "terms": [{**t, "retired": False} for t in spec["terms"]],
            "synonyms": spec.get("synonyms", {}),
            "reason": "",
            "created_by": "defaults",
            "created_at": now,
        }
        for name, spec in defaults.load("vocabulary.json").items()
        if isinstance(spec, dict) and "terms" in spec
    ]
    if rows:
        op.bulk_insert(table, rows)


def downgrade() -> None:
    """Drop the stored vocabularies (the shipped file is used again)."""
    op.drop_index("ix_vocabulary_versions_name", table_name="vocabulary_versions")
    op.drop_table("vocabulary_versions")
