"""the classification code moves from customers into classification_states, with its two halves

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

Classification owns what it derives: the level-1 × level-2 code is stored beside the signature
in the narrow classification_states row (with level1 and level2, so the report is one GROUP BY),
no longer in the wide customers row (rewriting a million of those, with all their indexes, was
most of a first run on PostgreSQL). Existing codes are copied over and split into their halves
with the active rule set: a code is its level-1 tag names, then its level-2 names, joined by the
separator, so its level-1 half is the leading run of parts that are level-1 tag names.

On SQLite the customers table is altered in place (recreate="never", native DROP COLUMN): a
rebuild would drop the table that a dozen others reference with ON DELETE CASCADE.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _split(code: str, separator: str, level1_names: set[str]) -> tuple[str | None, str | None]:
    """(level-1 half, level-2 half) of a stored code."""
    parts = code.split(separator)
    head = 0
    while head < len(parts) and parts[head] in level1_names:
        head += 1
    return separator.join(parts[:head]) or None, separator.join(parts[head:]) or None


def _fill_halves(bind: sa.engine.Connection) -> None:
    definition: Any = bind.scalar(
        sa.text("SELECT definition FROM rule_set_versions WHERE is_active = :yes ORDER BY id LIMIT 1"),
        {"yes": True},
    )
    if isinstance(definition, str):
        definition = json.loads(definition)
    settings = (definition or {}).get("classification_code") or {}
    separator = settings.get("separator", "-")
    dimensions = list(settings.get("level1", []))
    names: set[str] = set()
    if dimensions:
        names = set(
            bind.scalars(
                sa.text("SELECT name_zh FROM tags WHERE dimension IN :dims").bindparams(
                    sa.bindparam("dims", expanding=True)
                ),
                {"dims": dimensions},
            )
        )
    codes = list(
        bind.scalars(sa.text("SELECT DISTINCT code FROM classification_states WHERE code IS NOT NULL"))
    )
    halves = [
        {"code": code, "level1": level1, "level2": level2}
        for code in codes
        for level1, level2 in [_split(code, separator, names)]
    ]
    if halves:
        bind.execute(
            sa.text("UPDATE classification_states SET level1 = :level1, level2 = :level2 WHERE code = :code"),
            halves,
        )


def upgrade() -> None:
    with op.batch_alter_table("classification_states", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("code", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("level1", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("level2", sa.String(length=300), nullable=True))

    # a customer classified before signatures were kept has a code but no state: an empty
    # signature makes the next full run diff it again
    op.execute(
        "INSERT INTO classification_states (customer_id, signature, code) "
        "SELECT id, '', classification_code FROM customers c WHERE classification_code IS NOT NULL "
        "AND NOT EXISTS (SELECT 1 FROM classification_states s WHERE s.customer_id = c.id)"
    )
    op.execute(
        "UPDATE classification_states SET code = (SELECT classification_code FROM customers c "
        "WHERE c.id = classification_states.customer_id)"
    )
    _fill_halves(op.get_bind())
    with op.batch_alter_table("classification_states", recreate="never") as batch_op:
        batch_op.create_index(batch_op.f("ix_classification_states_code"), ["code"])

    with op.batch_alter_table("customers", recreate="never") as batch_op:
        batch_op.drop_index(batch_op.f("ix_customers_classification_code"))
        batch_op.drop_column("classification_code")


def downgrade() -> None:
    with op.batch_alter_table("customers", recreate="never") as batch_op:
        batch_op.add_column(sa.Column("classification_code", sa.String(length=300), nullable=True))
    op.execute(
        "UPDATE customers SET classification_code = (SELECT code FROM classification_states s "
        "WHERE s.customer_id = customers.id)"
    )
    with op.batch_alter_table("customers", recreate="never") as batch_op:
        batch_op.create_index(batch_op.f("ix_customers_classification_code"), ["classification_code"])

    with op.batch_alter_table("classification_states", recreate="never") as batch_op:
        batch_op.drop_index(batch_op.f("ix_classification_states_code"))
        batch_op.drop_column("level2")
        batch_op.drop_column("level1")
        batch_op.drop_column("code")
