"""JSON routes of the vocabularies: list, read, history, and a new version (data steward, admin)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from custinfo.auth.deps import ApiPrincipal, DbSession, language_of
from custinfo.core.i18n import translate
from custinfo.customers.vocabularies import service as vocabularies
from custinfo.customers.vocabularies.schemas import (
    TermOut,
    VocabularyIn,
    VocabularyOut,
    VocabularySummaryOut,
    VocabularyVersionOut,
)

router = APIRouter(tags=["settings"])


def _label(name: str, language: str) -> str:
    key = f"config.vocabulary.{name}"
    text = translate(key, language)
    return name if text == key else text


def _out(view: vocabularies.VocabularyView, language: str) -> VocabularyOut:
    return VocabularyOut(
        name=view.name,
        label=_label(view.name, language),
        version=view.version,
        fixed_terms=view.fixed_terms,
        terms=[TermOut(**t.__dict__) for t in view.terms],
        updated_by=view.updated_by,
        updated_at=view.updated_at,
    )


@router.get("/vocabularies", response_model=list[VocabularySummaryOut])
def list_vocabularies(
    request: Request, session: DbSession, principal: ApiPrincipal
) -> list[VocabularySummaryOut]:
    """Every controlled vocabulary with its current version (any signed-in caller: these are the allowed values)."""
    language = language_of(request)
    return [
        VocabularySummaryOut(
            name=v.name,
            label=_label(v.name, language),
            version=v.version,
            terms=len(v.terms),
            retired=sum(1 for t in v.terms if t.retired),
            fixed_terms=v.fixed_terms,
            updated_by=v.updated_by,
            updated_at=v.updated_at,
        )
        for v in vocabularies.list_vocabularies(session)
    ]


@router.get("/vocabularies/{name}", response_model=VocabularyOut)
def get_vocabulary(name: str, request: Request, session: DbSession, principal: ApiPrincipal) -> VocabularyOut:
    """One vocabulary's current version: terms (code, zh, en, retired) with their synonyms."""
    return _out(vocabularies.get_vocabulary(session, name), language_of(request))


@router.get("/vocabularies/{name}/versions", response_model=list[VocabularyVersionOut])
def vocabulary_versions(name: str, session: DbSession, principal: ApiPrincipal) -> list[VocabularyVersionOut]:
    """The stored versions of a vocabulary, newest first: who, when, why."""
    return [VocabularyVersionOut.model_validate(v) for v in vocabularies.vocabulary_versions(session, name)]


@router.put("/vocabularies/{name}", response_model=VocabularyOut)
def put_vocabulary(
    name: str, body: VocabularyIn, request: Request, session: DbSession, principal: ApiPrincipal
) -> VocabularyOut:
    """Store a new version (data steward, admin): every term, none left out (retire instead); 409 if stale."""
    terms = [t.model_dump() for t in body.terms]
    view = vocabularies.update_vocabulary(session, principal, name, body.version, terms, body.reason)
    return _out(view, language_of(request))
