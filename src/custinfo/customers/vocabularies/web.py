"""HTML pages of the vocabularies in the settings area: the list, one vocabulary's terms and synonyms, history."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from custinfo.auth.deps import DbSession, language_of
from custinfo.auth.policy import Permission, Principal, require
from custinfo.auth.web import FormFields, WebUser, web_user
from custinfo.core.errors import Conflict, Invalid
from custinfo.customers.vocabularies import service as vocabularies
from custinfo.web.forms import FormState, form_state, saving
from custinfo.web.templating import render, see_other

router = APIRouter(include_in_schema=False, dependencies=[Depends(web_user)])

BASE = "/settings/vocabularies"
NEW_ROWS = 3


@router.get(BASE, response_class=HTMLResponse)
def vocabulary_list(
    request: Request, session: DbSession, principal: WebUser, flash: str | None = None
) -> HTMLResponse:
    """Every controlled vocabulary (词表): its terms, retired terms, version and last editor."""
    require(principal, Permission.SETTINGS_MANAGE)
    return render(
        request, "settings/vocabularies.html", rows=vocabularies.list_vocabularies(session), flash=flash
    )


def _values(view: vocabularies.VocabularyView) -> dict[str, str]:
    values: dict[str, str] = {"version": str(view.version)}
    for n, term in enumerate(view.terms):
        values.update(
            {
                f"terms[{n}].code": term.code,
                f"terms[{n}].zh": term.zh,
                f"terms[{n}].en": term.en,
                f"terms[{n}].synonyms": "\n".join(term.synonyms),
            }
        )
        if term.retired:
            values[f"terms[{n}].retired"] = "on"
    return values


def _edit_page(
    request: Request,
    session: Session,
    principal: Principal,
    name: str,
    state: FormState,
    status_code: int = 200,
    flash: str | None = None,
) -> HTMLResponse:
    view = vocabularies.get_vocabulary(session, name)
    return render(
        request,
        "settings/vocabulary.html",
        status_code=status_code,
        vocabulary=view,
        existing=len(view.terms),
        rows=len(view.terms) + (0 if view.fixed_terms else NEW_ROWS),
        state=state,
        history=vocabularies.vocabulary_versions(session, name),
        flash=flash,
    )


@router.get(f"{BASE}/{{name}}", response_class=HTMLResponse)
def vocabulary_page(
    request: Request, session: DbSession, principal: WebUser, name: str, flash: str | None = None
) -> HTMLResponse:
    """One vocabulary: labels, synonyms and retirement of each term, new terms, and its versions."""
    require(principal, Permission.SETTINGS_MANAGE)
    view = vocabularies.get_vocabulary(session, name)
    return _edit_page(request, session, principal, name, FormState(_values(view)), flash=flash)


def _terms(form: dict[str, str], rows: int, existing: int) -> list[dict[str, Any]]:
    """The submitted terms: every existing row, and the new rows that were filled in."""
    terms = []
    for n in range(rows):
        fields = {k: form.get(f"terms[{n}].{k}", "").strip() for k in ("code", "zh", "en", "synonyms")}
        if n >= existing and not any(fields.values()):
            continue
        terms.append(
            {
                "code": fields["code"],
                "zh": fields["zh"],
                "en": fields["en"],
                "retired": bool(form.get(f"terms[{n}].retired")),
                "synonyms": vocabularies.split_synonyms(fields["synonyms"]),
            }
        )
    return terms


@router.post(f"{BASE}/{{name}}", response_class=HTMLResponse)
def save_vocabulary(
    request: Request, session: DbSession, principal: WebUser, name: str, form: FormFields
) -> Response:
    """Save a new version of the vocabulary; a refusal names each term and rule and saves nothing."""
    require(principal, Permission.SETTINGS_MANAGE)
    view = vocabularies.get_vocabulary(session, name)
    rows = len(view.terms) + (0 if view.fixed_terms else NEW_ROWS)
    values = dict(form)
    version = form.get("version", "").strip()
    try:
        with saving(session):
            vocabularies.update_vocabulary(
                session,
                principal,
                name,
                int(version) if version.isdigit() else None,
                _terms(values, rows, len(view.terms)),
                form.get("reason", ""),
            )
    except (Invalid, Conflict) as error:
        state = form_state(error, values, language_of(request))
        return _edit_page(request, session, principal, name, state, error.status)
    return see_other(f"{BASE}/{name}?flash=vocabulary_saved")
