"""The history that feeds classification: orders, contracts, interactions, engagement."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from custinfo.core.db import Base, BigId, Timestamped
from custinfo.core.types import Money, UTCDateTime
from custinfo.core.uow import Tracked
from custinfo.core.versioning import Versioned

PROVIDED_BY_CHECK = "provided_by IN ('customer', 'system')"


class Order(Base, Timestamped, Versioned, Tracked):
    """A purchase: product, category, quantity, amount in yuan, date."""

    __tablename__ = "orders"
    __history_entity__ = "order"
    __table_args__ = (
        # amount and category make it covering for classification's two per-customer passes over orders
        # (totals by window, category bought most), which then never read the table rows
        Index("ix_orders_customer_id_ordered_on", "customer_id", "ordered_on", "amount", "category"),
        CheckConstraint(PROVIDED_BY_CHECK, name="provided_by"),
        CheckConstraint("quantity > 0", name="quantity"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # another system's id of this record: optional, unique per kind
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True, index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    ordered_on: Mapped[date]
    amount: Mapped[Decimal] = mapped_column(Money)
    product: Mapped[str] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(100))
    quantity: Mapped[int] = mapped_column(default=1)
    provided_by: Mapped[str] = mapped_column(String(10), default="system")


class Contract(Base, Timestamped, Versioned, Tracked):
    """A contract / cooperation: negotiating, active, renewed or terminated."""

    __tablename__ = "contracts"
    __history_entity__ = "contract"
    __table_args__ = (
        Index("ix_contracts_customer_id_status", "customer_id", "status"),
        CheckConstraint("status IN ('negotiating', 'active', 'renewed', 'terminated')", name="status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # another system's id of this record: optional, unique per kind
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True, index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    title: Mapped[str | None] = mapped_column(String(200))
    signed_on: Mapped[date | None]
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    amount: Mapped[Decimal | None] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(12))
    terminated_on: Mapped[date | None]
    termination_reason: Mapped[str | None] = mapped_column(Text)


class ContractRenewal(Base, Timestamped):
    """One renewal of a contract, kept as a dated entry: the term and amount before and after it.

    Append-only and not `Tracked`: the renewal's change of term and amount is the contract's own
    tracked update (history and audit, under the contract fields' levels), and the act itself is
    audited as a `ContractRenewed` event that carries ids only.
    """

    __tablename__ = "contract_renewals"
    __table_args__ = (Index("ix_contract_renewals_contract_id_renewed_on", "contract_id", "renewed_on"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # customer_id besides contract_id: every customer-owned table carries it (scope joins, sharding)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"))
    renewed_on: Mapped[date]
    previous_ends_on: Mapped[date | None]
    ends_on: Mapped[date]
    previous_amount: Mapped[Decimal | None] = mapped_column(Money)
    amount: Mapped[Decimal] = mapped_column(Money)


class Interaction(Base, Timestamped, Versioned, Tracked):
    """A visit, call, consultation, complaint or after-sales contact."""

    __tablename__ = "interactions"
    __history_entity__ = "interaction"
    __table_args__ = (
        Index("ix_interactions_customer_id_occurred_at", "customer_id", "occurred_at"),
        CheckConstraint(PROVIDED_BY_CHECK, name="provided_by"),
        CheckConstraint("satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5", name="satisfaction"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # another system's id of this record: optional, unique per kind
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True, index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str | None] = mapped_column(String(20))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    topic: Mapped[str | None] = mapped_column(String(200))
    resolution: Mapped[str | None] = mapped_column(Text)
    satisfaction: Mapped[int | None]
    provided_by: Mapped[str] = mapped_column(String(10), default="customer")


class EngagementEvent(Base):
    """A browsing event (product viewed, new product viewed): passively collected by default."""

    __tablename__ = "engagement_events"
    __table_args__ = (
        Index("ix_engagement_events_customer_id_occurred_at", "customer_id", "occurred_at"),
        CheckConstraint(PROVIDED_BY_CHECK, name="provided_by"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    event_type: Mapped[str] = mapped_column(String(30))
    product: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[str | None] = mapped_column(String(100))
    is_new_product: Mapped[bool] = mapped_column(default=False)
    dwell_seconds: Mapped[int | None]
    provided_by: Mapped[str] = mapped_column(String(10), default="system")
