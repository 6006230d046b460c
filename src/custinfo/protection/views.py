"""The field view: the one place that decides, per principal, which fields are clear, masked or hidden.

Every way out of the system (API, web pages, exports) shapes records through
a `FieldView`, so masked values are produced on the server and a clear value
the caller may not see never leaves it. Fields outside the catalogue (ids,
versions, timestamps) pass through unchanged. Returning an L2/L3 value in
clear queues a `SensitiveFieldRead` event (one per customer and level per
view), which the audit recorder persists with the request's transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import inspect
from sqlalchemy.orm import Session

from custinfo.auth.policy import Principal
from custinfo.core.errors import FieldError, Invalid
from custinfo.core.uow import record
from custinfo.protection import catalogue as catalogue_module
from custinfo.protection.catalogue import UNMASKABLE_TYPES, Catalogue
from custinfo.protection.events import SensitiveFieldRead
from custinfo.protection.masking import mask_field

LOGGED_LEVELS = ("L2", "L3")
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class FieldRule:
    """How one catalogued field appears to the principal."""

    state: str  # clear | masked | hidden
    level: str
    type: str


@dataclass
class Shaped:
    """A record as the principal may see it: values, and which fields were masked or hidden."""

    values: dict[str, Any]
    masked: list[str] = field(default_factory=list)
    hidden: list[str] = field(default_factory=list)

    def __getitem__(self, name: str) -> Any:
        return self.values.get(name)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None


class FieldView:
    """Shapes customer-related records for one principal under the catalogue in force."""

    def __init__(self, session: Session, principal: Principal, catalogue: Catalogue | None = None) -> None:
        self.session = session
        self.principal = principal
        self.catalogue = catalogue or catalogue_module.current(session)
        self._rules: dict[str, dict[str, FieldRule]] = {}
        self._logged: set[tuple[int, str]] = set()

    def rules(self, entity: str) -> dict[str, FieldRule]:
        """Rule of every catalogued field of an entity, for this principal."""
        if entity not in self._rules:
            rules = {}
            for name, spec in self.catalogue.fields(entity).items():
                level, kind = spec["level"], spec.get("type", "text")
                state = self.catalogue.state(self.principal.role, entity, name, level)
                if level in self.principal.granted_levels:
                    state = "clear"
                if state == "masked" and kind in UNMASKABLE_TYPES:
                    state = "hidden"
                rules[name] = FieldRule(state, level, kind)
            self._rules[entity] = rules
        return self._rules[entity]

    def rule(self, entity: str, name: str) -> FieldRule | None:
        """The rule of one field (None when the field is not catalogued)."""
        return self.rules(entity).get(name)

    def shape(self, entity: str, values: Mapping[str, Any], customer_id: int | None) -> Shaped:
        """Mask or drop the fields of one record; queue a SensitiveFieldRead for clear L2/L3 values."""
        out = dict(values)
        shaped = Shaped(out)
        read: dict[str, list[str]] = {}
        masks = self.catalogue.masks
        for name, rule in self.rules(entity).items():
            if name not in out:
                continue
            value = out[name]
            if rule.state == "clear":
                if value is not None and rule.level in LOGGED_LEVELS:
                    read.setdefault(rule.level, []).append(name)
            elif rule.state == "masked":
                out[name] = mask_field(value, rule.type, masks)
                if value is not None:
                    shaped.masked.append(name)
            else:
                out[name] = None
                shaped.hidden.append(name)
        self._log_reads(customer_id, read)
        return shaped

    def _log_reads(self, customer_id: int | None, read: Mapping[str, list[str]]) -> None:
        """Queue one SensitiveFieldRead per customer and level (once per view)."""
        if customer_id is None:
            return
        for level, names in read.items():
            if (customer_id, level) not in self._logged:
                self._logged.add((customer_id, level))
                record(
                    self.session,
                    SensitiveFieldRead(
                        customer_id=customer_id, fields=tuple(names), level=level, purpose="view"
                    ),
                )

    def shape_object(
        self, entity: str, obj: Any, names: Iterable[str], customer_id: int | None = None
    ) -> Shaped:
        """Shape the named attributes of an ORM object."""
        values = {name: getattr(obj, name, None) for name in names}
        return self.shape(
            entity, values, customer_id if customer_id is not None else getattr(obj, "customer_id", None)
        )

    def shape_changes(
        self, entity: str, changes: Mapping[str, list[Any]], customer_id: int | None = None
    ) -> dict[str, list[Any]]:
        """A history entry's field → [old, new] with masked fields masked and hidden ones left out.

        Clear L2/L3 values read this way are logged like any other read of them (with `customer_id`).
        """
        rules = self.rules(entity)
        masks = self.catalogue.masks
        out: dict[str, list[Any]] = {}
        read: dict[str, list[str]] = {}
        for name, pair in changes.items():
            rule = rules.get(name)
            if rule is None or rule.state == "clear":
                out[name] = list(pair)
                if rule is not None and rule.level in LOGGED_LEVELS and any(v is not None for v in pair):
                    read.setdefault(rule.level, []).append(name)
            elif rule.state == "masked":
                out[name] = [_masked_again(value, rule.type, masks) for value in pair]
        self._log_reads(customer_id, read)
        return out

    def is_clear(self, entity: str, name: str) -> bool:
        """Whether the principal sees this field in clear (an uncatalogued field is not protected)."""
        rule = self.rule(entity, name)
        return rule is None or rule.state == "clear"

    def may_reveal(self, entity: str, name: str) -> bool:
        """Whether the principal may show this field in clear on demand (its role, or a grant)."""
        rule = self.rule(entity, name)
        if rule is None:
            return False
        return (
            rule.state == "clear"
            or rule.level in self.catalogue.reveal_levels(self.principal.role)
            or rule.level in self.principal.granted_levels
        )

    def revealable(self, entity: str, names: Iterable[str]) -> list[str]:
        """The fields among `names` the principal may reveal (the only ones offered a reveal button)."""
        return [name for name in names if self.may_reveal(entity, name)]

    def unreadable(self, entity: str, names: Iterable[str]) -> list[str]:
        """The fields among `names` the principal may not see in clear."""
        rules = self.rules(entity)
        return [name for name in names if name in rules and rules[name].state != "clear"]

    def require_writable(self, entity: str, data: Mapping[str, Any]) -> None:
        """Refuse (422) a write to any field the principal does not see in clear, naming each field.

        A blank value of such a field is dropped by the web form as "unchanged"
        before it gets here; anything else would overwrite a value the writer
        could not see (or write a masked placeholder back).
        """
        names = [name for name in self.unreadable(entity, data) if name != "owner"]
        if names:
            raise Invalid([FieldError(name, "field.not_clear") for name in names])


def _masked_again(value: Any, kind: str, masks: dict[str, dict[str, Any]]) -> Any:
    """A history value masked, unless it was stored masked (L3 values never reach the history in clear).

    Masking a mask again would hide what the mask keeps (1990-**-** → **********).
    """
    fill = str((masks.get(kind) or masks.get("text") or {}).get("fill") or "*")
    if isinstance(value, str) and fill in value:
        return value
    return mask_field(value, kind, masks)


VIEW_KEY = "field_view"


def view_for(session: Session, principal: Principal) -> FieldView:
    """The field view of the request (one per session, so events are deduplicated per request)."""
    key = (VIEW_KEY, principal)
    view = session.info.get(key)
    if not isinstance(view, FieldView):
        view = FieldView(session, principal)
        session.info[key] = view
    return view


def forget_views(session: Session) -> None:
    """Drop the session's field views (after a catalogue change, views built before it must not outlive it)."""
    for key in [k for k in session.info if isinstance(k, tuple) and k and k[0] == VIEW_KEY]:
        del session.info[key]


SHAPE_FIELDS = ("masked_fields", "hidden_fields")


def _output(shaped: Shaped, model: type[M]) -> M:
    """The output model of shaped values, naming the masked and hidden fields."""
    return model.model_validate(
        {**shaped.values, "masked_fields": shaped.masked, "hidden_fields": shaped.hidden}
    )


def present(view: FieldView, entity: str, obj: Any, model: type[M], customer_id: int | None = None) -> M:
    """Build an output model (with `masked_fields` / `hidden_fields`) from an ORM object through the view."""
    names = [name for name in model.model_fields if name not in SHAPE_FIELDS]
    shaped = view.shape_object(entity, obj, names, customer_id)
    return _output(shaped, model)


def present_values(
    view: FieldView, entity: str, values: Mapping[str, Any], model: type[M], customer_id: int
) -> M:
    """Build an output model from a dict of values through the view."""
    shaped = view.shape(entity, values, customer_id)
    return _output(shaped, model)


def shape_row(view: FieldView, entity: str, obj: Any, only: Iterable[str] | None = None) -> Shaped:
    """Mapped columns of an ORM object (all, or `only` these), shaped for templates.

    A page that shows a few columns passes `only`: a value never shown is never read, so a grant
    does not log a sensitive read per row for fields the page does not display.
    """
    names = [attr.key for attr in inspect(type(obj)).column_attrs if not attr.key.endswith("_bidx")]
    if only is not None:
        names = [name for name in names if name in set(only)]
    customer_id = obj.id if entity == "customer" else getattr(obj, "customer_id", None)
    return view.shape_object(entity, obj, names, customer_id)
