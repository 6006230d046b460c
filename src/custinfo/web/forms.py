"""The shared form kit of every HTML page: inputs drawn from field specs, re-shown forms, paging links.

A page builds its inputs with `form_field` from the same FieldSpec the service
validates with, so a form can never ask for something the rules do not know;
a refused save comes back as a `FormState` with each message under its input.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from custinfo.core.errors import Conflict, DomainError, Invalid
from custinfo.core.fields import FieldSpec
from custinfo.core.i18n import translate
from custinfo.core.problems import field_errors_of, render_field_error
from custinfo.customers.vocabulary import current_vocabularies

WIDGETS = {
    "owner": "person",  # chosen by name with the person picker (templates/_pickers.html), never typed
    "mobile": "tel",
    "email": "email",
    "employee_count": "number",
    "quantity": "number",
    "satisfaction": "number",
    "amount": "money",
    "budget_min": "money",
    "budget_max": "money",
    "description": "textarea",
    "resolution": "textarea",
    "occurred_at": "datetime-local",
    **dict.fromkeys(
        ("birth_date", "founded_on", "ordered_on", "signed_on", "starts_on", "ends_on", "terminated_on"),
        "date",
    ),
}
WIDE_FIELDS = frozenset({"name", "address", "registered_address", "description", "resolution"})


@dataclass(frozen=True)
class FormField:
    """One input of a form: how to draw it, its label key and whether it is required."""

    name: str
    widget: str  # text | tel | email | number | date | datetime-local | select | textarea | money | person
    label_key: str
    required: bool = False
    choices: list[tuple[str, str]] = field(default_factory=list)
    wide: bool = False


@dataclass
class FormState:
    """What a re-shown form needs: the user's values, messages per field, messages for the whole form."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)


def form_field(
    spec: FieldSpec,
    language: str,
    kind: str = "*",
    vocabulary: str | None = None,
    label_key: str | None = None,
) -> FormField:
    """The input for a field spec: selects for vocabularies, dates as date pickers."""
    terms = current_vocabularies().get(vocabulary or spec.name)
    widget = "select" if terms else WIDGETS.get(spec.name, "text")
    return FormField(
        name=spec.name,
        widget=widget,
        label_key=label_key or f"field.{spec.name}",
        required=kind in spec.required_for,
        choices=terms.choices(language) if terms else [],
        wide=spec.name in WIDE_FIELDS,
    )


def form_state(error: DomainError, values: dict[str, str], language: str) -> FormState:
    """Messages of a failed save: under their field when the form has it, otherwise on top."""
    state = FormState(values=dict(values))
    for err in field_errors_of(error):
        if err.field in values:
            # The label is right above the input, so the message under it leaves the field name out.
            state.errors.setdefault(err.field, translate(f"rule.{err.rule}", language, **err.params))
        else:
            state.general.append(render_field_error(err, language)["message"])
    if not field_errors_of(error) and error.detail_key:
        state.general.append(translate(error.detail_key, language, **error.params))
    return state


@contextmanager
def saving(session: Session) -> Iterator[None]:
    """Roll back a refused save, so nothing of it is committed along with the re-shown form."""
    try:
        yield
    except (Invalid, Conflict):
        session.rollback()
        raise


def version_of(form: dict[str, str]) -> int | None:
    """The version the form was rendered with (services compare it as a number)."""
    raw = form.get("version", "").strip()
    return int(raw) if raw.isdigit() else None


def pick(form: dict[str, str], names: list[str]) -> dict[str, str]:
    """The submitted values of exactly these inputs (a missing one as blank)."""
    return {name: form.get(name, "") for name in names}


def page_window(page: int, pages: int, capped: bool, width: int = 2) -> list[int | None]:
    """Page numbers to show around the current one; None marks a gap."""
    numbers = sorted({1, pages, *range(max(1, page - width), min(pages, page + width) + 1)})
    shown: list[int | None] = []
    for number in numbers:
        if shown and isinstance(shown[-1], int) and number - shown[-1] > 1:
            shown.append(None)
        shown.append(number)
    if capped:
        shown.append(None)
    return shown
