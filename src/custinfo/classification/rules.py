"""Rules as data: the grammar of a rule-set definition, its validation, and diffs between versions.

Pure: no database. A definition is

    {"parameters": {...windows, lists...},
     "classification_code": {"level1": [dimension...], "level2": [dimension...], "separator": "-"},
     "rules": [{"id": "value.high", "tag": "value_high", "when": <condition>}, ...]}

and a condition is one of `{"always": true}`, `{"all": [cond...]}`,
`{"any": [cond...]}`, `{"not": cond}` or
`{"feature": NAME, "op": OP, "value": V}` with OP in `==, !=, <, <=, >, >=,
between, in, not_in, is_null, not_null`. Rules are evaluated in order; within
a dimension (mutually exclusive tags) the first matching rule wins, a flag tag
is given when any of its rules matches.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from custinfo.classification.features import FEATURES
from custinfo.core.errors import FieldError, Invalid

OPS = ("==", "!=", "<", "<=", ">", ">=", "between", "in", "not_in", "is_null", "not_null")
NUMERIC = frozenset({"money", "int", "days", "years", "ratio"})
REQUIRED_WINDOWS = (
    "annual_days",
    "recent_days",
    "earlier_days_end",
    "short_days",
    "quarter_days",
    "interaction_days",
    "contact_days",
    "engagement_days",
)
RUN_AT = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
MAX_DEPTH = 8
MAX_RULES = 2000


@dataclass(frozen=True)
class TagInfo:
    """What validation and evaluation need to know about a tag."""

    code: str
    dimension: str | None
    source: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class Change:
    """One difference between two definitions."""

    kind: str  # rule_added | rule_removed | rule_changed | rule_moved | parameter_changed | code_changed
    key: str
    before: Any
    after: Any


def slot_of(tag: TagInfo) -> str:
    """The evaluation slot of a tag: its dimension, or the tag itself for a flag."""
    return tag.dimension if tag.dimension else f"flag:{tag.code}"


def slots(definition: dict[str, Any], tags: dict[str, TagInfo]) -> dict[str, list[dict[str, Any]]]:
    """Rules grouped by slot, each slot's rules in definition order."""
    out: dict[str, list[dict[str, Any]]] = {}
    for rule in definition["rules"]:
        out.setdefault(slot_of(tags[rule["tag"]]), []).append(rule)
    return out


def referenced_features(condition: dict[str, Any]) -> Iterator[str]:
    """Names of the features a condition reads, in order of appearance."""
    if "feature" in condition:
        yield condition["feature"]
    for key in ("all", "any"):
        for sub in condition.get(key, []):
            yield from referenced_features(sub)
    if "not" in condition:
        yield from referenced_features(condition["not"])


def snapshot_columns(rules: list[dict[str, Any]]) -> list[str]:
    """The select columns whose values are kept with an assignment made by any of these rules."""
    seen: dict[str, None] = {}
    for rule in rules:
        for name in referenced_features(rule["when"]):
            for column in FEATURES[name].columns:
                seen.setdefault(column, None)
    return list(seen)


# --- validation --------------------------------------------------------------------------------------


def validate(definition: Any, tags: dict[str, TagInfo]) -> dict[str, Any]:
    """A normalised copy of the definition, or Invalid listing every fault (field path + rule)."""
    errors: list[FieldError] = []
    if not isinstance(definition, dict):
        raise Invalid([FieldError("definition", "classification.not_object")])
    result = copy.deepcopy(definition)
    params = result.get("parameters")
    if not isinstance(params, dict):
        errors.append(FieldError("parameters", "classification.not_object"))
        params = {}
    for key in REQUIRED_WINDOWS:
        value = params.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 3660:
            errors.append(FieldError(f"parameters.{key}", "integer.range", {"min": 1, "max": 3660}))
    recent, earlier = params.get("recent_days"), params.get("earlier_days_end")
    if isinstance(recent, int) and isinstance(earlier, int) and earlier <= recent:
        errors.append(
            FieldError("parameters.earlier_days_end", "classification.window_order", {"after": "recent_days"})
        )
    for key in ("online_channels", "offline_channels", "popular_products", "rural_suffixes"):
        value = params.get(key, [])
        if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
            errors.append(FieldError(f"parameters.{key}", "classification.string_list"))
    for key, high in (("popular_top_n", 1000), ("new_product_days", 3660)):
        value = params.get(key, 1)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= high:
            errors.append(FieldError(f"parameters.{key}", "integer.range", {"min": 1, "max": high}))
    if "include_contract_amounts" in params and not isinstance(params["include_contract_amounts"], bool):
        errors.append(FieldError("parameters.include_contract_amounts", "config.yes_no"))
    zone = params.get("timezone", "Asia/Shanghai")
    if not isinstance(zone, str) or not _known_zone(zone):
        errors.append(FieldError("parameters.timezone", "config.timezone", {"value": zone}))
    run_at = params.get("daily_run_at", "02:00")
    if not isinstance(run_at, str) or not RUN_AT.match(run_at):
        errors.append(FieldError("parameters.daily_run_at", "config.clock_time"))
    tiers = params.get("region_tiers", {})
    if not isinstance(tiers, dict) or not all(
        isinstance(v, list) and all(isinstance(x, str) and x for x in v) for v in tiers.values()
    ):
        errors.append(FieldError("parameters.region_tiers", "classification.string_list"))

    code = result.get("classification_code", {"level1": [], "level2": []})
    dimensions = {t.dimension for t in tags.values() if t.dimension}
    if not isinstance(code, dict):
        errors.append(FieldError("classification_code", "classification.not_object"))
    else:
        for level in ("level1", "level2"):
            names = code.get(level, [])
            if not isinstance(names, list):
                errors.append(FieldError(f"classification_code.{level}", "classification.string_list"))
                continue
            for n, name in enumerate(names):
                if name not in dimensions:
                    errors.append(
                        FieldError(
                            f"classification_code.{level}[{n}]",
                            "classification.unknown_dimension",
                            {"value": name},
                        )
                    )
        separator = code.get("separator", "-")
        if not isinstance(separator, str) or not 1 <= len(separator) <= 3:
            errors.append(
                FieldError(
                    "classification_code.separator", "classification.text_length", {"min": 1, "max": 3}
                )
            )

    rules = result.get("rules")
    if not isinstance(rules, list) or not rules:
        errors.append(FieldError("rules", "classification.rules_required"))
        rules = []
    if len(rules) > MAX_RULES:
        errors.append(FieldError("rules", "classification.too_many", {"max": MAX_RULES}))
    seen: set[str] = set()
    for n, rule in enumerate(rules):
        where = f"rules[{n}]"
        if not isinstance(rule, dict):
            errors.append(FieldError(where, "classification.not_object"))
            continue
        rule_id = rule.get("id")
        if not isinstance(rule_id, str) or not 1 <= len(rule_id) <= 80:
            errors.append(FieldError(f"{where}.id", "classification.text_length", {"min": 1, "max": 80}))
        elif rule_id in seen:
            errors.append(FieldError(f"{where}.id", "classification.duplicate_rule", {"value": rule_id}))
        else:
            seen.add(rule_id)
        tag_code = rule.get("tag")
        tag = tags.get(tag_code) if isinstance(tag_code, str) else None
        if tag is None:
            errors.append(
                FieldError(f"{where}.tag", "classification.unknown_tag", {"value": rule.get("tag")})
            )
        elif tag.source != "rule":
            errors.append(FieldError(f"{where}.tag", "classification.manual_tag", {"value": tag.code}))
        if "when" not in rule:
            errors.append(FieldError(f"{where}.when", "field.required"))
        else:
            rule["when"] = _condition(rule["when"], f"{where}.when", errors, 0)
    if errors:
        raise Invalid(errors)
    return result


def _known_zone(name: str) -> bool:
    """Whether the name is a time zone of the tz database (e.g. Asia/Shanghai)."""
    if not name or len(name) > 60:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):
        value = repr(value)
    try:
        number = Decimal(str(value).replace(",", ""))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _operand(feature_type: str, value: Any, where: str, errors: list[FieldError]) -> Any:
    if feature_type in NUMERIC:
        number = _number(value)
        if number is None:
            errors.append(FieldError(where, "classification.number_expected", {"value": value}))
            return value
        if feature_type == "money":
            return f"{number.quantize(Decimal('0.01'))}"
        if feature_type == "ratio":
            return str(number)
        if number != number.to_integral_value():
            errors.append(FieldError(where, "classification.integer_expected", {"value": value}))
            return value
        return int(number)
    if not isinstance(value, str) or len(value) > 200:
        errors.append(FieldError(where, "classification.text_expected", {"value": value}))
    return value


def _condition(cond: Any, where: str, errors: list[FieldError], depth: int) -> Any:
    if depth > MAX_DEPTH:
        errors.append(FieldError(where, "classification.too_deep", {"max": MAX_DEPTH}))
        return cond
    if not isinstance(cond, dict) or len(cond) == 0:
        errors.append(FieldError(where, "classification.not_condition"))
        return cond
    if "always" in cond:
        if cond != {"always": True}:
            errors.append(FieldError(where, "classification.not_condition"))
        return cond
    for key in ("all", "any"):
        if key in cond:
            parts = cond[key]
            if len(cond) != 1 or not isinstance(parts, list) or not parts:
                errors.append(FieldError(f"{where}.{key}", "classification.not_condition"))
                return cond
            return {
                key: [_condition(p, f"{where}.{key}[{n}]", errors, depth + 1) for n, p in enumerate(parts)]
            }
    if "not" in cond:
        if len(cond) != 1:
            errors.append(FieldError(where, "classification.not_condition"))
            return cond
        return {"not": _condition(cond["not"], f"{where}.not", errors, depth + 1)}
    name, op = cond.get("feature"), cond.get("op")
    if not isinstance(name, str) or name not in FEATURES:
        errors.append(FieldError(f"{where}.feature", "classification.unknown_feature", {"value": name}))
        return cond
    if op not in OPS:
        errors.append(
            FieldError(f"{where}.op", "classification.unknown_op", {"value": op, "allowed": ", ".join(OPS)})
        )
        return cond
    extra = set(cond) - {"feature", "op", "value"}
    if extra:
        errors.append(FieldError(where, "classification.unknown_keys", {"value": ", ".join(sorted(extra))}))
    feature = FEATURES[name]
    out: dict[str, Any] = {"feature": name, "op": op}
    if op in ("is_null", "not_null"):
        return out
    value = cond.get("value")
    if op == "between":
        if not isinstance(value, list) or len(value) != 2:
            errors.append(FieldError(f"{where}.value", "classification.pair_expected"))
            return cond
        out["value"] = [_operand(feature.type, v, f"{where}.value[{n}]", errors) for n, v in enumerate(value)]
        if feature.type not in NUMERIC:
            errors.append(FieldError(f"{where}.op", "classification.numeric_only", {"feature": name}))
    elif op in ("in", "not_in"):
        if not isinstance(value, list) or not value or len(value) > 500:
            errors.append(FieldError(f"{where}.value", "classification.list_expected"))
            return cond
        out["value"] = [_operand(feature.type, v, f"{where}.value[{n}]", errors) for n, v in enumerate(value)]
    else:
        if op in ("<", "<=", ">", ">=") and feature.type not in NUMERIC:
            errors.append(FieldError(f"{where}.op", "classification.numeric_only", {"feature": name}))
        out["value"] = _operand(feature.type, value, f"{where}.value", errors)
    return out


# --- diff --------------------------------------------------------------------------------------------


def diff(a: dict[str, Any], b: dict[str, Any]) -> list[Change]:
    """Differences from definition a to definition b."""
    changes: list[Change] = []
    pa, pb = a.get("parameters", {}), b.get("parameters", {})
    for key in sorted(set(pa) | set(pb)):
        if pa.get(key) != pb.get(key):
            changes.append(Change("parameter_changed", key, pa.get(key), pb.get(key)))
    if a.get("classification_code") != b.get("classification_code"):
        changes.append(
            Change(
                "code_changed",
                "classification_code",
                a.get("classification_code"),
                b.get("classification_code"),
            )
        )
    ra = {r["id"]: (n, r) for n, r in enumerate(a.get("rules", []))}
    rb = {r["id"]: (n, r) for n, r in enumerate(b.get("rules", []))}
    for rule_id, (_n, rule) in ra.items():
        if rule_id not in rb:
            changes.append(Change("rule_removed", rule_id, rule, None))
    order_a = [rid for rid in ra if rid in rb]
    order_b = [rid for rid in rb if rid in ra]
    for rule_id, (_n, rule) in rb.items():
        if rule_id not in ra:
            changes.append(Change("rule_added", rule_id, None, rule))
            continue
        before = ra[rule_id][1]
        if before != rule:
            changes.append(Change("rule_changed", rule_id, before, rule))
        elif order_a.index(rule_id) != order_b.index(rule_id):
            changes.append(Change("rule_moved", rule_id, order_a.index(rule_id), order_b.index(rule_id)))
    return changes
