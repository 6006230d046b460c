"""Pydantic in/out shapes of account and organisation administration (`/users`, `/departments`)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["sales", "service", "dept_head", "data_steward", "marketing", "auditor", "admin"]


class UserIn(BaseModel):
    """A new account: a person (must change the password at first sign-in) or an integration account."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(max_length=200, examples=["zhang.wei"])
    role: Role
    display_name: str | None = Field(None, max_length=200, examples=["张伟"])
    department_id: int | None = None
    kind: Literal["person", "integration"] = Field("person", description="integration: API tokens only")
    password: str | None = Field(
        None, max_length=200, description="A person's first password (default: generated and returned once)"
    )


class UserChange(BaseModel):
    """Changes to an account; only the keys sent are changed. `version` is the one you read."""

    model_config = ConfigDict(extra="forbid")

    version: int | None = None
    display_name: str | None = Field(None, max_length=200)
    role: Role | None = None
    department_id: int | None = None


class VersionIn(BaseModel):
    """The version of the account you read (a stale one is a 409)."""

    model_config = ConfigDict(extra="forbid")

    version: int | None = None


class UserOut(BaseModel):
    """An account as administration sees it (never its password)."""

    id: int
    username: str
    display_name: str
    kind: str
    role: str
    department_id: int | None
    department: str | None
    is_active: bool
    locked: bool
    must_change_password: bool
    last_login_at: datetime | None
    version: int


class UserCreated(UserOut):
    """The new account, with its one-time password if one was generated (shown only in this answer)."""

    one_time_password: str | None = None


class PasswordReset(BaseModel):
    """The one-time password the person signs in with once, then replaces."""

    one_time_password: str


class PasswordChange(BaseModel):
    """Your current password and the new one (twice)."""

    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(max_length=200)
    new_password: str = Field(max_length=200)
    repeat_password: str = Field(max_length=200)


class DepartmentIn(BaseModel):
    """A new department and, optionally, its head (a user id)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(max_length=200, examples=["华北销售部"])
    head_id: int | None = None


class DepartmentChange(BaseModel):
    """Rename a department or change its head (null removes it); only the keys sent are changed."""

    model_config = ConfigDict(extra="forbid")

    version: int | None = None
    name: str | None = Field(None, max_length=200)
    head_id: int | None = None


class DepartmentOut(BaseModel):
    """A department with its head."""

    id: int
    name: str
    head_id: int | None
    head: str | None = Field(description="The head's username")
    head_display_name: str | None
    members: int
    version: int


class TokenIn(BaseModel):
    """A token for an integration account: what it is for, its scope and how many days it lives."""

    model_config = ConfigDict(extra="forbid")

    label: str = Field(max_length=200, examples=["网店订单推送"])
    scope: str = Field(description='"read" or "read write"', examples=["read write"])
    days: int = Field(description="Days until it expires (1–3650)", examples=[365])


class ApiTokenOut(BaseModel):
    """An API token of an account (never its secret)."""

    id: int
    label: str | None
    scopes: str | None
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    active: bool


class ApiTokenIssued(ApiTokenOut):
    """The new token; `access_token` is shown only in this answer."""

    access_token: str


class PersonOut(BaseModel):
    """A person to pick (owner, approver…): username and display name."""

    username: str
    display_name: str
    role: str
    department: str | None
