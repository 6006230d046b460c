"""Pydantic shapes of the protection API (input and output classes are separate)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from custinfo.protection.service import RequestRow


class AccessRequestIn(BaseModel):
    """A request for clear access to a level or to a customer outside your scope."""

    model_config = ConfigDict(extra="forbid")

    target: str | None = Field(None, description="level / customer")
    level: str | None = Field(None, description="With target level: L2 (重要) or L3 (敏感)")
    customer_id: int | None = Field(None, description="With target customer: the customer's id")
    reason: str | None = Field(None, description="Why you need it (required, shown to the approver)")
    days: int | None = Field(None, description="Grant lifetime in days, 1–90 (default from the catalogue, 7)")


class DecisionIn(BaseModel):
    """An approver's comment on approving or rejecting."""

    model_config = ConfigDict(extra="forbid")

    comment: str | None = Field(None, description="Shown to the requester")


class AccessRequestOut(BaseModel):
    """An access request and, once approved, the grant it became."""

    id: int
    requester: str
    target: str
    level: str | None
    customer_id: int | None
    reason: str
    days: int
    status: str = Field(description="pending / approved / rejected / expired")
    approver: str | None
    comment: str | None
    created_at: datetime
    decided_at: datetime | None
    expires_at: datetime | None
    can_decide: bool = Field(description="Whether you may approve or reject it now")


def request_out(row: RequestRow) -> AccessRequestOut:
    """Build the API shape of a request."""
    r = row.request
    return AccessRequestOut(
        id=r.id,
        requester=row.requester,
        target=r.target,
        level=r.level,
        customer_id=r.customer_id,
        reason=r.reason,
        days=r.days,
        status=row.status,
        approver=row.approver,
        comment=r.comment,
        created_at=r.created_at,
        decided_at=r.decided_at,
        expires_at=r.expires_at,
        can_decide=row.can_decide,
    )


class RevealOut(BaseModel):
    """One field shown in clear (the read is in the audit log)."""

    customer_id: int
    field: str
    level: str
    value: str | None


class CatalogueOut(BaseModel):
    """The field catalogue in force: levels per field, visibility per role, masking rules."""

    version: int
    document: dict[str, Any]


class CatalogueIn(BaseModel):
    """A new catalogue version: the whole document and why it changes."""

    model_config = ConfigDict(extra="forbid")

    document: dict[str, Any] = Field(description="fields / roles / masks / grant_days, as GET returns it")
    reason: str | None = Field(None, description="Why (required; kept with the version)")


class CatalogueVersionOut(BaseModel):
    """One stored catalogue version."""

    model_config = ConfigDict(from_attributes=True)

    version: int
    author: str
    reason: str
    created_at: datetime
