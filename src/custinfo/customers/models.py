"""Customers (individual and company), contacts and the needs log."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from custinfo.core.db import Base, BigId, Timestamped, utcnow
from custinfo.core.types import Money, UTCDateTime
from custinfo.core.uow import Tracked
from custinfo.core.versioning import Versioned
from custinfo.security.encrypted import EncryptedDate, EncryptedText, keep_blind_index


class Customer(Base, Timestamped, Versioned, Tracked):
    """One customer; individual and company fields share the row (the other kind's stay NULL)."""

    __tablename__ = "customers"
    __history_entity__ = "customer"
    __history_exclude__ = Tracked.__history_exclude__ | {"id_number_bidx", "bank_account_bidx"}
    __table_args__ = (
        CheckConstraint("kind IN ('individual', 'company')", name="kind"),
        Index("ix_customers_owner_id_id", "owner_id", "id"),
        Index("ix_customers_department_id_id", "department_id", "id"),
        Index("ix_customers_kind_id", "kind", "id"),
        Index("ix_customers_industry_id", "industry", "id"),
        Index("ix_customers_updated_at_id", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # another system's id of this customer (web shop, ERP): optional, unique among customers
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True, index=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(200), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    source_channel: Mapped[str] = mapped_column(String(30))
    purpose: Mapped[str] = mapped_column(String(30))
    mobile: Mapped[str | None] = mapped_column(String(20), index=True)
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    region: Mapped[str | None] = mapped_column(String(50))

    # individual
    nickname: Mapped[str | None] = mapped_column(String(100))
    gender: Mapped[str | None] = mapped_column(String(10))
    birth_date: Mapped[date | None] = mapped_column(EncryptedDate("customers.birth_date"))
    id_number: Mapped[str | None] = mapped_column(EncryptedText("customers.id_number"))
    address: Mapped[str | None] = mapped_column(EncryptedText("customers.address"))
    occupation: Mapped[str | None] = mapped_column(String(40))

    # company
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    legal_representative: Mapped[str | None] = mapped_column(String(100))
    registered_address: Mapped[str | None] = mapped_column(EncryptedText("customers.registered_address"))
    industry: Mapped[str | None] = mapped_column(String(40))
    employee_count: Mapped[int | None]
    revenue_band: Mapped[str | None] = mapped_column(String(20))
    founded_on: Mapped[date | None]
    customer_type: Mapped[str | None] = mapped_column(String(20))

    # birth year in clear (birth_date and id_number are encrypted): the only part age bands need
    birth_year: Mapped[int | None] = mapped_column(default=None)

    # L3, both kinds; the *_bidx columns are keyed blind indexes for exact lookup and uniqueness
    bank_account: Mapped[str | None] = mapped_column(EncryptedText("customers.bank_account"))
    id_number_bidx: Mapped[str | None] = mapped_column(
        String(64), unique=True, info={"blind_index_of": "id_number"}
    )
    bank_account_bidx: Mapped[str | None] = mapped_column(
        String(64), index=True, info={"blind_index_of": "bank_account"}
    )

    def history_customer_id(self) -> int | None:
        """A customer's own changes belong to its own history."""
        return self.id


def _birth_year(customer: Customer) -> int | None:
    birth = customer.birth_date
    if birth is not None:
        return int(birth.year)
    number = customer.id_number
    if isinstance(number, str) and len(number) == 18 and number[6:10].isdigit():
        return int(number[6:10])
    return None


@event.listens_for(Customer, "before_insert")
@event.listens_for(Customer, "before_update")
def _keep_birth_year(_mapper: Any, _connection: Any, customer: Customer) -> None:
    """Age bands need only the birth year; keep it beside the encrypted birth date / ID number."""
    customer.birth_year = _birth_year(customer)


keep_blind_index(Customer.id_number, "id_number_bidx")
keep_blind_index(Customer.bank_account, "bank_account_bidx")


class Contact(Base, Timestamped, Versioned, Tracked):
    """A person at a company customer; one who left (in_post false) receives no messages."""

    __tablename__ = "contacts"
    __history_entity__ = "contact"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    title: Mapped[str | None] = mapped_column(String(100))
    department: Mapped[str | None] = mapped_column(String(100))
    mobile: Mapped[str | None] = mapped_column(String(20), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    in_post: Mapped[bool] = mapped_column(default=True)
    left_on: Mapped[date | None]


class NeedEntry(Base, Tracked):
    """One dated entry of the needs log (需求动态); entries are appended, never changed."""

    __tablename__ = "need_entries"
    __history_entity__ = "need"
    __table_args__ = (Index("ix_need_entries_customer_id_recorded_at", "customer_id", "recorded_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    core_need: Mapped[str] = mapped_column(String(30))
    urgency: Mapped[str] = mapped_column(String(10))
    budget_min: Mapped[Decimal | None] = mapped_column(Money)
    budget_max: Mapped[Decimal | None] = mapped_column(Money)
    description: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recorded_by: Mapped[str | None] = mapped_column(String(64))
