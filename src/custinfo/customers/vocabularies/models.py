"""The stored versions of the controlled vocabularies: one row per vocabulary and version."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from custinfo.core.db import Base, BigId, utcnow
from custinfo.core.types import UTCDateTime


class VocabularyVersion(Base):
    """One version of one vocabulary: every term (code, zh, en, retired) and the synonyms, as a whole.

    Versions are never changed or deleted; the highest number of a vocabulary is the current one.
    """

    __tablename__ = "vocabulary_versions"
    __table_args__ = (UniqueConstraint("name", "number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(40), index=True)
    number: Mapped[int] = mapped_column(Integer)
    terms: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    synonyms: Mapped[dict[str, str]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
