"""The backup policy: how many daily, weekly and monthly archives to keep, and when the daily run starts.

Contract. The policy is versioned data: every change stores a whole new version (author, time, reason)
and is audited; with no stored version the shipped defaults (defaults/backup.json) apply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from custinfo import defaults as shipped
from custinfo.auth.policy import Permission, Principal, require
from custinfo.backup.events import BackupEvent
from custinfo.backup.models import BackupPolicyVersion
from custinfo.core.errors import FieldError, Invalid
from custinfo.core.uow import record

KINDS = ("daily", "weekly", "monthly")
MAX_KEEP = 1000
RUN_AT = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass(frozen=True)
class BackupPolicy:
    """The current policy (number 0: the shipped defaults, never edited)."""

    keep_daily: int
    keep_weekly: int
    keep_monthly: int
    run_at: str
    number: int = 0
    created_by: str | None = None
    created_at: datetime | None = None
    reason: str = ""

    def keep(self, kind: str) -> int:
        """How many archives of that kind rotation keeps."""
        return int(getattr(self, f"keep_{kind}"))


def _latest(session: Session) -> BackupPolicyVersion | None:
    return session.scalars(
        select(BackupPolicyVersion).order_by(BackupPolicyVersion.number.desc()).limit(1)
    ).first()


def current_policy(session: Session) -> BackupPolicy:
    """The stored policy's newest version, or the shipped defaults."""
    row = _latest(session)
    if row is None:
        data = shipped.load("backup.json")
        return BackupPolicy(
            keep_daily=int(data["keep_daily"]),
            keep_weekly=int(data["keep_weekly"]),
            keep_monthly=int(data["keep_monthly"]),
            run_at=str(data["run_at"]),
        )
    return BackupPolicy(
        keep_daily=row.keep_daily,
        keep_weekly=row.keep_weekly,
        keep_monthly=row.keep_monthly,
        run_at=row.run_at,
        number=row.number,
        created_by=row.created_by,
        created_at=row.created_at,
        reason=row.reason,
    )


def _validated(keep: dict[str, object], run_at: str) -> tuple[dict[str, int], str]:
    errors: list[FieldError] = []
    counts: dict[str, int] = {}
    for kind in KINDS:
        value = keep.get(kind)
        try:
            number = int(str(value).strip())
        except ValueError:
            errors.append(FieldError(f"keep_{kind}", "backup.keep_number", {"max": MAX_KEEP}))
            continue
        if not 1 <= number <= MAX_KEEP:
            errors.append(FieldError(f"keep_{kind}", "backup.keep_number", {"max": MAX_KEEP}))
            continue
        counts[kind] = number
    run_at = (run_at or "").strip()
    if not RUN_AT.match(run_at):
        errors.append(FieldError("run_at", "backup.run_at"))
    if errors:
        raise Invalid(errors=errors)
    return counts, run_at


def change_policy(
    session: Session,
    principal: Principal,
    *,
    keep_daily: object,
    keep_weekly: object,
    keep_monthly: object,
    run_at: str,
    reason: str = "",
) -> BackupPolicy:
    """Store a new version of the policy (admins; every field checked, 422 naming each bad one)."""
    require(principal, Permission.BACKUP_MANAGE)
    counts, run_at = _validated({"daily": keep_daily, "weekly": keep_weekly, "monthly": keep_monthly}, run_at)
    before = current_policy(session)
    session.add(
        BackupPolicyVersion(
            number=before.number + 1,
            keep_daily=counts["daily"],
            keep_weekly=counts["weekly"],
            keep_monthly=counts["monthly"],
            run_at=run_at,
            reason=reason.strip()[:500],
            created_by=principal.username,
        )
    )
    session.flush()
    after = current_policy(session)
    changes = {
        name: [getattr(before, name), getattr(after, name)]
        for name in ("keep_daily", "keep_weekly", "keep_monthly", "run_at")
        if getattr(before, name) != getattr(after, name)
    }
    record(
        session, BackupEvent(action="policy_changed", details={"changes": changes, "version": after.number})
    )
    return after
