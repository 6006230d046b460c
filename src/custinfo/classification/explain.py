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

from custinfo.classification.features import FEATURES, Feature, ratio_value
from custinfo.classification.models import RuleSetVersion
from custinfo.classification.repository import AssignmentView

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
        "rule_missing": "规则 {rule} 已不在版本 v{version} 中",
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
        "rule_missing": "rule {rule} is no longer in version v{version}",
    },
}


def _lang(language: str) -> str:
    return "en" if language.startswith("en") else "zh_CN"


def _label(feature: Feature, lang: str) -> str:
    return feature.label_zh if lang == "zh_CN" else feature.label_en


def _money(fen: Any, lang: str) -> str:
    yuan = (Decimal(int(fen)) / 100).quantize(Decimal("0.01"))
    return f"{yuan:,.2f} {WORDS[lang]['yuan']}"


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
            return f"{(number * 100).quantize(Decimal('0.01'))}%"
        return f"{number.quantize(Decimal('0.01'))}"
    unit = feature.unit_zh if lang == "zh_CN" else feature.unit_en
    return f"{raw} {unit}".strip() if unit else f"{raw}"


def _seen(feature: Feature, features: dict[str, Any]) -> Any:
    if feature.type == "ratio":
        return ratio_value(feature, features)
    return features.get(feature.name)


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
    feature = FEATURES[cond["feature"]]
    label, op = _label(feature, lang), cond["op"]
    if feature.name not in withheld:
        label = f"{label} {_value(feature, _seen(feature, features), lang, from_rule=False)}"
    if op in ("is_null", "not_null"):
        return f"{_label(feature, lang)} {words[op]}"
    if op == "between":
        low, high = (_value(feature, v, lang, from_rule=True) for v in cond["value"])
        return f"{label} {words['between']} {low}–{high}"
    if op in ("in", "not_in"):
        listed = "、".join(str(v) for v in cond["value"])
        return f"{label} {words[op]} {{{listed}}}"
    return f"{label} {SYMBOLS[op]} {_value(feature, cond['value'], lang, from_rule=True)}"


def explain_rule(
    rule: dict[str, Any],
    features: dict[str, Any],
    tag_name: str,
    lang: str,
    withheld: Collection[str] = frozenset(),
) -> str:
    """The whole reason: the rule's conditions with the values seen (those the caller may see), then the tag."""
    return f"{condition_text(rule['when'], features, lang, withheld)} → {tag_name}"


def attach(
    session: Session, views: list[AssignmentView], language: str, clear: ClearTest | None = None
) -> list[AssignmentView]:
    """Fill `explanation` of each assignment view, in the language asked for, as the caller may see it.

    `clear` says which customer fields the caller sees in clear (None: every field, the operator's CLI);
    a feature computed from any other field is told without its value and dropped from `features`.
    """
    lang = _lang(language)
    withheld = withheld_features(clear) if clear is not None else frozenset()
    version_ids = {v.rule_set_version_id for v in views if v.rule_set_version_id}
    rules_of: dict[int, dict[str, dict[str, Any]]] = {}
    if version_ids:
        rows = session.execute(
            select(RuleSetVersion.id, RuleSetVersion.definition).where(RuleSetVersion.id.in_(version_ids))
        )
        rules_of = {vid: {r["id"]: r for r in definition.get("rules", [])} for vid, definition in rows}
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
        rule = rules_of.get(view.rule_set_version_id or 0, {}).get(view.rule_id or "")
        if rule is None:
            view.explanation = WORDS[lang]["rule_missing"].format(
                rule=view.rule_id, version=view.rule_set_version
            )
            continue
        view.explanation = explain_rule(rule, view.features or {}, name, lang, withheld)
    if withheld:
        for view in views:
            if view.features:
                view.features = {k: v for k, v in view.features.items() if k not in withheld}
    return views
