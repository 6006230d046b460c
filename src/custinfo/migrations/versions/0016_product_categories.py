"""product category vocabulary (categories, raw order values mapped to them, versions), seeded from the orders

Revision ID: 0016_product_categories
Revises: 0013_latest_evaluation
Create Date: 2026-12-08

The preference tags follow the company's own product categories (decision 0015). An existing install
gets a category for every distinct `orders.category`; a category whose name has a preference tag
already (「偏好传感器」 of the shipped demo taxonomy) takes that tag over, so every customer keeps it:
the next run gives it from the category's rule, which supersedes the hand-written one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import custinfo.core.types
from custinfo.classification.categories.repository import seed_from_orders  # the same seeding as the UI

revision = "0016_product_categories"
down_revision = "0015_external_ids"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = custinfo.core.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "product_categories",
        sa.Column("id", BigId, nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("tag_code", sa.String(length=60), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["tag_code"], ["tags.code"], name=op.f("fk_product_categories_tag_code_tags")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_categories")),
        sa.UniqueConstraint("code", name=op.f("uq_product_categories_code")),
        sa.UniqueConstraint("name_zh", name=op.f("uq_product_categories_name_zh")),
        sa.UniqueConstraint("tag_code", name=op.f("uq_product_categories_tag_code")),
    )
    op.create_table(
        "product_category_values",
        sa.Column("id", BigId, nullable=False),
        sa.Column("value", sa.String(length=100), nullable=False),
        sa.Column("category_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["product_categories.id"],
            name=op.f("fk_product_category_values_category_id_product_categories"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_category_values")),
        sa.UniqueConstraint("value", name=op.f("uq_product_category_values_value")),
    )
    op.create_index(
        op.f("ix_product_category_values_category_id"), "product_category_values", ["category_id"]
    )
    op.create_table(
        "product_category_versions",
        sa.Column("id", BigId, nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(length=40), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("author", sa.String(length=64), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_category_versions")),
        sa.UniqueConstraint("number", name=op.f("uq_product_category_versions_number")),
    )
    seed_from_orders(op.get_bind(), "migration")


def downgrade() -> None:
    """Drop the vocabulary; the preference tags it created stay (their assignments refer to them)."""
    op.drop_table("product_category_versions")
    op.drop_index(op.f("ix_product_category_values_category_id"), table_name="product_category_values")
    op.drop_table("product_category_values")
    op.drop_table("product_categories")
