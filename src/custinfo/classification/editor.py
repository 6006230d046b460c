"""The rule editor's form model: the numeric thresholds and windows of a rule-set definition.

Pure functions, no database: `editable_fields(definition)` lists every numeric
parameter and every numeric condition value (the bounds of a `between` are two
fields), each with a stable form name; `apply_form(definition, form)` returns a
new definition with the submitted values, keeping each value's type (integer,
decimal string, number), or raises Invalid naming every bad field.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from custinfo.core.errors import FieldError, Invalid

MAX_ABS = Decimal("1000000000000")


@dataclass(frozen=True)
class EditableField:
    """One editable number: its form name, where it sits, and its current value."""

    name: str  # p.<parameter> or r.<rule id>.<path>[.lo|.hi]
    rule_id: str | None
    tag: str | None
    feature: str | None
    op: str | None
    bound: str | None  # lo | hi for `between`
    value: str


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if isinstance(value, str):
        try:
            Decimal(value)
        except InvalidOperation:
            return False
        return value.strip() != "" and value.strip().lower() not in ("nan", "inf", "-inf", "infinity")
    return False


def _shown(value: Any) -> str:
    return str(value)


def _conditions(node: Any, path: str) -> list[tuple[str, dict[str, Any]]]:
    """Leaf conditions of a `when` tree with their path ("" for the root, "0.1" inside all/any)."""
    if not isinstance(node, dict):
        return []
    for key in ("all", "any"):
        if isinstance(node.get(key), list):
            found: list[tuple[str, dict[str, Any]]] = []
            for index, child in enumerate(node[key]):
                found.extend(_conditions(child, f"{path}.{index}" if path else str(index)))
            return found
    if isinstance(node.get("not"), dict):
        return _conditions(node["not"], f"{path}.n" if path else "n")
    return [(path, node)] if "feature" in node else []


def editable_fields(definition: dict[str, Any]) -> list[EditableField]:
    """Every numeric parameter and condition value of a definition, in definition order."""
    fields: list[EditableField] = []
    for key, value in (definition.get("parameters") or {}).items():
        if _is_number(value):
            fields.append(EditableField(f"p.{key}", None, None, None, None, None, _shown(value)))
    for rule in definition.get("rules") or []:
        rule_id, tag = str(rule.get("id", "")), rule.get("tag")
        for path, cond in _conditions(rule.get("when"), ""):
            base = f"r.{rule_id}.{path}" if path else f"r.{rule_id}"
            feature, op, value = cond.get("feature"), cond.get("op"), cond.get("value")
            if (
                op == "between"
                and isinstance(value, list)
                and len(value) == 2
                and all(map(_is_number, value))
            ):
                for bound, item in zip(("lo", "hi"), value, strict=True):
                    fields.append(
                        EditableField(f"{base}.{bound}", rule_id, tag, feature, op, bound, _shown(item))
                    )
            elif _is_number(value):
                fields.append(EditableField(base, rule_id, tag, feature, op, None, _shown(value)))
    return fields


def _parse(raw: str, like: Any, name: str) -> Any:
    text = raw.strip().replace(",", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise Invalid([FieldError(name, "number.format")]) from None
    if not number.is_finite() or abs(number) > MAX_ABS:
        raise Invalid([FieldError(name, "number.format")])
    if isinstance(like, int):
        if number != number.to_integral_value():
            raise Invalid([FieldError(name, "number.integer")])
        return int(number)
    if isinstance(like, float):
        return float(number)
    # Keep the stored precision (e.g. "500000.00") unless the user typed more digits; never round.
    places = max(_places(str(like)), _places(text))
    return f"{number:.{places}f}"


def _places(text: str) -> int:
    return len(text.split(".", 1)[1]) if "." in text else 0


def _node_at(when: Any, path: str) -> dict[str, Any]:
    node = when
    for part in path.split(".") if path else []:
        if part == "n":
            node = node["not"]
        else:
            key = "all" if "all" in node else "any"
            node = node[key][int(part)]
    return node


def apply_form(definition: dict[str, Any], form: dict[str, str]) -> dict[str, Any]:
    """A copy of the definition with the submitted values of its editable fields (Invalid names each bad one)."""
    result = copy.deepcopy(definition)
    rules = {str(r.get("id")): r for r in result.get("rules") or []}
    errors: list[FieldError] = []
    for f in editable_fields(definition):
        raw = form.get(f.name)
        if raw is None or raw.strip() == f.value:
            continue
        if not raw.strip():
            errors.append(FieldError(f.name, "field.required"))
            continue
        try:
            if f.rule_id is None:
                key = f.name[2:]
                result["parameters"][key] = _parse(raw, definition["parameters"][key], f.name)
                continue
            path = f.name[len(f"r.{f.rule_id}") + 1 :]
            if f.bound:
                path = path.rsplit(".", 1)[0] if "." in path else ""
            cond = _node_at(rules[f.rule_id]["when"], path)
            if f.bound:
                index = 0 if f.bound == "lo" else 1
                cond["value"][index] = _parse(raw, cond["value"][index], f.name)
            else:
                cond["value"] = _parse(raw, cond["value"], f.name)
        except Invalid as error:
            errors.extend(error.errors)
    for f in editable_fields(result):
        if f.op == "between" and f.bound == "hi":
            lo = next(g for g in editable_fields(result) if g.name == f.name[:-2] + "lo")
            if Decimal(lo.value) > Decimal(f.value):
                errors.append(FieldError(f.name, "number.range_order"))
    if errors:
        raise Invalid(errors)
    return result


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> list[tuple[EditableField, str]]:
    """Fields whose value differs between two definitions: (field as before, new value)."""
    new = {f.name: f.value for f in editable_fields(after)}
    return [(f, new[f.name]) for f in editable_fields(before) if f.name in new and new[f.name] != f.value]
