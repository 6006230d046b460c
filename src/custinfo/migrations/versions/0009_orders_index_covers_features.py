"""the orders index by customer and date also carries amount and category

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

Classification's two passes over the orders of every customer (amounts and counts per window, the
category bought most) read the index in customer order and, without these two columns, every
order row besides: 15 s of a full run's evaluation at ten million orders on SQLite, 10.6 s with
the covering index. Lists of a customer's orders by date use the same leading columns.
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

INDEX = "ix_orders_customer_id_ordered_on"


def upgrade() -> None:
    op.drop_index(INDEX, table_name="orders")
    op.create_index(INDEX, "orders", ["customer_id", "ordered_on", "amount", "category"])


def downgrade() -> None:
    op.drop_index(INDEX, table_name="orders")
    op.create_index(INDEX, "orders", ["customer_id", "ordered_on"])
