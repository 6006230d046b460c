"""classification's derived tables: no run-id index, no foreign key to customers, a covering open-tag index

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07

A full run counts what it changed while it writes, so nothing reads `tag_assignments.run_id`
through an index any more. The foreign keys of `tag_assignments` and `classification_states` to
`customers` go: a first run at a million customers checked 9.4 M assignment rows and 1 M state
rows against `customers` (7 s on SQLite, where the check cannot be switched off inside a
transaction; 4 s to re-validate plus 5 s of row triggers on PostgreSQL). Classification deletes a
deleted customer's rows itself, in the same transaction, through its subscriber to the
customer's deletion (decision 0011).

The open-tag index gains `valid_to` (always NULL in it): SQLite uses a partial index as a
covering one only when it holds every column the query names, and counting the open rows per tag
(before and after every full run, and for the tag catalogue) read 9.4 M table rows without it
(4.9 s against 0.5 s at a million customers).

SQLite cannot drop a foreign key in place: both tables are rebuilt (created anew, rows copied,
old table dropped, new one renamed, indexes re-created as the models declare them).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import custinfo.core.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = custinfo.core.types.UTCDateTime(timezone=True)
OPEN = sa.text("valid_to IS NULL")
CLOSED = sa.text("closed_run_id IS NOT NULL")
FOREIGN_KEYS = {
    "tag_assignments": "fk_tag_assignments_customer_id_customers",
    "classification_states": "fk_classification_states_customer_id_customers",
}


def _assignments(name: str, metadata: sa.MetaData, *constraints: sa.Constraint) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("id", BigId, nullable=False),
        sa.Column("customer_id", BigId, nullable=False),
        sa.Column("tag_code", sa.String(length=60), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("rule_id", sa.String(length=80), nullable=True),
        sa.Column("rule_set_version_id", BigId, nullable=True),
        sa.Column("features", sa.JSON(), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("valid_from", Stamp, nullable=False),
        sa.Column("valid_to", Stamp, nullable=True),
        sa.Column("assigned_by", sa.String(length=64), nullable=False),
        sa.Column("run_id", BigId, nullable=True),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.Column("closed_run_id", BigId, nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_tag_assignments"),
        *constraints,
    )


def _open_tag_index(covering: bool) -> None:
    columns = ["tag_code", "customer_id", "valid_to"] if covering else ["tag_code", "customer_id"]
    op.create_index(
        "ix_tag_assignments_open_tag", "tag_assignments", columns, sqlite_where=OPEN, postgresql_where=OPEN
    )


def _assignment_indexes(as_in_0007: bool) -> None:
    """The indexes of tag_assignments as this revision declares them, or as 0007 did."""
    op.create_index("ix_tag_assignments_customer_id_valid_to", "tag_assignments", ["customer_id", "valid_to"])
    op.create_index("ix_tag_assignments_tag_code_valid_from", "tag_assignments", ["tag_code", "valid_from"])
    op.create_index(
        "ix_tag_assignments_open",
        "tag_assignments",
        ["customer_id", "tag_code"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    _open_tag_index(covering=not as_in_0007)
    op.create_index(
        "ix_tag_assignments_closed_run_id",
        "tag_assignments",
        ["closed_run_id"],
        sqlite_where=CLOSED,
        postgresql_where=CLOSED,
    )
    if as_in_0007:
        op.create_index("ix_tag_assignments_run_id", "tag_assignments", ["run_id"])


def _states(name: str, metadata: sa.MetaData, *constraints: sa.Constraint) -> sa.Table:
    return sa.Table(
        name,
        metadata,
        sa.Column("customer_id", BigId, nullable=False),
        sa.Column("signature", sa.String(length=400), nullable=False),
        sa.Column("run_id", BigId, nullable=True),
        sa.Column("code", sa.String(length=300), nullable=True),
        sa.Column("level1", sa.String(length=300), nullable=True),
        sa.Column("level2", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("customer_id", name="pk_classification_states"),
        *constraints,
    )


def _customer_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["customer_id"], ["customers.id"], name=FOREIGN_KEYS[table], ondelete="CASCADE"
    )


def _rebuild_sqlite(with_foreign_keys: bool) -> None:
    """Re-create both tables with or without their foreign key, keeping every row."""
    bind = op.get_bind()
    for table, build in (("tag_assignments", _assignments), ("classification_states", _states)):
        metadata = sa.MetaData()
        sa.Table(
            "customers", metadata, sa.Column("id", BigId, primary_key=True)
        )  # the key's target, not created
        constraints = [_customer_fk(table)] if with_foreign_keys else []
        new = build(f"_new_{table}", metadata, *constraints)
        new.create(bind)
        names = ", ".join(c.name for c in new.columns)
        kept = " WHERE customer_id IN (SELECT id FROM customers)" if with_foreign_keys else ""
        op.execute(f"INSERT INTO _new_{table} ({names}) SELECT {names} FROM {table}{kept}")
        op.drop_table(table)  # its indexes go with it
        op.rename_table(f"_new_{table}", table)
    op.create_index("ix_classification_states_code", "classification_states", ["code"])


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(with_foreign_keys=False)
        _assignment_indexes(as_in_0007=False)
        return
    op.drop_index("ix_tag_assignments_run_id", table_name="tag_assignments")
    op.drop_index("ix_tag_assignments_open_tag", table_name="tag_assignments")
    _open_tag_index(covering=True)
    for table, name in FOREIGN_KEYS.items():
        op.drop_constraint(name, table, type_="foreignkey")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite(with_foreign_keys=True)
        _assignment_indexes(as_in_0007=True)
        return
    for table, name in FOREIGN_KEYS.items():
        op.execute(
            f"DELETE FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = t.customer_id)"
        )
        op.create_foreign_key(name, table, "customers", ["customer_id"], ["id"], ondelete="CASCADE")
    op.create_index("ix_tag_assignments_run_id", "tag_assignments", ["run_id"])
    op.drop_index("ix_tag_assignments_open_tag", table_name="tag_assignments")
    _open_tag_index(covering=False)
