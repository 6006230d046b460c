"""API shapes of the vocabularies: a vocabulary's current version, its history, an edit."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class TermIn(BaseModel):
    """One term of an edit: the code (fixed once used), both labels, retired or not, its synonyms."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(max_length=100)
    zh: str = Field(max_length=200)
    en: str = Field(max_length=200)
    retired: bool = False
    synonyms: list[str] = Field(default_factory=list, max_length=200)


class VocabularyIn(BaseModel):
    """A new version of a vocabulary: every term (none may be left out: retire instead), the version edited."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(
        ge=1, description="The version the edit starts from (409 if another was saved since)"
    )
    terms: list[TermIn] = Field(max_length=1000)
    reason: str = Field("", max_length=2000)


class TermOut(BaseModel):
    """One term of a vocabulary."""

    code: str
    zh: str
    en: str
    retired: bool
    synonyms: list[str]


class VocabularyOut(BaseModel):
    """A vocabulary's current version."""

    name: str
    label: str
    version: int
    fixed_terms: bool = Field(description="True when terms can be relabelled but not added or retired")
    terms: list[TermOut]
    updated_by: str
    updated_at: datetime | None


class VocabularySummaryOut(BaseModel):
    """A vocabulary in the list: name, label, current version and size."""

    name: str
    label: str
    version: int
    terms: int
    retired: int
    fixed_terms: bool
    updated_by: str
    updated_at: datetime | None


class VocabularyVersionOut(BaseModel):
    """One stored version: who, when, why."""

    model_config = ConfigDict(from_attributes=True)

    number: int
    created_by: str
    created_at: datetime
    reason: str
