"""The run record of a job: what was asked, by whom, how far it got and how it ended."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from custinfo.core.db import Base, BigId, utcnow
from custinfo.core.types import UTCDateTime

STATUSES = ("queued", "running", "succeeded", "failed")
RUNNING = "status = 'running'"


class JobRun(Base):
    """One run of a named job; at most one run per job is `running` (a partial unique index says so)."""

    __tablename__ = "job_runs"
    __table_args__ = (
        Index("ix_job_runs_name_id", "name", "id"),
        Index("ix_job_runs_status_id", "status", "id"),
        Index(
            "uq_job_runs_one_running",
            "name",
            unique=True,
            sqlite_where=text(RUNNING),
            postgresql_where=text(RUNNING),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int | None] = mapped_column(Integer)
    progress_note: Mapped[str | None] = mapped_column(String(200))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # A message key and its parameters, translated when shown: never the exception's text.
    error: Mapped[str | None] = mapped_column(String(200))
    error_params: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    @property
    def duration_ms(self) -> int | None:
        """How long the run took (None until it finished)."""
        if self.started_at is None or self.finished_at is None:
            return None
        return int((self.finished_at - self.started_at).total_seconds() * 1000)
