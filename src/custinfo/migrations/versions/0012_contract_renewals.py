"""contract renewals as dated entries, a termination reason, and an index for sorting customers by update

Revision ID: 0012_contract_renewals
Revises: 0010_audit_mac
Create Date: 2026-12-07

A renewal changes the contract's end date and amount; the entry keeps what they were before and
after and on which day it was renewed, so the contract's own row shows the current term while its
renewals show how it got there. A termination keeps its reason beside its date. The customer list
can be sorted by the time of the last change: the index (updated_at, id) serves that order and its
tie-breaker without sorting the whole table.

The termination reason is contract data like the rest of the contract: the field catalogue in force
gets it at the level of the termination date (a new catalogue version, so the change is visible in
its history), since a field the catalogue does not name would be shown in clear to every role.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

import custinfo.core.types

revision = "0012_contract_renewals"
down_revision = "0011_accounts"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "contract_renewals",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("customer_id", BIG_ID, nullable=False),
        sa.Column("contract_id", BIG_ID, nullable=False),
        sa.Column("renewed_on", sa.Date(), nullable=False),
        sa.Column("previous_ends_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("previous_amount", custinfo.core.types.Money(), nullable=True),
        sa.Column("amount", custinfo.core.types.Money(), nullable=False),
        sa.Column("created_at", custinfo.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(), nullable=True),
        sa.Column("updated_at", custinfo.core.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_contract_renewals_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contract_id"],
            ["contracts.id"],
            name=op.f("fk_contract_renewals_contract_id_contracts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_renewals")),
    )
    op.create_index(
        "ix_contract_renewals_contract_id_renewed_on", "contract_renewals", ["contract_id", "renewed_on"]
    )
    op.create_index(op.f("ix_contract_renewals_customer_id"), "contract_renewals", ["customer_id"])
    with op.batch_alter_table("contracts") as batch:
        batch.add_column(sa.Column("termination_reason", sa.Text(), nullable=True))
    op.create_index("ix_customers_updated_at_id", "customers", ["updated_at", "id"])
    _catalogue_names_the_reason()


def _catalogue_names_the_reason() -> None:
    """Add contract.termination_reason to the catalogue in force (as a new version), if it lacks it."""
    versions = sa.table(
        "field_catalogue_versions",
        sa.column("id", sa.BigInteger()),
        sa.column("version", sa.Integer()),
        sa.column("document", sa.JSON()),
        sa.column("reason", sa.Text()),
        sa.column("author", sa.String()),
        sa.column("created_at", custinfo.core.types.UTCDateTime(timezone=True)),
    )
    bind = op.get_bind()
    latest = bind.execute(
        sa.select(versions.c.version, versions.c.document).order_by(versions.c.version.desc()).limit(1)
    ).first()
    if latest is None:
        return  # nothing seeded yet: the shipped catalogue already names the field
    document: dict[str, Any] = dict(latest.document)
    contract = dict(document.get("fields", {}).get("contract", {}))
    if "termination_reason" in contract:
        return
    level = contract.get("terminated_on", {}).get("level", "L2")
    contract["termination_reason"] = {"level": level, "type": "text"}
    document["fields"] = {**document.get("fields", {}), "contract": contract}
    op.bulk_insert(
        versions,
        [
            {
                "version": latest.version + 1,
                "document": document,
                "reason": "合同终止原因纳入字段分级（与解约日期同级）",
                "author": "system",
                "created_at": datetime.now(UTC),
            }
        ],
    )


def downgrade() -> None:
    op.drop_index("ix_customers_updated_at_id", table_name="customers")
    with op.batch_alter_table("contracts", recreate="never") as batch:  # a copy would cascade
        batch.drop_column("termination_reason")
    op.drop_index(op.f("ix_contract_renewals_customer_id"), table_name="contract_renewals")
    op.drop_index("ix_contract_renewals_contract_id_renewed_on", table_name="contract_renewals")
    op.drop_table("contract_renewals")
