"""Compiling a rule set: conditions to SQL, the evaluation SELECT (Plan) and its cache, materialising it.

The plan's SELECT evaluates every rule of every slot over the feature select once; everything a
run writes (tags, rule ids, the classification code, the signature) derives from the matched rule
positions by simple CASEs.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    case,
    column,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    table,
    text,
    true,
)

from custinfo.classification.engine.sql import CreateTempTableAs, json_object, json_pairs, text_format
from custinfo.classification.features import COLUMN_FEATURES, FEATURES, feature_select
from custinfo.classification.rules import TagInfo, slots, snapshot_columns

EVAL_TABLE = "ci_eval"
SIGNATURE_CHUNK = 90
# Day and year counts advance by themselves every day; a new day alone is not a new evaluation.
DRIFTING_TYPES = frozenset({"days", "years"})


def _fen(value: Any) -> int:
    return int((Decimal(str(value)) * 100).to_integral_value())


def _scalar(feature_type: str, value: Any) -> Any:
    if feature_type == "money":
        return _fen(value)
    if feature_type in ("int", "days", "years"):
        return int(value)
    return value


def _compare(expr: Any, op: str, value: Any) -> ColumnElement[bool]:
    if op == "==":
        return expr == value
    if op == "!=":
        return expr != value
    if op == "<":
        return expr < value
    if op == "<=":
        return expr <= value
    if op == ">":
        return expr > value
    if op == ">=":
        return expr >= value
    raise ValueError(op)


def _ratio(cols: dict[str, Any], name: str, op: str, value: Any) -> ColumnElement[bool]:
    """num/den - offset OP t, exactly: num*q OP den*p with p/q = t + offset, den > 0."""
    feature = FEATURES[name]
    assert feature.num and feature.den
    num, den = cols[feature.num], cols[feature.den]
    p, q = (Decimal(str(value)) + feature.offset).as_integer_ratio()
    finite = and_(den > 0, _compare(num * q, op, den * p))
    if feature.empty_is_infinite and op in (">", ">=", "!="):
        return or_(and_(den == 0, num > 0), finite)
    return finite


def compile_condition(cond: dict[str, Any], cols: dict[str, Any]) -> ColumnElement[bool]:
    """SQL boolean for a validated condition over the feature columns."""
    if "always" in cond:
        return true()
    if "all" in cond:
        return and_(*(compile_condition(c, cols) for c in cond["all"]))
    if "any" in cond:
        return or_(*(compile_condition(c, cols) for c in cond["any"]))
    if "not" in cond:
        return not_(compile_condition(cond["not"], cols))
    name, op = cond["feature"], cond["op"]
    value: Any = cond.get("value")
    feature = FEATURES[name]
    if feature.type == "ratio":
        assert feature.num and feature.den
        num, den = cols[feature.num], cols[feature.den]
        if op == "is_null":
            infinite = and_(num > 0) if feature.empty_is_infinite else false()
            return and_(den == 0, not_(infinite))
        if op == "not_null":
            return not_(compile_condition({"feature": name, "op": "is_null"}, cols))
        if op == "between":
            return and_(_ratio(cols, name, ">=", value[0]), _ratio(cols, name, "<=", value[1]))
        if op in ("in", "not_in"):
            matched = or_(*(_ratio(cols, name, "==", v) for v in value))
            return matched if op == "in" else and_(den > 0, not_(matched))
        return _ratio(cols, name, op, value)
    expr = cols[name]
    if op == "is_null":
        return expr.is_(None)
    if op == "not_null":
        return expr.is_not(None)
    if op == "between":
        low, high = (_scalar(feature.type, v) for v in value)
        return and_(expr >= low, expr <= high)
    if op == "in":
        return expr.in_([_scalar(feature.type, v) for v in value])
    if op == "not_in":
        return expr.not_in([_scalar(feature.type, v) for v in value])
    return _compare(expr, op, _scalar(feature.type, value))


@dataclass
class Plan:
    """A compiled rule set.

    `base` selects customer_id, every feature and, per slot n, r_n: the 1-based position of the
    matching rule in the slot (NULL if none). Everything else derives from r_n by simple CASEs
    (`tag`, `rule`, `code`, `signature`), so a full run evaluates the rules once into a temporary
    table and derives from its columns, while `select` (base + derived, used for one customer)
    is the same SQL in a single statement. Equal signatures mean equal tags and code.
    """

    base: Select[Any]
    select: Select[Any]
    slots: list[str]
    slot_rules: dict[str, list[dict[str, Any]]]
    snapshot: dict[str, list[str]]  # slot → feature columns kept with its assignments
    kept: list[str]  # every snapshot column of every slot: the latest evaluation's figures
    code: dict[str, Any]
    labels: dict[str, dict[str, str]]  # dimension → tag code → zh name (for the classification code)
    prefix: str
    as_of: date
    one_customer: bool

    def tag(self, source: Any, n: int) -> Any:
        """The tag of slot n."""
        return case(
            {i + 1: r["tag"] for i, r in enumerate(self.slot_rules[self.slots[n]])}, value=source.c[f"r_{n}"]
        )

    def rule(self, source: Any, n: int) -> Any:
        """The id of the rule that matched in slot n."""
        return case(
            {i + 1: r["id"] for i, r in enumerate(self.slot_rules[self.slots[n]])}, value=source.c[f"r_{n}"]
        )

    def classification_code(self, source: Any) -> Any:
        """The configured level-1 and level-2 tag names joined by the separator (NULL if none)."""
        return self._joined(source, [*self.code.get("level1", []), *self.code.get("level2", [])])

    def level1(self, source: Any) -> Any:
        """The level-1 half of the classification code (NULL if none of its dimensions matched)."""
        return self._joined(source, self.code.get("level1", []))

    def level2(self, source: Any) -> Any:
        """The level-2 half of the classification code (NULL if none of its dimensions matched)."""
        return self._joined(source, self.code.get("level2", []))

    def _joined(self, source: Any, dimensions: list[str]) -> Any:
        """The tag names of these dimensions, in order, joined by the separator (NULL if none).

        Each name brings its leading separator and the first is cut off, so the joined text is
        built once per row (a CASE on it would build it three times).
        """
        sep = self.code.get("separator", "-")
        parts = []
        for dimension in dimensions:
            if dimension not in self.slots:
                continue
            n = self.slots.index(dimension)
            names = {
                i + 1: sep + self.labels[dimension].get(r["tag"], r["tag"])
                for i, r in enumerate(self.slot_rules[dimension])
            }
            parts.append(func.coalesce(case(names, value=source.c[f"r_{n}"]), ""))
        if not parts:
            return literal(None, String)
        joined: Any = parts[0]
        for part in parts[1:]:
            joined = joined + part
        return func.nullif(func.substr(joined, len(sep) + 1), "")

    def features_json(self, source: Any) -> Any:
        """The latest evaluation's figures as one JSON object (every column any rule keeps)."""
        return json_object(*json_pairs(self.kept, source))

    def figures(self, source: Any) -> Any:
        """A fingerprint of the figures without the drifting day/year counts ('' when none are kept)."""
        names = [n for n in self.kept if FEATURES[n].type not in DRIFTING_TYPES]
        out: Any = literal("", String)
        for i in range(0, len(names), SIGNATURE_CHUNK):
            chunk = [source.c[n] for n in names[i : i + SIGNATURE_CHUNK]]
            out = out + text_format(literal("%s|" * len(chunk), String), *chunk)
        return out

    def signature(self, source: Any) -> Any:
        """Prefix plus the matched rule position of every slot, each followed by a comma ("" for none)."""
        positions = [source.c[f"r_{n}"] for n in range(len(self.slots))]
        # one printf/format call per chunk instead of a cast, coalesce and two concatenations per slot;
        # chunks stay under both databases' argument limits (SQLite 127, PostgreSQL 100)
        chunks = [positions[i : i + SIGNATURE_CHUNK] for i in range(0, len(positions), SIGNATURE_CHUNK)]
        sig: Any = literal(self.prefix, String)
        for chunk in chunks:
            sig = sig + text_format(literal("%s," * len(chunk), String), *chunk)
        return sig


def signature_prefix(version_id: int, tags: dict[str, TagInfo]) -> str:
    """Version and a checksum of tag labels/dimensions: a rename or a new version changes every signature."""
    labels = "|".join(
        f"{t.code}:{t.dimension}:{t.name_zh}" for t in sorted(tags.values(), key=lambda t: t.code)
    )
    return f"{version_id}.{zlib.crc32(labels.encode()):08x}:"


def build_plan(
    definition: dict[str, Any],
    tags: dict[str, TagInfo],
    as_of: date,
    one_customer: bool = False,
    version_id: int = 0,
) -> Plan:
    """Compile a validated definition into the evaluation SELECTs."""
    params = definition["parameters"]
    fs = feature_select(params, as_of, one_customer).subquery("fs")
    cols = {name: fs.c[name] for name in COLUMN_FEATURES}
    slot_rules = slots(definition, tags)
    names = list(slot_rules)
    positions = [
        case(*((compile_condition(r["when"], cols), n + 1) for n, r in enumerate(slot_rules[s]))).label(
            f"r_{i}"
        )
        for i, s in enumerate(names)
    ]
    base = select(fs, *positions)
    labels: dict[str, dict[str, str]] = {}
    for t in tags.values():
        if t.dimension:
            labels.setdefault(t.dimension, {})[t.code] = t.name_zh
    plan = Plan(
        base=base,
        select=base,
        slots=names,
        slot_rules=slot_rules,
        snapshot={s: snapshot_columns(slot_rules[s]) for s in names},
        kept=snapshot_columns([r for s in names for r in slot_rules[s]]),
        code=definition.get("classification_code") or {},
        labels=labels,
        prefix=signature_prefix(version_id, tags),
        as_of=as_of,
        one_customer=one_customer,
    )
    inner = base.subquery("ev")
    plan.select = select(
        inner,
        *(plan.tag(inner, n).label(f"t_{n}") for n in range(len(names))),
        *(plan.rule(inner, n).label(f"k_{n}") for n in range(len(names))),
        plan.classification_code(inner).label("code"),
        plan.level1(inner).label("level1"),
        plan.level2(inner).label("level2"),
        plan.signature(inner).label("sig"),
        plan.figures(inner).label("figs"),
        plan.features_json(inner).label("fjson"),
    )
    return plan


_plan_cache: dict[tuple[Any, ...], Plan] = {}


def cached_plan(version_id: int, definition: dict[str, Any], tags: dict[str, TagInfo], as_of: date) -> Plan:
    """Plans for incremental runs are reused for the same version, tags and date (compiling costs ms)."""
    params = definition.get("parameters", {})
    lists = (
        tuple(params.get("popular_products") or ()),
        tuple(params.get("new_products") or ()),
        params.get("product_categories_version"),
    )
    key = (version_id, as_of, signature_prefix(version_id, tags), lists)
    plan = _plan_cache.get(key)
    if plan is None:
        if len(_plan_cache) > 32:
            _plan_cache.clear()
        plan = build_plan(definition, tags, as_of, one_customer=True, version_id=version_id)
        _plan_cache[key] = plan
    return plan


def materialise(conn: Any, plan: Plan) -> None:
    """Evaluate every customer into the temporary table (indexed by customer)."""
    conn.execute(text(f"DROP TABLE IF EXISTS {EVAL_TABLE}"))
    conn.execute(CreateTempTableAs(EVAL_TABLE, plan.base))
    conn.execute(text(f"CREATE UNIQUE INDEX ix_{EVAL_TABLE}_customer_id ON {EVAL_TABLE} (customer_id)"))
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"ANALYZE {EVAL_TABLE}"))


def evaluation_table(plan: Plan, name: str = EVAL_TABLE) -> Any:
    """The temporary table of an evaluation: customer_id, every feature and r_n per slot."""
    names = ["customer_id", *COLUMN_FEATURES, *(f"r_{n}" for n in range(len(plan.slots)))]
    return table(name, *(column(n) for n in names))
