"""Explanations in words: the rule that gave a tag, with the feature values it saw.

"年合作金额 612,300.00 元 ≥ 500,000.00 元 → 高价值" / "annual amount 612,300.00 yuan ≥ 500,000.00 yuan → High value".
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from custinfo.classification.features import FEATURES, Feature, ratio_value
from custinfo.classification.models import RuleSetVersion
from custinfo.classification.repository import AssignmentView

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


def condition_text(cond: dict[str, Any], features: dict[str, Any], lang: str) -> str:
    """One condition in words, with the value seen."""
    words = WORDS[lang]
    if "always" in cond:
        return words["always"]
    if "all" in cond:
        return words["and"].join(condition_text(c, features, lang) for c in cond["all"])
    if "any" in cond:
        return "(" + words["or"].join(condition_text(c, features, lang) for c in cond["any"]) + ")"
    if "not" in cond:
        return words["not"] + "(" + condition_text(cond["not"], features, lang) + ")"
    feature = FEATURES[cond["feature"]]
    seen = _value(feature, _seen(feature, features), lang, from_rule=False)
    label, op = _label(feature, lang), cond["op"]
    if op in ("is_null", "not_null"):
        return f"{label} {words[op]}"
    if op == "between":
        low, high = (_value(feature, v, lang, from_rule=True) for v in cond["value"])
        return f"{label} {seen} {words['between']} {low}–{high}"
    if op in ("in", "not_in"):
        listed = "、".join(str(v) for v in cond["value"])
        return f"{label} {seen} {words[op]} {{{listed}}}"
    return f"{label} {seen} {SYMBOLS[op]} {_value(feature, cond['value'], lang, from_rule=True)}"


def explain_rule(rule: dict[str, Any], features: dict[str, Any], tag_name: str, lang: str) -> str:
    """The whole reason: the rule's conditions with the values seen, then the tag."""
    return f"{condition_text(rule['when'], features, lang)} → {tag_name}"


def attach(session: Session, views: list[AssignmentView], language: str) -> list[AssignmentView]:
    """Fill `explanation` of each assignment view, in the language asked for."""
    lang = _lang(language)
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
        view.explanation = explain_rule(rule, view.features or {}, name, lang)
    return views
