"""Pydantic shapes of the customer API (input and output classes are separate)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from custinfo.core.pagination import Page

Text = str | None


class CustomerIn(BaseModel):
    """Fields accepted when creating or updating a customer; all are validated by the service."""

    model_config = ConfigDict(extra="forbid")

    external_id: Text = Field(
        None,
        description="Your system's id of this customer (1–100 visible ASCII characters); unique, else 409",
    )

    kind: Literal["individual", "company"] | None = Field(None, description="individual 个人 / company 企业")
    name: Text = Field(None, description="Name or full legal company name", examples=["王小明"])
    owner: Text = Field(None, description="Owner's username (defaults to the creating user)")
    source_channel: Text = Field(None, description="来源渠道: visit, phone, web_form, app, trade_show, …")
    purpose: Text = Field(None, description="Purpose of collection: sales_service, marketing, …")
    mobile: Text = Field(None, description="Mainland mobile number", examples=["13800138000"])
    email: Text = Field(None, examples=["wang@example.com"])
    region: Text = Field(None, description="City or region", examples=["上海市"])
    nickname: Text = Field(None, description="Individual only")
    gender: Text = Field(None, description="Individual only: male / female / unknown")
    birth_date: Text = Field(None, description="Individual only, YYYY-MM-DD (L3)")
    id_number: Text = Field(None, description="Individual only: resident ID number, GB 11643 (L3)")
    address: Text = Field(None, description="Individual only: exact address (L3)")
    occupation: Text = Field(None, description="Individual only: broad occupation category")
    credit_code: Text = Field(None, description="Company only: unified social credit code, GB 32100")
    legal_representative: Text = Field(None, description="Company only")
    registered_address: Text = Field(None, description="Company only")
    industry: Text = Field(
        None, description="Company only: GB/T 4754 section, synonyms mapped (生产业 → 制造业)"
    )
    employee_count: int | str | None = Field(None, description="Company only: number of employees")
    revenue_band: Text = Field(None, description="Company only: under_10m / 10m_100m / over_100m")
    founded_on: Text = Field(None, description="Company only: founding date YYYY-MM-DD")
    customer_type: Text = Field(None, description="Company only: distributor / end_customer / partner")
    bank_account: Text = Field(None, description="Bank account number, 12–30 digits (L3)")
    version: int | None = Field(None, description="On update: the version you read (stale → 409)")


class CustomerOut(BaseModel):
    """A customer as the caller may see it."""

    id: int
    external_id: str | None = Field(None, description="Another system's id of this customer")
    kind: str
    name: str | None
    owner: str | None
    department: str | None
    source_channel: str | None
    purpose: str | None
    version: int
    tags: list[str] = Field(default_factory=list, description="Tags currently assigned")
    classification_code: str | None = Field(None, description="Level-1 × level-2 classification label")
    mobile: str | None = None
    email: str | None = None
    region: str | None = None
    nickname: str | None = None
    gender: str | None = None
    birth_date: date | str | None = Field(None, description="L3: masked (1990-**-**) unless you may see it")
    id_number: str | None = None
    address: str | None = None
    occupation: str | None = None
    credit_code: str | None = None
    legal_representative: str | None = None
    registered_address: str | None = None
    bank_account: str | None = None
    industry: str | None = None
    employee_count: int | None = None
    company_size: str | None = Field(None, description="Derived from employee_count: small / medium / large")
    revenue_band: str | None = None
    founded_on: date | None = None
    customer_type: str | None = None
    created_at: datetime
    created_by: str | None
    updated_at: datetime
    updated_by: str | None
    masked_fields: list[str] = Field(default_factory=list, description="Fields shown masked for you")
    hidden_fields: list[str] = Field(default_factory=list, description="Fields withheld from you (null)")


class CustomerPage(Page[CustomerOut]):
    """One page of a customer list."""

    items: list[CustomerOut] = Field(description="Customers, newest first")


class ContactIn(BaseModel):
    """Fields of a contact person."""

    model_config = ConfigDict(extra="forbid")

    name: Text = None
    title: Text = None
    department: Text = None
    mobile: Text = None
    email: Text = None
    in_post: bool | str | None = Field(None, description="Still in post; false stops all messages")
    left_on: Text = Field(None, description="Date the contact left, YYYY-MM-DD")
    version: int | None = None


class ContactOut(BaseModel):
    """A contact person of a company customer."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    customer_id: int
    name: str | None
    title: str | None
    department: str | None
    mobile: str | None
    email: str | None
    in_post: bool | None
    left_on: date | None
    version: int
    masked_fields: list[str] = Field(default_factory=list, description="Fields shown masked for you")
    hidden_fields: list[str] = Field(default_factory=list, description="Fields withheld from you (null)")


class NeedIn(BaseModel):
    """A new entry of the needs log."""

    model_config = ConfigDict(extra="forbid")

    core_need: Text = Field(None, description="product_purchase / technical_service / solution_partnership")
    urgency: Text = Field(None, description="low / medium / high")
    budget_min: str | int | None = Field(None, description="Yuan, decimal string with 2 places")
    budget_max: str | int | None = Field(None, description="Yuan, decimal string with 2 places")
    description: Text = None


class CustomerClassified(BaseModel):
    """The customer's derived classification, attached to single-record reads and writes of its records."""

    customer_tags: list[str] | None = Field(
        None,
        description="Single-record reads and writes: the customer's current tags (a write re-classifies first); null in lists",
    )
    customer_classification_code: str | None = Field(
        None, description="Single-record reads and writes: the customer's current classification code"
    )


class NeedOut(CustomerClassified):
    """One dated entry of the needs log."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    customer_id: int
    core_need: str | None
    urgency: str | None
    budget_min: Decimal | None
    budget_max: Decimal | None
    description: str | None
    recorded_at: datetime | None
    recorded_by: str | None
    masked_fields: list[str] = Field(default_factory=list, description="Fields shown masked for you")
    hidden_fields: list[str] = Field(default_factory=list, description="Fields withheld from you (null)")


class ChangeOut(BaseModel):
    """One entry of a customer's change history."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    entity: str
    entity_id: int
    action: str
    changes: dict[str, list[object]]
    actor: str
    occurred_at: datetime


class ReassignIn(BaseModel):
    """A bulk reassignment: these customers all go to one new owner, or none does."""

    model_config = ConfigDict(extra="forbid")

    customer_ids: list[Any] | None = Field(
        None, description="Ids of the customers to move (at most 500); any absent or out of scope → 404"
    )
    owner: str | None = Field(None, description="Username of the new owner (a sales user you may assign to)")
    versions: dict[int, int] | None = Field(
        None, description="Optional: customer id → the version you read; a stale one → 409 for all"
    )


class ReassignOut(BaseModel):
    """The result of a bulk reassignment."""

    owner: str = Field(description="Username of the new owner")
    department: str | None = Field(description="The new owner's department")
    customer_ids: list[int] = Field(description="The customers now owned by them")
    count: int = Field(description="How many customers were reassigned")
