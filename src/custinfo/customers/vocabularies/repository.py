"""All SQL of the stored vocabularies."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from custinfo.customers.vocabularies.models import VocabularyVersion


def stamp(session: Session) -> tuple[int, int]:
    """What identifies the stored state: (highest version id, number of versions)."""
    row = session.execute(select(func.max(VocabularyVersion.id), func.count(VocabularyVersion.id))).one()
    return int(row[0] or 0), int(row[1] or 0)


def latest(session: Session) -> dict[str, VocabularyVersion]:
    """The current (highest-numbered) version of every stored vocabulary."""
    newest = (
        select(VocabularyVersion.name, func.max(VocabularyVersion.number).label("number"))
        .group_by(VocabularyVersion.name)
        .subquery()
    )
    rows = session.scalars(
        select(VocabularyVersion).join(
            newest,
            (newest.c.name == VocabularyVersion.name) & (newest.c.number == VocabularyVersion.number),
        )
    )
    return {row.name: row for row in rows}


def current(session: Session, name: str) -> VocabularyVersion | None:
    """The current version of one vocabulary, if one is stored."""
    return session.scalar(
        select(VocabularyVersion)
        .where(VocabularyVersion.name == name)
        .order_by(VocabularyVersion.number.desc())
        .limit(1)
    )


def history(session: Session, name: str) -> list[VocabularyVersion]:
    """Every stored version of one vocabulary, newest first."""
    return list(
        session.scalars(
            select(VocabularyVersion)
            .where(VocabularyVersion.name == name)
            .order_by(VocabularyVersion.number.desc())
        )
    )


def version(session: Session, name: str, number: int) -> VocabularyVersion | None:
    """One stored version of one vocabulary."""
    return session.scalar(
        select(VocabularyVersion).where(VocabularyVersion.name == name, VocabularyVersion.number == number)
    )
