"""Vocabulary use-cases: read the current versions, edit one (a new version), keep the process cache current.

Contract. A vocabulary's first stored version is the shipped file's; every edit
stores a whole new version (never changed afterwards) with author, time and
reason, and is audited. A term's code is fixed once published; a term is never
deleted, only retired (it keeps its label for old records and is refused on new
entries). The vocabularies whose codes the program itself relies on
(FIXED_TERMS) can be relabelled and given synonyms, but get no new or retired
terms. Validation and rendering read `vocabulary.current_vocabularies()`, which
`refresh` keeps equal to the stored current versions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from custinfo import defaults as shipped
from custinfo.auth.policy import Permission, Principal, require
from custinfo.core.errors import Conflict, FieldError, Invalid, NotFound
from custinfo.core.uow import record
from custinfo.customers import vocabulary
from custinfo.customers.vocabularies import repository
from custinfo.customers.vocabularies.events import ConfigurationChanged
from custinfo.customers.vocabularies.models import VocabularyVersion

# Codes the program compares against (contract states, interaction kinds, size bands, …).
FIXED_TERMS = frozenset(
    {"gender", "contract_status", "interaction_kind", "provided_by", "company_size", "purpose"}
)
MAX_SYNONYMS = 200
SEPARATORS = re.compile(r"[\n\r]+")  # one per line: labels such as 农、林、牧、渔业 contain 、


@dataclass(frozen=True)
class TermView:
    """One term as the pages and the API show it."""

    code: str
    zh: str
    en: str
    retired: bool
    synonyms: list[str]


@dataclass(frozen=True)
class VocabularyView:
    """A vocabulary's current version with its terms."""

    name: str
    version: int
    fixed_terms: bool
    terms: list[TermView]
    updated_by: str
    updated_at: datetime | None


def _shipped() -> dict[str, Any]:
    data = {k: v for k, v in shipped.load("vocabulary.json").items() if isinstance(v, dict) and "terms" in v}
    return data


def refresh(session: Session) -> None:
    """Re-install the process's current vocabularies when the stored versions changed (one indexed query)."""
    stamp = repository.stamp(session)
    if stamp == vocabulary.installed_stamp():
        return
    stored = {
        name: {"terms": row.terms, "synonyms": row.synonyms}
        for name, row in repository.latest(session).items()
    }
    vocabulary.install_vocabularies(stamp, stored)


def _spec(session: Session, name: str) -> tuple[dict[str, Any], VocabularyVersion | None]:
    row = repository.current(session, name)
    if row is not None:
        return {"terms": row.terms, "synonyms": row.synonyms}, row
    spec = _shipped().get(name)
    if spec is None:
        raise NotFound("error.vocabulary_not_found", name=name)
    return {"terms": spec["terms"], "synonyms": spec.get("synonyms", {})}, None


def _view(name: str, spec: dict[str, Any], row: VocabularyVersion | None) -> VocabularyView:
    synonyms: dict[str, list[str]] = {}
    for synonym, code in spec.get("synonyms", {}).items():
        synonyms.setdefault(code, []).append(synonym)
    terms = [
        TermView(t["code"], t["zh"], t["en"], bool(t.get("retired", False)), synonyms.get(t["code"], []))
        for t in spec["terms"]
    ]
    return VocabularyView(
        name=name,
        version=row.number if row else 1,
        fixed_terms=name in FIXED_TERMS,
        terms=terms,
        updated_by=row.created_by if row else "defaults",
        updated_at=row.created_at if row else None,
    )


def names(session: Session) -> list[str]:
    """Every vocabulary: the shipped ones in file order, then any stored only."""
    stored = repository.latest(session)
    return [*_shipped(), *sorted(n for n in stored if n not in _shipped())]


def list_vocabularies(session: Session) -> list[VocabularyView]:
    """Every vocabulary's current version (readable by anyone signed in: they are the allowed values)."""
    return [get_vocabulary(session, name) for name in names(session)]


def get_vocabulary(session: Session, name: str) -> VocabularyView:
    """One vocabulary's current version (404 if unknown)."""
    spec, row = _spec(session, name)
    return _view(name, spec, row)


def vocabulary_versions(session: Session, name: str) -> list[VocabularyVersion]:
    """The stored versions of one vocabulary, newest first (empty while it is still the shipped file)."""
    _spec(session, name)
    return repository.history(session, name)


def split_synonyms(text: str) -> list[str]:
    """Synonyms typed in one box, one per line (blanks dropped)."""
    return [s.strip() for s in SEPARATORS.split(text or "") if s.strip()]


def _text(value: Any, where: str, limit: int, errors: list[FieldError]) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        errors.append(FieldError(where, "field.required"))
    elif len(text) > limit:
        errors.append(FieldError(where, "text.too_long", {"max": limit}))
    return text


def _checked(name: str, before: dict[str, Any], terms: list[dict[str, Any]]) -> dict[str, Any]:
    """The new version's spec, or Invalid naming every bad term (by its position) and the rule."""
    errors: list[FieldError] = []
    old = {t["code"]: t for t in before["terms"]}
    seen: set[str] = set()
    out_terms: list[dict[str, Any]] = []
    synonyms: dict[str, str] = {}
    for n, term in enumerate(terms):
        where = f"terms[{n}]"
        code = _text(term.get("code"), f"{where}.code", 100, errors)
        zh = _text(term.get("zh"), f"{where}.zh", 200, errors)
        en = _text(term.get("en"), f"{where}.en", 200, errors)
        retired = bool(term.get("retired", False))
        if code in seen:
            errors.append(FieldError(f"{where}.code", "vocabulary.duplicate_code", {"value": code}))
        seen.add(code)
        if name in FIXED_TERMS and code and code not in old:
            errors.append(FieldError(f"{where}.code", "vocabulary.fixed_terms"))
        if name in FIXED_TERMS and retired and not old.get(code, {}).get("retired", False):
            errors.append(FieldError(f"{where}.retired", "vocabulary.fixed_terms"))
        listed = term.get("synonyms") or []
        if len(listed) > MAX_SYNONYMS:
            errors.append(FieldError(f"{where}.synonyms", "vocabulary.too_many", {"max": MAX_SYNONYMS}))
        for synonym in listed:
            text = str(synonym).strip()
            if len(text) > 100:
                errors.append(FieldError(f"{where}.synonyms", "text.too_long", {"max": 100}))
            elif text:
                synonyms[text] = code
        out_terms.append({"code": code, "zh": zh, "en": en, "retired": retired})
    for code, term in old.items():
        if code not in seen:
            label = term.get("zh") or code
            errors.append(FieldError("terms", "vocabulary.term_in_use", {"value": label}))
    if errors:
        raise Invalid(errors)
    spec = {"terms": out_terms, "synonyms": synonyms}
    try:
        vocabulary.vocabularies_from_mapping({name: spec})
    except vocabulary.AmbiguousSpelling as error:
        position = next((n for n, t in enumerate(out_terms) if t["code"] == error.second), 0)
        raise Invalid(
            [FieldError(f"terms[{position}].synonyms", "vocabulary.ambiguous", {"value": error.spelling})]
        ) from None
    return spec


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What an edit changed, for the audit entry: terms added, relabelled, retired or restored; synonyms."""
    old = {t["code"]: t for t in before["terms"]}
    out: dict[str, Any] = {}
    for term in after["terms"]:
        previous = old.get(term["code"])
        if previous is None:
            out.setdefault("added", []).append(term["zh"])
        else:
            if (previous["zh"], previous["en"]) != (term["zh"], term["en"]):
                out.setdefault("relabelled", []).append(f"{previous['zh']} → {term['zh']}")
            if bool(previous.get("retired")) != term["retired"]:
                out.setdefault("retired" if term["retired"] else "restored", []).append(term["zh"])
    old_syn, new_syn = before.get("synonyms", {}), after["synonyms"]
    added = sorted(s for s in new_syn if old_syn.get(s) != new_syn[s])
    removed = sorted(s for s in old_syn if s not in new_syn)
    if added:
        out["synonyms_added"] = added
    if removed:
        out["synonyms_removed"] = removed
    return out


def update_vocabulary(
    session: Session,
    principal: Principal,
    name: str,
    version: Any,
    terms: list[dict[str, Any]],
    reason: str = "",
) -> VocabularyView:
    """Store a new version of a vocabulary (data steward, admin): checked whole, audited, in force at once."""
    require(principal, Permission.SETTINGS_MANAGE)
    before, row = _spec(session, name)
    current = row.number if row else 1
    if not isinstance(version, int) or isinstance(version, bool):
        raise Invalid([FieldError("version", "field.required")])
    if version != current:
        raise Conflict("error.stale_version", current=current, expected=version)
    reason = (reason or "").strip()
    if len(reason) > 2000:
        raise Invalid([FieldError("reason", "text.too_long", {"max": 2000})])
    after = _checked(name, before, terms)
    normalised_before = {
        "terms": [{**t, "retired": bool(t.get("retired", False))} for t in before["terms"]],
        "synonyms": dict(before.get("synonyms", {})),
    }
    if after == normalised_before:
        raise Invalid([FieldError("terms", "vocabulary.unchanged")])
    if row is None:  # the shipped file becomes stored version 1, so history starts where the data did
        session.add(
            VocabularyVersion(
                name=name,
                number=1,
                terms=normalised_before["terms"],
                synonyms=normalised_before["synonyms"],
                reason="",
                created_by="defaults",
            )
        )
    session.add(
        VocabularyVersion(
            name=name,
            number=current + 1,
            terms=after["terms"],
            synonyms=after["synonyms"],
            reason=reason,
            created_by=principal.username,
        )
    )
    session.flush()
    record(
        session,
        ConfigurationChanged(
            what=f"vocabulary:{name}",
            before={"version": current},
            after=_changes(normalised_before, after),
            version=current + 1,
            reason=reason,
        ),
    )
    refresh(session)
    return get_vocabulary(session, name)
