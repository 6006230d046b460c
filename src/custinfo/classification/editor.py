"""The rule editor's form model: every parameter and condition value of a rule-set definition.

Pure functions, no database: `editable_fields(definition)` lists every parameter
(numbers, yes/no, texts, lists of texts, and the lists of a mapping such as the
city tiers) and every condition value (numbers — the bounds of a `between` are
two fields —, texts compared with = or ≠, and the lists of `in` / `not in`), each
with a stable form name and a kind; `apply_form(definition, form)` returns a new
definition with the submitted values, keeping each value's type (integer, decimal
string, number, text, list), or raises Invalid naming every bad field. A list is
typed one item per line.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from custinfo.classification.features import FEATURES
from custinfo.core.errors import FieldError, Invalid

MAX_ABS = Decimal("1000000000000")
MAX_TEXT = 200
MAX_ITEMS = 500
LIST_SEPARATORS = re.compile(r"[\n\r]+")  # one per line: values such as 农、林、牧、渔业 contain 、
# Features compared as text: their = / ≠ values and in / not-in lists are editable as text.
TEXT_FEATURES = frozenset(name for name, feature in FEATURES.items() if feature.type == "str")


@dataclass(frozen=True)
class EditableField:
    """One editable value: its form name, where it sits, its kind and its current value as the form shows it."""

    name: str  # p.<parameter>[.<key>] or r.<rule id>.<path>[.lo|.hi]
    rule_id: str | None
    tag: str | None
    feature: str | None
    op: str | None
    bound: str | None  # lo | hi for `between`
    value: str
    kind: str = "number"  # number | bool | text | list


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
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "\n".join(str(v) for v in value)
    return str(value)


def _is_text_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


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


def _parameter_fields(key: str, value: Any) -> list[EditableField]:
    if isinstance(value, bool):
        return [EditableField(f"p.{key}", None, None, None, None, None, _shown(value), "bool")]
    if _is_number(value):
        return [EditableField(f"p.{key}", None, None, None, None, None, _shown(value))]
    if isinstance(value, str):
        return [EditableField(f"p.{key}", None, None, None, None, None, value, "text")]
    if _is_text_list(value):
        return [EditableField(f"p.{key}", None, None, None, None, None, _shown(value), "list")]
    if isinstance(value, dict) and all(_is_text_list(v) for v in value.values()):
        return [
            EditableField(f"p.{key}.{sub}", None, None, None, None, sub, _shown(items), "list")
            for sub, items in value.items()
        ]
    return []


def editable_fields(
    definition: dict[str, Any], text_features: frozenset[str] = TEXT_FEATURES
) -> list[EditableField]:
    """Every parameter and condition value of a definition, in definition order.

    `text_features` names the features compared as text (their = / ≠ values and lists are editable);
    a number is editable wherever it appears.
    """
    fields: list[EditableField] = []
    for key, value in (definition.get("parameters") or {}).items():
        fields.extend(_parameter_fields(key, value))
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
            elif feature in text_features and op in ("in", "not_in") and _is_text_list(value):
                fields.append(EditableField(base, rule_id, tag, feature, op, None, _shown(value), "list"))
            elif feature in text_features and op in ("==", "!=") and isinstance(value, str):
                fields.append(EditableField(base, rule_id, tag, feature, op, None, value, "text"))
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


def split_list(raw: str) -> list[str]:
    """The items of a list typed one per line (blanks dropped, order kept)."""
    return [item.strip() for item in LIST_SEPARATORS.split(raw or "") if item.strip()]


def _parse_kind(raw: str, f: EditableField, like: Any) -> Any:
    """The submitted value of a field of any kind, typed like the value it replaces."""
    if f.kind == "number":
        return _parse(raw, like, f.name)
    if f.kind == "bool":
        if raw.strip().lower() not in ("true", "false"):
            raise Invalid([FieldError(f.name, "config.yes_no")])
        return raw.strip().lower() == "true"
    if f.kind == "text":
        text = raw.strip()
        if len(text) > MAX_TEXT:
            raise Invalid([FieldError(f.name, "text.too_long", {"max": MAX_TEXT})])
        return text
    items = split_list(raw)
    if len(items) > MAX_ITEMS:
        raise Invalid([FieldError(f.name, "vocabulary.too_many", {"max": MAX_ITEMS})])
    if any(len(item) > MAX_TEXT for item in items):
        raise Invalid([FieldError(f.name, "text.too_long", {"max": MAX_TEXT})])
    if f.rule_id is not None and not items:  # `in` / `not in` needs at least one value
        raise Invalid([FieldError(f.name, "field.required")])
    return items


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


def _unchanged(raw: str, f: EditableField) -> bool:
    if f.kind == "list":  # the order of a list's items carries no meaning (checkboxes send theirs)
        return sorted(split_list(raw)) == sorted(split_list(f.value))
    return raw.strip() == f.value


def apply_form(
    definition: dict[str, Any], form: dict[str, str], text_features: frozenset[str] = TEXT_FEATURES
) -> dict[str, Any]:
    """A copy of the definition with the submitted values of its editable fields (Invalid names each bad one).

    A field left out of the form keeps its value; an emptied number or text is refused.
    """
    result = copy.deepcopy(definition)
    rules = {str(r.get("id")): r for r in result.get("rules") or []}
    errors: list[FieldError] = []
    for f in editable_fields(definition, text_features):
        raw = form.get(f.name)
        if raw is None or _unchanged(raw, f):
            continue
        if not raw.strip() and f.kind in ("number", "text", "bool"):
            errors.append(FieldError(f.name, "field.required"))
            continue
        try:
            if f.rule_id is None:
                key = f.name[2:]
                if f.bound is not None and f.kind == "list":  # one list of a mapping (p.region_tiers.tier1)
                    key = key[: -len(f.bound) - 1]
                    result["parameters"][key][f.bound] = _parse_kind(raw, f, None)
                else:
                    result["parameters"][key] = _parse_kind(raw, f, definition["parameters"][key])
                continue
            path = f.name[len(f"r.{f.rule_id}") + 1 :]
            if f.bound:
                path = path.rsplit(".", 1)[0] if "." in path else ""
            cond = _node_at(rules[f.rule_id]["when"], path)
            if f.bound:
                index = 0 if f.bound == "lo" else 1
                cond["value"][index] = _parse(raw, cond["value"][index], f.name)
            else:
                cond["value"] = _parse_kind(raw, f, cond["value"])
        except Invalid as error:
            errors.extend(error.errors)
    for f in editable_fields(result, text_features):
        if f.op == "between" and f.bound == "hi":
            lo = next(g for g in editable_fields(result) if g.name == f.name[:-2] + "lo")
            if Decimal(lo.value) > Decimal(f.value):
                errors.append(FieldError(f.name, "number.range_order"))
    if errors:
        raise Invalid(errors)
    return result


def changed_fields(
    before: dict[str, Any], after: dict[str, Any], text_features: frozenset[str] = TEXT_FEATURES
) -> list[tuple[EditableField, str]]:
    """Fields whose value differs between two definitions: (field as before, new value)."""
    new = {f.name: f.value for f in editable_fields(after, text_features)}
    return [
        (f, new[f.name])
        for f in editable_fields(before, text_features)
        if f.name in new and new[f.name] != f.value
    ]


# --- the readable diff of two definitions -----------------------------------------------------------


class Words(Protocol):
    """How the readable diff names things: every label comes from the caller (language, vocabularies)."""

    def t(self, key: str, **params: Any) -> str:
        """A translated text."""
        ...

    def parameter(self, key: str) -> str:
        """The label of a rule-set parameter."""
        ...

    def feature(self, name: str) -> str:
        """The label of a feature."""
        ...

    def tag(self, code: str) -> str:
        """The name of a tag."""
        ...

    def dimension(self, code: str) -> str:
        """The name of a dimension."""
        ...

    def value(self, feature: str, value: Any) -> str:
        """A condition value (or a parameter list item) shown by its label."""
        ...


@dataclass(frozen=True)
class DiffRow:
    """One line of the readable diff: what changed (kind, item) and the old and new values, in words."""

    kind: str  # parameter_changed | code_changed | rule_added | rule_removed | rule_changed | rule_moved
    item: str
    before: str
    after: str


SYMBOLS = {"==": "=", "!=": "≠", "<": "<", "<=": "≤", ">": ">", ">=": "≥"}
LIST_PARAMETER_FEATURES = {"online_channels": "channel", "offline_channels": "channel"}


def _number_text(value: Any) -> str:
    number = Decimal(str(value))
    places = _places(str(value))
    return f"{number:,.{places}f}"


def _value_text(value: Any, words: Words, feature: str = "", key: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return words.t("config.yes" if value else "config.no")
    if isinstance(value, list):
        return "、".join(_value_text(v, words, feature, key) for v in value) or "—"
    if isinstance(value, dict):
        return "；".join(
            f"{words.value(key, k)}: {_value_text(v, words, feature, key)}" for k, v in value.items()
        )
    if _is_number(value) and not isinstance(value, str | bool):
        return _number_text(value)
    if isinstance(value, str) and feature:
        return words.value(feature, value)
    if isinstance(value, str) and _is_number(value) and key:
        return _number_text(value)
    return words.value(LIST_PARAMETER_FEATURES.get(key, key), value) if key else str(value)


def condition_text(node: Any, words: Words) -> str:
    """A condition in words: "年合作金额 ≥ 500,000.00", "(a 且 b)", "非 (…)"."""
    if not isinstance(node, dict):
        return "—"
    if node.get("always"):
        return words.t("config.cond.always")
    for key in ("all", "any"):
        if isinstance(node.get(key), list):
            joined = words.t(f"config.cond.{key}").join(condition_text(c, words) for c in node[key])
            return f"({joined})" if len(node[key]) > 1 else joined
    if "not" in node:
        return words.t("config.cond.not", cond=condition_text(node["not"], words))
    name, op, value = str(node.get("feature", "")), node.get("op"), node.get("value")
    label = words.feature(name)
    if op in SYMBOLS:
        shown = _number_text(value) if _is_number(value) else _value_text(value, words, name)
        return f"{label} {SYMBOLS[op]} {shown}"
    if op == "between" and isinstance(value, list) and len(value) == 2:
        lo, hi = (_number_text(v) if _is_number(v) else str(v) for v in value)
        return words.t("config.cond.between", feature=label, lo=lo, hi=hi)
    if op in ("in", "not_in", "is_null", "not_null"):
        return words.t(f"config.cond.{op}", feature=label, values=_value_text(value, words, name))
    return label


def _code_text(code: Any, words: Words) -> tuple[str, str, str]:
    code = code if isinstance(code, dict) else {}
    level1 = "、".join(words.dimension(d) for d in code.get("level1", [])) or "—"
    level2 = "、".join(words.dimension(d) for d in code.get("level2", [])) or "—"
    return level1, level2, str(code.get("separator", "-"))


def _leaf_rows(rule_id: str, tag: str, before: Any, after: Any, words: Words) -> list[DiffRow] | None:
    """Value-only changes of one rule, one row per changed condition; None when its shape changed."""
    old, new = _conditions(before, ""), _conditions(after, "")
    if [(p, c.get("feature"), c.get("op")) for p, c in old] != [
        (p, c.get("feature"), c.get("op")) for p, c in new
    ]:
        return None
    rows = []
    for (_path, a), (_same, b) in zip(old, new, strict=True):
        if a.get("value") != b.get("value"):
            feature = str(a.get("feature", ""))
            op = a.get("op")
            what = f"{words.tag(tag)} · {words.feature(feature)} {SYMBOLS.get(str(op), words.t('config.op.' + str(op)))}"
            rows.append(
                DiffRow(
                    "rule_changed",
                    what,
                    _condition_value(a, words),
                    _condition_value(b, words),
                )
            )
    return rows


def _condition_value(cond: dict[str, Any], words: Words) -> str:
    value, feature = cond.get("value"), str(cond.get("feature", ""))
    if cond.get("op") == "between" and isinstance(value, list) and len(value) == 2:
        return " – ".join(_number_text(v) if _is_number(v) else str(v) for v in value)
    return _number_text(value) if _is_number(value) else _value_text(value, words, feature)


def describe_changes(a: dict[str, Any], b: dict[str, Any], words: Words) -> list[DiffRow]:
    """What changed from definition a to b as rows of words: parameter by label, old → new, values by label."""
    rows: list[DiffRow] = []
    pa, pb = a.get("parameters") or {}, b.get("parameters") or {}
    for key in [*pa, *(k for k in pb if k not in pa)]:
        if pa.get(key) != pb.get(key):
            rows.append(
                DiffRow(
                    "parameter_changed",
                    words.parameter(key),
                    _value_text(pa.get(key), words, key=key),
                    _value_text(pb.get(key), words, key=key),
                )
            )
    if (a.get("classification_code") or {}) != (b.get("classification_code") or {}):
        before, after = (
            _code_text(a.get("classification_code"), words),
            _code_text(b.get("classification_code"), words),
        )
        for n, part in enumerate(("level1", "level2", "separator")):
            if before[n] != after[n]:
                rows.append(DiffRow("code_changed", words.t(f"config.code.{part}"), before[n], after[n]))
    ra = {str(r.get("id")): r for r in a.get("rules") or []}
    rb = {str(r.get("id")): r for r in b.get("rules") or []}
    for rule_id, rule in ra.items():
        if rule_id not in rb:
            rows.append(
                DiffRow(
                    "rule_removed",
                    words.tag(str(rule.get("tag"))),
                    condition_text(rule.get("when"), words),
                    "—",
                )
            )
    order_a = [rid for rid in ra if rid in rb]
    order_b = [rid for rid in rb if rid in ra]
    for rule_id, rule in rb.items():
        tag = str(rule.get("tag"))
        if rule_id not in ra:
            rows.append(DiffRow("rule_added", words.tag(tag), "—", condition_text(rule.get("when"), words)))
            continue
        old = ra[rule_id]
        if old != rule:
            leaves = (
                _leaf_rows(rule_id, tag, old.get("when"), rule.get("when"), words)
                if old.get("tag") == tag
                else None
            )
            if leaves is None:
                rows.append(
                    DiffRow(
                        "rule_changed",
                        words.tag(tag),
                        f"{condition_text(old.get('when'), words)} → {words.tag(str(old.get('tag')))}",
                        f"{condition_text(rule.get('when'), words)} → {words.tag(tag)}",
                    )
                )
            else:
                rows.extend(leaves)
        elif order_a.index(rule_id) != order_b.index(rule_id):
            rows.append(
                DiffRow(
                    "rule_moved",
                    f"{words.tag(tag)} · {condition_text(rule.get('when'), words)}",
                    words.t("config.position", n=order_a.index(rule_id) + 1),
                    words.t("config.position", n=order_b.index(rule_id) + 1),
                )
            )
    return rows
