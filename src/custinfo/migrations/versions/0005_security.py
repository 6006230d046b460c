"""key ring use, blind indexes, tamper-evident audit log

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27

L3 columns of customers become ciphertext (text); values already present are
encrypted here with the key ring of CUSTINFO_KEY_FILE (`custinfo init` creates it
before upgrading). On SQLite the column types are advisory, so the table is not
rebuilt (a rebuild would cascade through the foreign keys); on PostgreSQL the
types change to TEXT. The audit log is append-only: triggers refuse UPDATE and
DELETE on both databases, and on PostgreSQL PUBLIC loses those privileges too
(docs/security.md: the application role gets SELECT, INSERT only).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import custinfo.core.types
from custinfo.security import crypto

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ENCRYPTED = ("birth_date", "id_number", "address", "registered_address")
PG_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql
"""


def _encrypt_existing(bind: sa.engine.Connection) -> None:
    rows = bind.execute(
        sa.text(
            "SELECT id, "
            + ", ".join(ENCRYPTED)
            + " FROM customers WHERE "
            + " OR ".join(f"{c} IS NOT NULL" for c in ENCRYPTED)
        )
    ).all()
    if not rows:
        return
    ring = crypto.active()
    for row in rows:
        values: dict[str, object] = {"id": row.id}
        for column in ENCRYPTED:
            value = getattr(row, column)
            if value is not None and column == "birth_date" and not isinstance(value, str):
                value = value.isoformat()
            values[column] = None if value is None else ring.encrypt(str(value), f"customers.{column}")
        values["bidx"] = (
            None if row.id_number is None else ring.blind_index(str(row.id_number), "customers.id_number")
        )
        bind.execute(
            sa.text(
                "UPDATE customers SET "
                + ", ".join(f"{c} = :{c}" for c in ENCRYPTED)
                + ", id_number_bidx = :bidx WHERE id = :id"
            ),
            values,
        )


def _decrypt_existing(bind: sa.engine.Connection) -> None:
    rows = bind.execute(
        sa.text(
            "SELECT id, "
            + ", ".join(ENCRYPTED)
            + " FROM customers WHERE "
            + " OR ".join(f"{c} IS NOT NULL" for c in ENCRYPTED)
        )
    ).all()
    if not rows:
        return
    ring = crypto.active()
    for row in rows:
        values: dict[str, object] = {"id": row.id}
        for column in ENCRYPTED:
            value = getattr(row, column)
            values[column] = None if value is None else ring.decrypt(str(value), f"customers.{column}")
        bind.execute(
            sa.text(
                "UPDATE customers SET " + ", ".join(f"{c} = :{c}" for c in ENCRYPTED) + " WHERE id = :id"
            ),
            values,
        )


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    if postgres:
        op.drop_constraint("uq_customers_id_number", "customers", type_="unique")
        op.alter_column("customers", "birth_date", type_=sa.Text(), postgresql_using="birth_date::text")
        for column in ("id_number", "address", "registered_address"):
            op.alter_column("customers", column, type_=sa.Text())
    op.add_column("customers", sa.Column("bank_account", sa.Text(), nullable=True))
    op.add_column("customers", sa.Column("id_number_bidx", sa.String(length=64), nullable=True))
    op.add_column("customers", sa.Column("bank_account_bidx", sa.String(length=64), nullable=True))
    _encrypt_existing(bind)
    op.create_index("uq_customers_id_number_bidx", "customers", ["id_number_bidx"], unique=True)
    op.create_index("ix_customers_bank_account_bidx", "customers", ["bank_account_bidx"], unique=False)

    op.add_column("auth_sessions", sa.Column("scopes", sa.String(length=50), nullable=True))

    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("occurred_at", custinfo.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target_type", sa.String(length=30), nullable=True),
        sa.Column("target_id", sa.String(length=64), nullable=True),
        sa.Column("customer_id", sa.BigInteger(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_log_hash")),
    )
    op.create_index("ix_audit_log_actor_seq", "audit_log", ["actor", "seq"])
    op.create_index("ix_audit_log_customer_id_seq", "audit_log", ["customer_id", "seq"])
    op.create_index("ix_audit_log_action_seq", "audit_log", ["action", "seq"])
    op.create_index("ix_audit_log_occurred_at", "audit_log", ["occurred_at"])
    op.create_index("ix_audit_log_address_occurred_at", "audit_log", ["address", "occurred_at"])
    op.create_table(
        "audit_chain_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_head")),
    )
    op.execute(
        sa.text("INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, 0, :genesis)").bindparams(
            genesis="0" * 64
        )
    )
    if postgres:
        op.execute(PG_FUNCTION)
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_chain_head_keep BEFORE DELETE ON audit_chain_head "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )
        op.execute("REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC")
    else:
        for operation in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{operation.lower()} BEFORE {operation} ON audit_log "
                f"BEGIN SELECT RAISE(ABORT, 'audit_log is append-only ({operation} refused)'); END"
            )
        op.execute(
            "CREATE TRIGGER audit_chain_head_keep BEFORE DELETE ON audit_chain_head "
            "BEGIN SELECT RAISE(ABORT, 'audit_chain_head cannot be deleted'); END"
        )


def downgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    if postgres:
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_chain_head_keep ON audit_chain_head")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    op.drop_table("audit_chain_head")
    op.drop_table("audit_log")
    op.drop_column("auth_sessions", "scopes")
    op.drop_index("ix_customers_bank_account_bidx", table_name="customers")
    op.drop_index("uq_customers_id_number_bidx", table_name="customers")
    _decrypt_existing(bind)
    op.drop_column("customers", "bank_account_bidx")
    op.drop_column("customers", "id_number_bidx")
    op.drop_column("customers", "bank_account")
    if postgres:
        op.alter_column("customers", "registered_address", type_=sa.String(length=300))
        op.alter_column("customers", "address", type_=sa.String(length=300))
        op.alter_column("customers", "id_number", type_=sa.String(length=18))
        op.alter_column("customers", "birth_date", type_=sa.Date(), postgresql_using="birth_date::date")
        op.create_unique_constraint("uq_customers_id_number", "customers", ["id_number"])
