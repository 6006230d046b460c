"""Pydantic in/out shapes of `/backups`: the archives with their verification state, a run now, the policy."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Kind = Literal["daily", "weekly", "monthly"]


class BackupOut(BaseModel):
    """One archive in the backup directory and what its last verification (a test restore) found."""

    file_name: str = Field(examples=["custinfo-20260701-013000-daily.cib"])
    kind: str = Field(description="daily, weekly or monthly")
    made_at: datetime
    size_bytes: int
    dialect: str = Field(description="the database it was made from: sqlite or postgresql")
    schema_revision: str
    made_by: str | None
    status: str = Field(description="never (not verified yet), passed or failed")
    verified_at: datetime | None
    failure: str | None = Field(description="why the last verification failed, in the caller's language")


class BackupRunIn(BaseModel):
    """A backup now: which kind (default: chosen by the calendar) and whether to verify it (default: yes)."""

    model_config = ConfigDict(extra="forbid")

    kind: Kind | None = None
    verify: bool | None = None


class PolicyIn(BaseModel):
    """A new version of the rotation policy: how many archives of each kind to keep, when the daily run starts."""

    model_config = ConfigDict(extra="forbid")

    keep_daily: int = Field(description="1–1000", examples=[7])
    keep_weekly: int = Field(description="1–1000", examples=[4])
    keep_monthly: int = Field(description="1–1000", examples=[12])
    run_at: str = Field(
        max_length=20, description="HH:MM, 24-hour clock, in the configured zone", examples=["01:30"]
    )
    reason: str = Field("", max_length=500)


class PolicyOut(BaseModel):
    """The current rotation policy and the version it is (0: the shipped defaults, never saved)."""

    keep_daily: int
    keep_weekly: int
    keep_monthly: int
    run_at: str = Field(description="HH:MM in the configured zone")
    version: int
    changed_by: str | None
    changed_at: datetime | None
    reason: str
