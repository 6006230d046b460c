"""Idempotency keys: a retried creating request returns the first result and creates nothing.

One table keyed by (owner, key) holds the request's fingerprint, the status and the response
body (encrypted: a response may carry values the caller was allowed to see in clear). The row is
written in the same transaction as the record it created, so either both exist or neither: a
creation that failed leaves no key behind and may be retried. A concurrent duplicate waits on the
unique index (PostgreSQL) or on the writer lock (SQLite) and then finds the first one's row.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Index, String, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from custinfo.core import clock
from custinfo.core.db import Base, BigId
from custinfo.core.errors import Conflict, FieldError, Invalid
from custinfo.core.types import UTCDateTime
from custinfo.security.encrypted import EncryptedText

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = 200
# Visible ASCII without spaces or quotes: UUIDs, ULIDs, "order-2026-000123", base64url all fit.
_KEY = re.compile(r"[A-Za-z0-9._~:+/=@#-]{8,200}")


class IdempotencyRecord(Base):
    """The first answer to a creating request sent with an Idempotency-Key, kept for LIFETIME."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        UniqueConstraint("owner", "key"),
        Index("ix_idempotency_keys_expires_at", "expires_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    owner: Mapped[str] = mapped_column(String(80))
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int]
    body: Mapped[str] = mapped_column(EncryptedText("idempotency_keys.body"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True)
class Stored:
    """The first answer: what a retry with the same key and body gets back."""

    status: int
    body: Any


def check_key(key: str) -> str:
    """The key as sent, or 422 naming the header: 8–200 visible ASCII characters, no spaces."""
    if not _KEY.fullmatch(key):
        raise Invalid([FieldError(HEADER, "idempotency.key_format", {"min": 8, "max": MAX_KEY_LENGTH})])
    return key


def fingerprint(method: str, path: str, payload: Any) -> str:
    """SHA-256 of the method, the path and the request body in canonical JSON (key order ignored)."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(f"{method.upper()} {path}\n{canonical}".encode()).hexdigest()


def _find(session: Session, owner: str, key: str) -> IdempotencyRecord | None:
    return session.scalar(
        select(IdempotencyRecord).where(IdempotencyRecord.owner == owner, IdempotencyRecord.key == key)
    )


def _answer(record: IdempotencyRecord, print_: str) -> Stored:
    if record.fingerprint != print_:
        # The same key for another request is a client bug: never create, never replay the other answer.
        raise Invalid(
            [FieldError(HEADER, "idempotency.key_reused")], detail_key="idempotency.key_reused_detail"
        )
    return Stored(record.status, json.loads(record.body))


def claim(session: Session, owner: str, key: str, print_: str) -> Stored | None:
    """Take the key for this request (None: go on and create), or the first request's answer.

    The key row is inserted before anything is created: a concurrent duplicate waits on its unique
    index (PostgreSQL; SQLite serialises writers) and then replays the first answer, so it never
    creates a second record. An expired key is forgotten and taken anew.
    """
    now = clock.now()
    record = _find(session, owner, key)
    if record is not None and record.expires_at > now:
        return _answer(record, print_)
    if record is not None:
        session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record.id))
    try:
        with session.begin_nested():
            session.add(
                IdempotencyRecord(
                    owner=owner,
                    key=key,
                    fingerprint=print_,
                    status=0,
                    body="null",
                    created_at=now,
                    expires_at=now + LIFETIME,
                )
            )
            session.flush()
    except IntegrityError:
        other = _find(session, owner, key)
        if other is None or other.status == 0:
            raise Conflict("idempotency.in_progress") from None
        return _answer(other, print_)
    return None


def complete(session: Session, owner: str, key: str, status: int, body: Any) -> None:
    """Keep the answer of the creation that claimed the key, in the creation's transaction."""
    record = _find(session, owner, key)
    if record is None:
        raise RuntimeError("idempotency key completed without being claimed")
    record.status = status
    record.body = json.dumps(body, ensure_ascii=False)
    session.flush()


def purge_expired(session: Session) -> int:
    """Forget keys past their lifetime; returns how many."""
    result = session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= clock.now()))
    return int(getattr(result, "rowcount", 0) or 0)
