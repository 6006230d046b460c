"""Users, departments, web sessions and API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from custinfo.core.db import Base, BigId, Timestamped, utcnow
from custinfo.core.types import UTCDateTime

ROLES = ("sales", "service", "dept_head", "data_steward", "marketing", "auditor", "admin")
# A person signs in on the web; an integration account (a web shop, an ERP) only uses API tokens an admin issues.
USER_KINDS = ("person", "integration")


class Department(Base, Timestamped):
    """A department (e.g. 华东销售部); customers and users belong to one."""

    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    head_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL", use_alter=True), index=True
    )
    version: Mapped[int] = mapped_column(default=1, server_default="1")


class User(Base, Timestamped):
    """A person who signs in, with exactly one role."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(12), default="person", server_default="person")
    # Set when an admin creates the account or resets its password: the user must choose their own first.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Bumped by every administrative change (optimistic locking); sign-in bookkeeping leaves it alone.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    department: Mapped[Department | None] = relationship(lazy="joined", foreign_keys=[department_id])


class AuthSession(Base):
    """A web session or an API token; only a SHA-256 of the secret is stored."""

    __tablename__ = "auth_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # web | api
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scopes: Mapped[str | None] = mapped_column(String(50))  # API tokens: "read", "read write"; NULL = all
    label: Mapped[str | None] = mapped_column(String(100))  # tokens an admin issues: what they are for

    user: Mapped[User] = relationship(lazy="joined")
