"""Pydantic shapes of the activity API (input and output classes are separate).

Input fields are loosely typed on purpose (text, numbers as text): the service
validates them with the domain's rules so every error carries a rule key.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from custinfo.core.pagination import Page
from custinfo.customers.schemas import CustomerClassified

Text = str | None


def _two_places(value: Decimal) -> str:
    return f"{value:.2f}"


# Yuan as a decimal string with exactly two places ("1234.50"), never a JSON number.
MoneyOut = Annotated[Decimal, PlainSerializer(_two_places, return_type=str, when_used="json")]
MoneyIn = str | int | float | None

CUSTOMER_ID = "The customer the record belongs to (must be in your scope; cannot be changed)"
AMOUNT_IN = (
    'Yuan as a decimal string with at most two places, e.g. "1234.50" or "12.5"; '
    "not negative; a JSON number with a fraction is refused (use a string)"
)
AMOUNT_OUT = 'Yuan, decimal string with exactly two places, e.g. "1234.50"'
PROVIDED_BY = "customer (provided actively by the customer) / system (collected passively from a system log)"
EXTERNAL_ID_IN = (
    "Your system's id of this record (1–100 visible ASCII characters, e.g. the web shop's order number); "
    "unique per kind, else 409"
)
EXTERNAL_ID_OUT = "Another system's id of this record"
CUSTOMER_EXTERNAL_ID = (
    "On create, instead of customer_id: the customer's external_id (must be in your scope, else 404)"
)
VERSION_IN = "On update: the version you read (stale → 409)"
VERSION_OUT = "Optimistic-locking version; send it back on update and delete"
OCCURRED_AT_IN = (
    "ISO 8601 date-time, e.g. 2026-03-01T14:30:00+08:00; without an offset it is local time "
    "in the configured time zone (Asia/Shanghai by default); not in the future"
)
OCCURRED_AT_OUT = "When it happened, UTC (ISO 8601)"


class OrderIn(BaseModel):
    """Fields accepted when recording or changing an order; all are validated by the service."""

    model_config = ConfigDict(extra="forbid")

    customer_id: int | None = Field(None, description=CUSTOMER_ID)
    customer_external_id: Text = Field(None, description=CUSTOMER_EXTERNAL_ID)
    external_id: Text = Field(None, description=EXTERNAL_ID_IN)
    ordered_on: Text = Field(
        None, description="Order date YYYY-MM-DD, not in the future", examples=["2026-01-15"]
    )
    amount: MoneyIn = Field(None, description=AMOUNT_IN, examples=["1234.50"])
    product: Text = Field(None, description="Product name", examples=["工业传感器"])
    category: Text = Field(None, description="Product category", examples=["传感器"])
    quantity: int | str | None = Field(None, description="Number of units, at least 1 (default 1)")
    provided_by: Text = Field(None, description=f"{PROVIDED_BY}; default system")
    version: int | None = Field(None, description=VERSION_IN)


class OrderOut(CustomerClassified):
    """An order (purchase) of a customer."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="Order id")
    external_id: str | None = Field(None, description=EXTERNAL_ID_OUT)
    customer_id: int = Field(description="The customer who ordered")
    ordered_on: date | None = Field(description="Order date")
    amount: MoneyOut | None = Field(description=AMOUNT_OUT)
    product: str | None = Field(description="Product name")
    category: str | None = Field(description="Product category")
    quantity: int | None = Field(description="Number of units")
    provided_by: str | None = Field(description=PROVIDED_BY)
    version: int = Field(description=VERSION_OUT)
    masked_fields: list[str] = Field(default_factory=list, description="Fields shown masked for you")
    hidden_fields: list[str] = Field(default_factory=list, description="Fields withheld from you (null)")


class OrderPage(Page[OrderOut]):
    """One page of an order list."""

    items: list[OrderOut] = Field(description="Orders, newest order date first")


class ContractIn(BaseModel):
    """Fields accepted when recording or changing a contract; all are validated by the service."""

    model_config = ConfigDict(extra="forbid")

    customer_id: int | None = Field(None, description=CUSTOMER_ID)
    customer_external_id: Text = Field(None, description=CUSTOMER_EXTERNAL_ID)
    external_id: Text = Field(None, description=EXTERNAL_ID_IN)
    title: Text = Field(None, description="Contract title", examples=["2026 年度供货合同"])
    signed_on: Text = Field(
        None, description="Signing date YYYY-MM-DD, not in the future; required when active or renewed"
    )
    starts_on: Text = Field(None, description="First day of the term, YYYY-MM-DD")
    ends_on: Text = Field(None, description="Last day of the term, YYYY-MM-DD; not before starts_on")
    amount: MoneyIn = Field(None, description=AMOUNT_IN, examples=["50000.00"])
    status: Text = Field(None, description="negotiating / active / renewed / terminated")
    terminated_on: Text = Field(
        None, description="Termination date YYYY-MM-DD: required with status terminated, and only then"
    )
    version: int | None = Field(None, description=VERSION_IN)


class RenewalOut(BaseModel):
    """One renewal of a contract, kept as a dated entry."""

    id: int = Field(description="Renewal id")
    renewed_on: date = Field(description="The day it was renewed")
    renewed_by: str | None = Field(description="Who renewed it (username)")
    previous_ends_on: date | None = Field(description="Last day of the term before the renewal")
    ends_on: date | None = Field(description="Last day of the term after the renewal")
    previous_amount: MoneyOut | None = Field(description="Amount before the renewal")
    amount: MoneyOut | None = Field(description="Amount after the renewal")


class ContractOut(CustomerClassified):
    """A contract / cooperation with a customer."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="Contract id")
    external_id: str | None = Field(None, description=EXTERNAL_ID_OUT)
    customer_id: int = Field(description="The contracting customer")
    title: str | None = Field(description="Contract title")
    signed_on: date | None = Field(description="Signing date")
    starts_on: date | None = Field(description="First day of the term")
    ends_on: date | None = Field(description="Last day of the term")
    amount: MoneyOut | None = Field(description=AMOUNT_OUT)
    status: str | None = Field(description="negotiating / active / renewed / terminated")
    terminated_on: date | None = Field(description="Termination date (status terminated)")
    termination_reason: str | None = Field(None, description="Why it was terminated (status terminated)")
    version: int = Field(description=VERSION_OUT)
    renewals: list[RenewalOut] | None = Field(
        None, description="Its renewals, oldest first (each a dated entry: term and amount before and after)"
    )
    masked_fields: list[str] = Field(default_factory=list, description="Fields shown masked for you")
    hidden_fields: list[str] = Field(default_factory=list, description="Fields withheld from you (null)")


class RenewalIn(BaseModel):
    """A renewal of a running contract: the new last day of the term and the new amount."""

    model_config = ConfigDict(extra="forbid")

    ends_on: Text = Field(None, description="New last day of the term, YYYY-MM-DD; after the current one")
    amount: MoneyIn = Field(None, description=AMOUNT_IN, examples=["600000.00"])
    version: int | None = Field(None, description="The contract version you read (stale → 409)")


class TerminationIn(BaseModel):
    """The end of a contract: on which day, and why."""

    model_config = ConfigDict(extra="forbid")

    terminated_on: Text = Field(None, description="Termination date YYYY-MM-DD, not in the future")
    reason: Text = Field(None, description="Why the contract ends (up to 500 characters)")
    version: int | None = Field(None, description="The contract version you read (stale → 409)")


class ContractPage(Page[ContractOut]):
    """One page of a contract list."""

    items: list[ContractOut] = Field(description="Contracts, latest signing date first (unsigned last)")


class InteractionIn(BaseModel):
    """Fields accepted when recording or changing an interaction; all are validated by the service."""

    model_config = ConfigDict(extra="forbid")

    customer_id: int | None = Field(None, description=CUSTOMER_ID)
    customer_external_id: Text = Field(None, description=CUSTOMER_EXTERNAL_ID)
    external_id: Text = Field(None, description=EXTERNAL_ID_IN)
    kind: Text = Field(None, description="visit / call / consultation / complaint / after_sales")
    channel: Text = Field(None, description="onsite / phone / online / email / wechat / app")
    occurred_at: Text = Field(None, description=OCCURRED_AT_IN, examples=["2026-03-01T14:30:00+08:00"])
    topic: Text = Field(None, description="What it was about")
    resolution: Text = Field(None, description="How it was resolved")
    satisfaction: int | str | None = Field(None, description="Satisfaction score 1–5")
    provided_by: Text = Field(None, description=f"{PROVIDED_BY}; default customer")
    version: int | None = Field(None, description=VERSION_IN)


class InteractionOut(CustomerClassified):
    """A visit, call, consultation, complaint or after-sales contact."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="Interaction id")
    external_id: str | None = Field(None, description=EXTERNAL_ID_OUT)
    customer_id: int = Field(description="The customer contacted")
    kind: str | None = Field(description="visit / call / consultation / complaint / after_sales")
    channel: str | None = Field(description="onsite / phone / online / email / wechat / app")
    occurred_at: datetime | None = Field(description=OCCURRED_AT_OUT)
    topic: str | None = Field(description="What it was about")
    resolution: str | None = Field(description="How it was resolved")
    satisfaction: int | None = Field(description="Satisfaction score 1–5")
    provided_by: str | None = Field(description=PROVIDED_BY)
    version: int = Field(description=VERSION_OUT)
    masked_fields: list[str] = Field(default_factory=list, description="Fields shown masked for you")
    hidden_fields: list[str] = Field(default_factory=list, description="Fields withheld from you (null)")


class InteractionPage(Page[InteractionOut]):
    """One page of an interaction list."""

    items: list[InteractionOut] = Field(description="Interactions, newest first")


class EngagementIn(BaseModel):
    """A browsing event to append to a customer's engagement log."""

    model_config = ConfigDict(extra="forbid")

    occurred_at: Text = Field(None, description=OCCURRED_AT_IN, examples=["2026-03-01T14:30:00+08:00"])
    event_type: Text = Field(None, description="product_viewed / new_product_viewed / category_viewed")
    product: Text = Field(None, description="Product viewed")
    category: Text = Field(None, description="Category viewed")
    is_new_product: bool | str | None = Field(
        None, description="Whether the product is new (default: true for new_product_viewed)"
    )
    dwell_seconds: int | str | None = Field(None, description="Seconds spent on the page, 0–86400")
    provided_by: Text = Field(None, description=f"{PROVIDED_BY}; default system")


class EngagementOut(CustomerClassified):
    """One browsing event (events are never changed)."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description="Event id")
    customer_id: int = Field(description="The customer who browsed")
    occurred_at: datetime | None = Field(description=OCCURRED_AT_OUT)
    event_type: str | None = Field(description="product_viewed / new_product_viewed / category_viewed")
    product: str | None = Field(description="Product viewed")
    category: str | None = Field(description="Category viewed")
    is_new_product: bool | None = Field(description="Whether the product was new")
    dwell_seconds: int | None = Field(description="Seconds spent on the page")
    provided_by: str | None = Field(description=PROVIDED_BY)
    masked_fields: list[str] = Field(default_factory=list, description="Fields shown masked for you")
    hidden_fields: list[str] = Field(default_factory=list, description="Fields withheld from you (null)")


class EngagementPage(Page[EngagementOut]):
    """One page of a customer's engagement log."""

    items: list[EngagementOut] = Field(description="Events, newest first")
