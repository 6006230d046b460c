"""What the system knows about its backups: one row per archive made or checked, and the rotation policy's versions.

The archives themselves live in the backup directory; a row records who made one and the last time it was
verified by a test restore, with the outcome. A backup directory's files are the truth about which backups
exist (a restore brings back an older table); a file without a row is shown as never verified.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from custinfo.core.db import Base, BigId, utcnow
from custinfo.core.types import UTCDateTime


class Backup(Base):
    """One backup archive: its file, kind, size, and the last verification (never, passed or failed, and why)."""

    __tablename__ = "backups"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    file_name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    made_at: Mapped[datetime] = mapped_column(UTCDateTime)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    dialect: Mapped[str] = mapped_column(String(20))
    schema_revision: Mapped[str] = mapped_column(String(60))
    total_rows: Mapped[int] = mapped_column(BigInteger, default=0)
    made_by: Mapped[str] = mapped_column(String(64))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    verified_ok: Mapped[bool | None] = mapped_column(Boolean, default=None)
    # A message key and its parameters (never a value from the data) saying why the last verification failed.
    failure: Mapped[str | None] = mapped_column(String(100), default=None)
    failure_params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    verified_by: Mapped[str | None] = mapped_column(String(64), default=None)


class BackupPolicyVersion(Base):
    """One version of the backup policy: how many of each kind to keep and when the daily run starts.

    Versions are never changed; the highest number is the current one; with none stored the shipped
    defaults (defaults/backup.json) apply.
    """

    __tablename__ = "backup_policy_versions"
    __table_args__ = (UniqueConstraint("number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[int] = mapped_column(Integer)
    keep_daily: Mapped[int] = mapped_column(Integer)
    keep_weekly: Mapped[int] = mapped_column(Integer)
    keep_monthly: Mapped[int] = mapped_column(Integer)
    run_at: Mapped[str] = mapped_column(String(5))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
