"""Explanations in words: the rule that gave a tag, with the feature values it saw.

"年合作金额 612,300.00 元 ≥ 500,000.00 元 → 高价值" / "annual amount 612,300.00 yuan ≥ 500,000.00 yuan → High value".

A feature value is a figure computed from customer fields (`SOURCES`); it is shown
only to a caller who sees every one of those fields in clear. For anyone else the
condition keeps the rule's wording without the value ("年合作金额 ≥ 500,000.00 元"),
and the stored feature values are left out of what is returned.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from custinfo.classification.categories.service import explainable_rules
from custinfo.classification.features import FEATURES, Feature, ratio_value
from custinfo.classification.models import RuleSetVersion, Tag
from custinfo.classification.repository import AssignmentView, EvaluationView
from custinfo.customers.vocabulary import current_vocabularies

# The customer fields (entity, field) each column feature is computed from; a ratio reads its two columns.
_ORDER_AMOUNT = (("order", "amount"), ("order", "ordered_on"))
_ORDER_DATES = (("order", "ordered_on"),)
_CONTRACTS = (("contract", "status"), ("contract", "signed_on"))
_INTERACTIONS = (("interaction", "kind"), ("interaction", "occurred_at"))
_VIEWS = (("engagement", "event_type"), ("engagement", "occurred_at"))
SOURCES: dict[str, tuple[tuple[str, str], ...]] = {
    "kind": (),
    "gender": (("customer", "gender"),),
    "occupation": (("customer", "occupation"),),
    "industry": (("customer", "industry"),),
    "customer_type": (("customer", "customer_type"),),
    "region_tier": (("customer", "region"),),
    "employee_count": (("customer", "employee_count"),),
    "age_years": (("customer", "birth_date"),),
    "company_age_years": (("customer", "founded_on"),),
    "annual_amount": (*_ORDER_AMOUNT, ("contract", "amount"), ("contract", "signed_on")),
    "amount_recent": _ORDER_AMOUNT,
    "amount_earlier": _ORDER_AMOUNT,
    "orders_30d": _ORDER_DATES,
    "orders_90d": _ORDER_DATES,
    "last_order_days": _ORDER_DATES,
    "first_order_days": _ORDER_DATES,
    "tenure_days": (*_ORDER_DATES, ("contract", "signed_on")),
    "dominant_category": (("order", "category"), *_ORDER_DATES),
    "active_contracts": (*_CONTRACTS, ("contract", "starts_on"), ("contract", "ends_on")),
    "negotiating_contracts": _CONTRACTS,
    "contract_ended_days": (*_CONTRACTS, ("contract", "ends_on"), ("contract", "terminated_on")),
    "contract_end_date": (*_CONTRACTS, ("contract", "ends_on")),
    "contract_amount_365d": (("contract", "amount"), ("contract", "signed_on")),
    "core_need": (("need", "core_need"), ("need", "recorded_at")),
    "interactions_365d": _INTERACTIONS,
    "complaints_365d": _INTERACTIONS,
    "visits_365d": _INTERACTIONS,
    "contacts_90d": _INTERACTIONS,
    "online_365d": (*_INTERACTIONS, ("interaction", "channel")),
    "offline_365d": (*_INTERACTIONS, ("interaction", "channel")),
    "satisfaction_sum": (("interaction", "satisfaction"), *_INTERACTIONS),
    "satisfaction_count": (("interaction", "satisfaction"), *_INTERACTIONS),
    "views_90d": _VIEWS,
    "new_product_views_90d": (*_VIEWS, ("engagement", "is_new_product")),
    "popular_views_90d": (*_VIEWS, ("engagement", "product")),
    "top_view_category_views": (*_VIEWS, ("engagement", "category")),
}
ClearTest = Callable[[str, str], bool]  # (entity, field) → does the caller see it in clear


def withheld_features(clear: ClearTest) -> frozenset[str]:
    """Features (columns and ratios) whose value the caller may not see: some source field is not clear."""
    columns = {name for name, sources in SOURCES.items() if not all(clear(e, f) for e, f in sources)}
    ratios = {f.name for f in FEATURES.values() if f.type == "ratio" and set(f.columns) & columns}
    return frozenset(columns | ratios)


SYMBOLS = {"==": "=", "!=": "≠", "<": "<", "<=": "≤", ">": ">", ">=": "≥"}
PERCENT_RATIOS = frozenset(
    {"growth", "complaint_rate", "online_share", "offline_share", "top_view_category_share"}
)
WORDS = {
    "zh_CN": {
        "and": "，且 ",
        "or": " 或 ",
        "not": "并非",
        "always": "其余情况",
        "yuan": "元",
        "none": "无",
        "between": "介于",
        "in": "属于",
        "not_in": "不属于",
        "is_null": "为空",
        "not_null": "不为空",
        "manual": "人工标记",
        "by": "，经",
        "inf": "∞（前期为零）",
        "rule_missing": "给出此标签的规则已不在规则版本 v{version} 中 → {tag}",
        "is": "为",
        "is_not": "为{seen}，不是",
        "list_sep": "、",
        "clause_sep": "，",
        "kind.individual": "个人客户",
        "kind.company": "企业客户",
        "region.tier1": "一线城市",
        "region.tier2": "二线城市",
        "region.tier3": "三线城市",
        "region.rural": "县域及农村",
    },
    "en": {
        "and": ", and ",
        "or": " or ",
        "not": "not ",
        "always": "otherwise",
        "yuan": "yuan",
        "none": "none",
        "between": "between",
        "in": "in",
        "not_in": "not in",
        "is_null": "is empty",
        "not_null": "is present",
        "manual": "set manually",
        "by": ", by",
        "inf": "∞ (nothing before)",
        "rule_missing": "the rule that gave this tag is no longer in rule set v{version} → {tag}",
        "is": " is ",
        "is_not": " is {seen}, not ",
        "list_sep": ", ",
        "clause_sep": "; ",
        "kind.individual": "individual",
        "kind.company": "company",
        "region.tier1": "tier-1 city",
        "region.tier2": "tier-2 city",
        "region.tier3": "tier-3 city",
        "region.rural": "county or rural area",
    },
}


# Text features whose stored value is a code of a customer vocabulary: shown by its label.
VOCABULARY_OF = {
    "gender": "gender",
    "occupation": "occupation",
    "industry": "industry",
    "customer_type": "customer_type",
    "core_need": "core_need",
}
NEGATED = {"==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<"}
NEGATED_OPS = {"in": "not_in", "not_in": "in", "is_null": "not_null", "not_null": "is_null"}


def _lang(language: str) -> str:
    return "en" if language.startswith("en") else "zh_CN"


def _label(feature: Feature, lang: str) -> str:
    return feature.label_zh if lang == "zh_CN" else feature.label_en


def _money(fen: Any, lang: str) -> str:
    yuan = (Decimal(int(fen)) / 100).quantize(Decimal("0.01"))
    return f"{yuan:,.2f} {WORDS[lang]['yuan']}"


def _percent(number: Decimal) -> str:
    text = f"{(number * 100).quantize(Decimal('0.1')):f}"
    return (text.rstrip("0").rstrip(".") if "." in text else text) + "%"


def value_label(feature_name: str, code: Any, lang: str) -> str:
    """A text feature's value in words: a vocabulary term, customer kind or region tier by its label."""
    text = str(code)
    if feature_name == "kind" or feature_name == "region_tier":
        key = f"{'kind' if feature_name == 'kind' else 'region'}.{text}"
        return WORDS[lang].get(key, text)
    vocabulary = current_vocabularies().get(VOCABULARY_OF.get(feature_name, ""))
    return vocabulary.label(text, lang) if vocabulary is not None else text


def _value(feature: Feature, raw: Any, lang: str, from_rule: bool) -> str:
    """Format a feature value (stored form) or a rule operand (rule form) for display."""
    words = WORDS[lang]
    if raw is None:
        return words["none"]
    if raw == "inf":
        return words["inf"]
    if feature.type == "money":
        return _money(int(Decimal(str(raw)) * 100) if from_rule else raw, lang)
    if feature.type == "ratio":
        number = Decimal(str(raw))
        if feature.name in PERCENT_RATIOS:
            return _percent(number)
        return f"{number.quantize(Decimal('0.01'))}"
    if feature.type == "str":
        return value_label(feature.name, raw, lang)
    unit = feature.unit_zh if lang == "zh_CN" else feature.unit_en
    return f"{raw} {unit}".strip() if unit else f"{raw}"


def _seen(feature: Feature, features: dict[str, Any]) -> Any:
    if feature.type == "ratio":
        return ratio_value(feature, features)
    return features.get(feature.name)


def _leaf_text(cond: dict[str, Any], features: dict[str, Any], lang: str, withheld: Collection[str]) -> str:
    """One comparison in words, with the value seen unless withheld."""
    words = WORDS[lang]
    feature = FEATURES[cond["feature"]]
    name, op = _label(feature, lang), cond["op"]
    shown = feature.name not in withheld
    seen = _value(feature, _seen(feature, features), lang, from_rule=False) if shown else None
    if op in ("is_null", "not_null"):
        return f"{name} {words[op]}"
    if op in ("in", "not_in"):
        listed = words["list_sep"].join(_value(feature, v, lang, from_rule=True) for v in cond["value"])
        prefix = f"{name}{words['is']}{seen}" if seen is not None else name
        return f"{prefix}（{words[op]} {listed}）" if lang == "zh_CN" else f"{prefix} ({words[op]} {listed})"
    if feature.type == "str" and op in ("==", "!="):
        wanted = _value(feature, cond["value"], lang, from_rule=True)
        if op == "==":
            return f"{name}{words['is']}{wanted}"
        if seen is None:
            return f"{name} ≠ {wanted}"
        return f"{name}{words['is_not'].format(seen=seen)}{wanted}"
    label = f"{name} {seen}" if seen is not None else name
    if op == "between":
        low, high = (_value(feature, v, lang, from_rule=True) for v in cond["value"])
        return f"{label} {words['between']} {low}–{high}"
    return f"{label} {SYMBOLS[op]} {_value(feature, cond['value'], lang, from_rule=True)}"


def condition_text(
    cond: dict[str, Any], features: dict[str, Any], lang: str, withheld: Collection[str] = frozenset()
) -> str:
    """One condition in words, with the value seen (only the rule's wording for a withheld feature)."""
    words = WORDS[lang]
    if "always" in cond:
        return words["always"]
    if "all" in cond:
        return words["and"].join(condition_text(c, features, lang, withheld) for c in cond["all"])
    if "any" in cond:
        return "(" + words["or"].join(condition_text(c, features, lang, withheld) for c in cond["any"]) + ")"
    if "not" in cond:
        return words["not"] + "(" + condition_text(cond["not"], features, lang, withheld) + ")"
    return _leaf_text(cond, features, lang, withheld)


# --- why the earlier rules of a dimension did not apply -----------------------------------------------


def _operand(feature: Feature, value: Any) -> Any:
    if feature.type == "money":
        return int((Decimal(str(value)) * 100).to_integral_value())
    if feature.type in ("int", "days", "years"):
        return int(value)
    if feature.type == "ratio":
        return Decimal(str(value))
    return value


def _compare(seen: Any, op: str, value: Any) -> bool:
    if seen == "inf":
        return op in (">", ">=", "!=")
    return bool(
        {
            "==": seen == value,
            "!=": seen != value,
            "<": seen < value,
            "<=": seen <= value,
            ">": seen > value,
            ">=": seen >= value,
        }[op]
    )


def holds(cond: dict[str, Any], features: dict[str, Any]) -> bool | None:
    """Whether a condition holds on stored figures (None when a figure it needs was not kept)."""
    if "always" in cond:
        return True
    if "all" in cond or "any" in cond:
        parts = [holds(c, features) for c in cond.get("all", cond.get("any", []))]
        if None in parts:
            return None
        return all(parts) if "all" in cond else any(parts)
    if "not" in cond:
        inner = holds(cond["not"], features)
        return None if inner is None else not inner
    feature = FEATURES[cond["feature"]]
    if not all(column in features for column in feature.columns):
        return None
    seen, op = _seen(feature, features), cond["op"]
    if op in ("is_null", "not_null"):
        return (seen is None) == (op == "is_null")
    if seen is None:
        return False
    if feature.type in ("money", "int", "days", "years"):
        seen = int(seen)  # stored in fen already: only the rule's operands are in yuan
    try:
        if op == "between":
            low, high = (_operand(feature, v) for v in cond["value"])
            return _compare(seen, ">=", low) and _compare(seen, "<=", high)
        if op in ("in", "not_in"):
            inside = any(_compare(seen, "==", _operand(feature, v)) for v in cond["value"])
            return inside if op == "in" else not inside
        return _compare(seen, op, _operand(feature, cond["value"]))
    except TypeError:
        return None


def _negated(cond: dict[str, Any]) -> dict[str, Any]:
    op = cond["op"]
    return {**cond, "op": NEGATED.get(op) or NEGATED_OPS.get(op, op)}


def missed(
    cond: dict[str, Any], features: dict[str, Any], lang: str, withheld: Collection[str] = frozenset()
) -> list[str]:
    """Why a condition did not hold, as the thresholds it missed ("年合作金额 120,000.00 元 < 500,000.00 元")."""
    if "always" in cond:
        return []
    if "all" in cond:
        return [
            p for c in cond["all"] if holds(c, features) is False for p in missed(c, features, lang, withheld)
        ]
    if "any" in cond:
        return [p for c in cond["any"] for p in missed(c, features, lang, withheld)]
    if "not" in cond:
        return [condition_text(cond["not"], features, lang, withheld)]
    if cond["op"] == "between":
        low, high = cond["value"]
        below = holds({**cond, "op": "<", "value": low}, features)
        return [
            _leaf_text(
                {**cond, "op": "<" if below else ">", "value": low if below else high},
                features,
                lang,
                withheld,
            )
        ]
    return [_leaf_text(_negated(cond), features, lang, withheld)]


def explain_rule(
    rule: dict[str, Any],
    features: dict[str, Any],
    tag_name: str,
    lang: str,
    withheld: Collection[str] = frozenset(),
    earlier: Collection[dict[str, Any]] = (),
) -> str:
    """The whole reason: the thresholds the dimension's earlier rules missed, the rule's own conditions, the tag.

    `earlier` are the rules of the same dimension before this one; a fallback rule (`always`) applies
    because they did not, so it names the thresholds each missed. An earlier rule whose outcome the
    kept figures cannot tell is left out rather than told wrongly.
    """
    words = WORDS[lang]
    phrases: list[str] = []
    fallback = "always" in rule["when"]
    for other in earlier if fallback else ():
        if holds(other["when"], features) is False:
            phrases += missed(other["when"], features, lang, withheld)
    if not fallback or not phrases:
        phrases.append(condition_text(rule["when"], features, lang, withheld))
    unique = list(dict.fromkeys(phrases))
    return f"{words['clause_sep'].join(unique)} → {tag_name}"


def attach(
    session: Session,
    views: list[AssignmentView],
    language: str,
    clear: ClearTest | None = None,
    latest: EvaluationView | None = None,
    earlier: Collection[EvaluationView] = (),
) -> list[AssignmentView]:
    """Fill `explanation` of each assignment view, in the language asked for, as the caller may see it.

    `clear` says which customer fields the caller sees in clear (None: every field, the operator's CLI);
    a feature computed from any other field is told without its value and dropped from `features`.
    `latest` is the customer's latest evaluation: an open rule tag it confirmed is explained with its
    figures, and the figures it was given with (and `earlier` evaluations since) become its history.
    """
    lang = _lang(language)
    withheld = withheld_features(clear) if clear is not None else frozenset()
    version_ids = {v.rule_set_version_id for v in views if v.rule_set_version_id}
    definitions: dict[int, list[dict[str, Any]]] = {}
    if version_ids:
        rows = session.execute(
            select(RuleSetVersion.id, RuleSetVersion.definition).where(RuleSetVersion.id.in_(version_ids))
        )
        definitions = {
            vid: explainable_rules(session, list(definition.get("rules", []))) for vid, definition in rows
        }
    dimension_of = (
        {code: dim for code, dim in session.execute(select(Tag.code, Tag.dimension))} if definitions else {}
    )
    for view in views:
        name = view.name_zh if lang == "zh_CN" else view.name_en
        if view.source == "manual":
            reason = (
                f"：{view.reason}"
                if lang == "zh_CN" and view.reason
                else (f": {view.reason}" if view.reason else "")
            )
            view.explanation = (
                f"{WORDS[lang]['manual']}{reason}{WORDS[lang]['by']} {view.assigned_by} → {name}"
            )
            continue
        rules = definitions.get(view.rule_set_version_id or 0, [])
        position = next((n for n, r in enumerate(rules) if r["id"] == view.rule_id), None)
        if position is None:
            view.explanation = WORDS[lang]["rule_missing"].format(version=view.rule_set_version, tag=name)
            continue
        rule = rules[position]
        before = (
            [r for r in rules[:position] if dimension_of.get(r["tag"]) == view.dimension]
            if view.dimension
            else []
        )

        given = EvaluationView(view.as_of, dict(view.features or {}))
        view.evaluated_as_of = view.as_of
        if view.valid_to is None and latest is not None and _confirms(latest, view):
            kept = list(given.features) or list(latest.features)
            view.features = {k: latest.features.get(k) for k in kept}
            view.evaluated_as_of = latest.as_of
            history: list[EvaluationView] = []
            shown = view.features
            for entry in [
                *sorted((e for e in earlier if _after(e, given)), key=_newest, reverse=True),
                given,
            ]:
                figures = {k: entry.features.get(k) for k in kept}
                if figures != shown:
                    history.append(EvaluationView(entry.as_of, figures))
                    shown = figures
            view.history = history
        view.explanation = explain_rule(rule, view.features or {}, name, lang, withheld, before)
        for entry in view.history:
            entry.explanation = explain_rule(rule, entry.features, name, lang, withheld, before)
    if withheld:
        for view in views:
            if view.features:
                view.features = {k: v for k, v in view.features.items() if k not in withheld}
            for entry in view.history:
                entry.features = {k: v for k, v in entry.features.items() if k not in withheld}
    return views


def _confirms(latest: EvaluationView, view: AssignmentView) -> bool:
    """Whether the latest evaluation is at least as recent as the one the tag was given with."""
    return latest.as_of is not None and (view.as_of is None or latest.as_of >= view.as_of)


def _newest(entry: EvaluationView) -> Any:
    return (entry.as_of is not None, entry.as_of)


def _after(entry: EvaluationView, given: EvaluationView) -> bool:
    return entry.as_of is not None and (given.as_of is None or entry.as_of >= given.as_of)
