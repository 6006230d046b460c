"""Field catalogue versions (levels, visibility, masks) and access requests with their grants."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from custinfo.core.db import Base, BigId, utcnow
from custinfo.core.types import UTCDateTime


class FieldCatalogueVersion(Base):
    """One version of the field catalogue; the highest version is in force, older ones are history."""

    __tablename__ = "field_catalogue_versions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AccessRequest(Base):
    """A request for clear access to a field level or to a customer; once approved it is a grant.

    A grant is in force while `status == 'approved'` and `expires_at` is in the
    future; it expires by itself (checked at read time, no job).
    """

    __tablename__ = "access_requests"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status"),
        CheckConstraint("target IN ('level', 'customer')", name="target"),
        Index("ix_access_requests_requester_id_status", "requester_id", "status"),
        Index("ix_access_requests_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    target: Mapped[str] = mapped_column(String(10))
    level: Mapped[str | None] = mapped_column(String(2))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(Text)
    days: Mapped[int] = mapped_column(default=7)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    approver_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
