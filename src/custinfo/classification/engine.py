"""The engine: compiles a rule set to SQL CASE expressions over the feature select, and runs it.

A full run materialises the evaluation of every customer in a temporary table
and writes only the differences: open assignments whose tag the rules no longer
give are closed (valid_to), missing ones are inserted with the rule id, version
and the feature values they saw — all as set-based INSERT … SELECT / UPDATE.
An incremental run executes the very same SELECT for one customer and applies
the same diff to that customer's few rows.
"""

from __future__ import annotations

import time as clock
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from typing import cast as cast_type

from sqlalchemy import (
    ClauseElement,
    ColumnElement,
    Date,
    ForeignKeyConstraint,
    Select,
    String,
    Table,
    and_,
    case,
    cast,
    column,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    literal_column,
    not_,
    or_,
    select,
    table,
    text,
    true,
    update,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.schema import AddConstraint, CreateIndex, DropConstraint, DropIndex
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.functions import FunctionElement

from custinfo.classification import repository
from custinfo.classification.features import COLUMN_FEATURES, FEATURES, feature_select, today
from custinfo.classification.models import ClassificationRun, ClassificationState, TagAssignment
from custinfo.classification.rules import TagInfo, slots, snapshot_columns
from custinfo.classification.taxonomy import tag_index
from custinfo.core.db import utcnow
from custinfo.core.types import UTCDateTime
from custinfo.core.uow import actor_of
from custinfo.customers.models import Customer

EVAL_TABLE = "ci_eval"
TA = cast_type(Table, TagAssignment.__table__)
ST = cast_type(Table, ClassificationState.__table__)
CU = cast_type(Table, Customer.__table__)
CHANGED_TABLE = "ci_changed"
DIFF_TABLE = "ci_diff"
OPEN_TABLE = "ci_open"
BULK_MIN_CUSTOMERS = 20_000
BULK_ROWS_PER_CUSTOMER = 4
BULK_SORT_MEMORY = "256MB"
MOVES_SAMPLE = 100
PREVIEW_SAMPLE = 10


# --- SQL helpers -------------------------------------------------------------------------------------


class CreateTempTableAs(Executable, ClauseElement):
    """CREATE TEMPORARY TABLE name AS SELECT …"""

    inherit_cache = False

    def __init__(self, name: str, query: Select[Any]) -> None:
        self.name = name
        self.query = query


@compiles(CreateTempTableAs)
def _create_temp_as(element: CreateTempTableAs, compiler: Any, **kw: Any) -> str:
    return f"CREATE TEMPORARY TABLE {element.name} AS {compiler.process(element.query, **kw)}"


class json_object(FunctionElement[Any]):
    """A JSON object from alternating literal keys and values (json_object / json_build_object)."""

    inherit_cache = True
    name = "json_object"


@compiles(json_object)
def _json_object_sqlite(element: json_object, compiler: Any, **kw: Any) -> str:
    return f"json_object({compiler.process(element.clause_expr, **kw)[1:-1]})"


@compiles(json_object, "postgresql")
def _json_object_pg(element: json_object, compiler: Any, **kw: Any) -> str:
    return f"json_build_object({compiler.process(element.clause_expr, **kw)[1:-1]})"


# --- compiling rules ---------------------------------------------------------------------------------


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
        sep = self.code.get("separator", "-")
        parts = []
        for dimension in [*self.code.get("level1", []), *self.code.get("level2", [])]:
            if dimension not in self.slots:
                continue
            n = self.slots.index(dimension)
            names = {
                i + 1: self.labels[dimension].get(r["tag"], r["tag"])
                for i, r in enumerate(self.slot_rules[dimension])
            }
            parts.append(func.coalesce(case(names, value=source.c[f"r_{n}"]) + literal(sep, String), ""))
        if not parts:
            return literal(None, String)
        joined: Any = parts[0]
        for part in parts[1:]:
            joined = joined + part
        return case((joined == "", None), else_=func.substr(joined, 1, func.length(joined) - len(sep)))

    def signature(self, source: Any) -> Any:
        """Prefix plus the matched rule position of every slot."""
        sig: Any = literal(self.prefix, String)
        for n in range(len(self.slots)):
            sig = sig + func.coalesce(cast(source.c[f"r_{n}"], String), "") + literal(",", String)
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
        plan.signature(inner).label("sig"),
    )
    return plan


_plan_cache: dict[tuple[Any, ...], Plan] = {}


def _cached_plan(version_id: int, definition: dict[str, Any], tags: dict[str, TagInfo], as_of: date) -> Plan:
    """Plans for incremental runs are reused for the same version, tags and date (compiling costs ms)."""
    key = (version_id, as_of, signature_prefix(version_id, tags))
    plan = _plan_cache.get(key)
    if plan is None:
        if len(_plan_cache) > 32:
            _plan_cache.clear()
        plan = build_plan(definition, tags, as_of, one_customer=True, version_id=version_id)
        _plan_cache[key] = plan
    return plan


# --- runs --------------------------------------------------------------------------------------------


def _actor(session: Session, actor: str | None) -> str:
    if actor:
        return actor
    try:
        return actor_of(session).username
    except RuntimeError:
        return "system"


def _start(
    session: Session,
    mode: str,
    trigger: str,
    as_of: date,
    version_id: int,
    actor: str,
    customer_id: int | None,
) -> ClassificationRun:
    run = ClassificationRun(
        mode=mode,
        trigger=trigger,
        as_of=as_of,
        rule_set_version_id=version_id,
        customer_id=customer_id,
        started_at=utcnow(),
        status="running",
        customers=0,
        added=0,
        removed=0,
        moved=0,
        actor=actor,
    )
    session.add(run)
    session.flush()
    return run


def _finish(run: ClassificationRun, started: float) -> None:
    run.finished_at = utcnow()
    run.duration_ms = int((clock.perf_counter() - started) * 1000)
    run.status = "done"


def run_full(
    session: Session,
    as_of: date | None = None,
    trigger: str = "manual",
    actor: str | None = None,
    at: datetime | None = None,
    bulk: bool | None = None,
) -> ClassificationRun:
    """Re-tag every customer; `at` (tests, back-fills) stamps the assignments' validity instead of now.

    `bulk` forces (True) or forbids (False) writing with the secondary indexes dropped; by default a run
    does so when it writes for many customers into a table that holds few rows for them (`_use_bulk`).
    """
    started = clock.perf_counter()
    version = repository.active_version(session)
    definition = version.definition
    tags = tag_index(session)
    as_of = as_of or today(definition["parameters"])
    by = _actor(session, actor)
    run = _start(session, "full", trigger, as_of, version.id, by, None)
    now = at or utcnow()
    plan = build_plan(definition, tags, as_of, version_id=version.id)
    conn = session.connection()
    before = repository.open_counts(session)
    _materialise(conn, plan)
    ev = _eval_table(plan)
    st = ST
    total = conn.scalar(select(func.count()).select_from(ev)) or 0
    conn.execute(text(f"DROP TABLE IF EXISTS {CHANGED_TABLE}"))
    sig = plan.signature(ev)
    conn.execute(
        CreateTempTableAs(
            CHANGED_TABLE,
            select(ev.c.customer_id)
            .select_from(ev.outerjoin(st, st.c.customer_id == ev.c.customer_id))
            .where(or_(st.c.signature.is_(None), st.c.signature != sig)),
        )
    )
    conn.execute(text(f"CREATE UNIQUE INDEX ix_{CHANGED_TABLE}_customer_id ON {CHANGED_TABLE} (customer_id)"))
    ch = table(CHANGED_TABLE, column("customer_id"))
    n_changed = conn.scalar(select(func.count()).select_from(ch)) or 0
    if n_changed:
        # Only the changed customers are diffed; when that is everyone (a cold run) the evaluation is used
        # as it is, otherwise their rows are copied out so no statement scans the unchanged ones.
        if n_changed < total:
            conn.execute(text(f"DROP TABLE IF EXISTS {DIFF_TABLE}"))
            conn.execute(
                CreateTempTableAs(DIFF_TABLE, select(ev).join(ch, ch.c.customer_id == ev.c.customer_id))
            )
            conn.execute(
                text(f"CREATE UNIQUE INDEX ix_{DIFF_TABLE}_customer_id ON {DIFF_TABLE} (customer_id)")
            )
            src = _eval_table(plan, DIFF_TABLE)
        else:
            src = ev
        if bulk is None:
            bulk = _use_bulk(conn, n_changed)
        _write_diff(conn, plan, src, run.id, version.id, as_of, now, bulk)
        cu = CU
        code = plan.classification_code(src)
        conn.execute(
            update(cu)
            .where(cu.c.id == src.c.customer_id, cu.c.classification_code.is_distinct_from(code))
            .values(classification_code=code)
        )
        conn.execute(delete(st).where(st.c.customer_id.in_(select(src.c.customer_id))))
        conn.execute(
            insert(st).from_select(
                ["customer_id", "signature", "run_id"],
                select(src.c.customer_id, plan.signature(src), literal(run.id)),
            )
        )
        if src is not ev:
            conn.execute(text(f"DROP TABLE {DIFF_TABLE}"))
    run.customers = total
    conn.execute(text(f"DROP TABLE {CHANGED_TABLE}"))
    conn.execute(text(f"DROP TABLE {EVAL_TABLE}"))
    _expire_customers(session)
    run.counts_before = before
    # rowcount of INSERT … SELECT is not reliable on every driver: count what the run wrote
    run.counts_after, run.added, run.removed = repository.counts_after(session, before, run.id)
    run.moved, run.moves_sample = repository.moves(session, run.id, MOVES_SAMPLE)
    _finish(run, started)
    session.flush()
    return run


def _use_bulk(conn: Any, n_changed: int) -> bool:
    """A large run into a table with few rows per changed customer (a first run): rebuild the indexes instead.

    Maintaining seven indexes and the foreign key row by row costs 10–30 µs per inserted assignment;
    building the indexes afterwards from sorted runs costs a fraction of that, but is paid for the
    whole table, so it pays only when the run writes a large share of it. The table is counted
    only up to the bound, so a run over a big history stays cheap to decide.
    """
    if n_changed < BULK_MIN_CUSTOMERS:
        return False
    bound = n_changed * BULK_ROWS_PER_CUSTOMER
    held = conn.scalar(select(func.count()).select_from(select(TA.c.id).limit(bound + 1).subquery()))
    return int(held or 0) <= bound


def _write_diff(
    conn: Any,
    plan: Plan,
    src: Any,
    run_id: int,
    version_id: int,
    as_of: date,
    now: datetime,
    bulk: bool = False,
) -> None:
    """Close the open rule assignments of `src`'s customers that the rules no longer give; insert the missing.

    In bulk mode the open assignments of those customers are copied to a small indexed temporary
    table first (the "already open" test reads it), the secondary indexes and, on PostgreSQL, the
    foreign key are dropped, the rows inserted, and all of it re-created — in the same transaction,
    so a failed run leaves the table as it was.
    """
    ta = TA
    tag_columns = [plan.tag(src, n) for n in range(len(plan.slots))]
    keep = exists().where(src.c.customer_id == ta.c.customer_id, ta.c.tag_code.in_(tag_columns))
    conn.execute(
        update(ta)
        .where(
            ta.c.valid_to.is_(None),
            ta.c.source == "rule",
            ta.c.customer_id.in_(select(src.c.customer_id)),
            not_(keep),
        )
        .values(valid_to=literal(now, UTCDateTime), closed_by=f"run:{run_id}", closed_run_id=run_id)
    )
    if bulk:
        conn.execute(text(f"DROP TABLE IF EXISTS {OPEN_TABLE}"))
        conn.execute(
            CreateTempTableAs(
                OPEN_TABLE,
                select(ta.c.customer_id, ta.c.tag_code).where(
                    ta.c.valid_to.is_(None), ta.c.customer_id.in_(select(src.c.customer_id))
                ),
            )
        )
        conn.execute(text(f"CREATE INDEX ix_{OPEN_TABLE} ON {OPEN_TABLE} (customer_id, tag_code)"))
        held = table(OPEN_TABLE, column("customer_id"), column("tag_code"))
        _drop_secondary(conn)
    for n, slot in enumerate(plan.slots):
        tag = plan.tag(src, n)
        if bulk:
            is_open = (
                select(held.c.customer_id)
                .where(held.c.customer_id == src.c.customer_id, held.c.tag_code == tag)
                .exists()
            )
        else:
            is_open = (
                select(ta.c.id)
                .where(ta.c.customer_id == src.c.customer_id, ta.c.tag_code == tag, ta.c.valid_to.is_(None))
                .exists()
            )
        query = select(
            src.c.customer_id,
            tag,
            literal("rule", String),
            plan.rule(src, n),
            literal(version_id),
            json_object(*_json_pairs(plan.snapshot[slot], src)),
            literal(as_of, Date),
            literal(now, UTCDateTime),
            literal(f"run:{run_id}", String),
            literal(run_id),
        ).where(src.c[f"r_{n}"].is_not(None), not_(is_open))
        conn.execute(insert(ta).from_select(ASSIGNMENT_COLUMNS, query))
    if bulk:
        _create_secondary(conn)
        conn.execute(text(f"DROP TABLE {OPEN_TABLE}"))


def _foreign_keys() -> list[ForeignKeyConstraint]:
    return sorted(
        (c for c in TA.constraints if isinstance(c, ForeignKeyConstraint)), key=lambda c: str(c.name)
    )


def _drop_secondary(conn: Any) -> None:
    """Drop every index of the assignments but the primary key (and on PostgreSQL its foreign key)."""
    for index in sorted(TA.indexes, key=lambda i: str(i.name)):
        conn.execute(DropIndex(index))
    if conn.dialect.name == "postgresql":
        # SQLite cannot switch foreign keys off inside a transaction; its check is a primary-key probe
        for fk in _foreign_keys():
            conn.execute(DropConstraint(fk))


def _create_secondary(conn: Any) -> None:
    """Re-create what `_drop_secondary` dropped, exactly as the model declares it, and refresh statistics."""
    if conn.dialect.name == "postgresql":
        # sorts for the index builds in memory rather than in temporary files (this transaction only)
        conn.execute(text(f"SET LOCAL maintenance_work_mem = '{BULK_SORT_MEMORY}'"))
    for index in sorted(TA.indexes, key=lambda i: str(i.name)):
        conn.execute(CreateIndex(index))
    if conn.dialect.name == "postgresql":
        for fk in _foreign_keys():
            conn.execute(AddConstraint(fk))
    if conn.dialect.name == "sqlite":
        conn.execute(text("PRAGMA analysis_limit=1000"))  # sampled: 0.1 s instead of 2 s at 9M rows
    conn.execute(text(f"ANALYZE {TA.name}"))


ASSIGNMENT_COLUMNS = [
    "customer_id",
    "tag_code",
    "source",
    "rule_id",
    "rule_set_version_id",
    "features",
    "as_of",
    "valid_from",
    "assigned_by",
    "run_id",
]


def _materialise(conn: Any, plan: Plan) -> None:
    """Evaluate every customer into the temporary table (indexed by customer)."""
    conn.execute(text(f"DROP TABLE IF EXISTS {EVAL_TABLE}"))
    conn.execute(CreateTempTableAs(EVAL_TABLE, plan.base))
    conn.execute(text(f"CREATE UNIQUE INDEX ix_{EVAL_TABLE}_customer_id ON {EVAL_TABLE} (customer_id)"))
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"ANALYZE {EVAL_TABLE}"))


def _eval_table(plan: Plan, name: str = EVAL_TABLE) -> Any:
    names = ["customer_id", *COLUMN_FEATURES, *(f"r_{n}" for n in range(len(plan.slots)))]
    return table(name, *(column(n) for n in names))


def _json_pairs(columns: list[str], source: Any) -> list[Any]:
    pairs: list[Any] = []
    for name in columns:
        pairs += [literal_column(f"'{name}'"), source.c[name]]
    return pairs


def _expire_customers(session: Session, customer_id: int | None = None) -> None:
    """Loaded Customer objects must re-read the classification code the engine wrote with Core."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, Customer) and (customer_id is None or obj.id == customer_id):
            session.expire(obj, ["classification_code"])


def run_incremental(
    session: Session,
    customer_id: int,
    trigger: str = "event",
    as_of: date | None = None,
    actor: str | None = None,
    at: datetime | None = None,
) -> ClassificationRun:
    """Re-tag one customer with the same SELECT as a full run, restricted to it."""
    started = clock.perf_counter()
    version = repository.active_version(session)
    definition = version.definition
    tags = tag_index(session)
    as_of = as_of or today(definition["parameters"])
    by = _actor(session, actor)
    run = _start(session, "incremental", trigger, as_of, version.id, by, customer_id)
    now = at or utcnow()
    plan = _cached_plan(version.id, definition, tags, as_of)
    row = _one_customer(session, plan, customer_id)
    st = ST
    stored = session.scalar(select(st.c.signature).where(st.c.customer_id == customer_id))
    ta = TA
    current = {
        r.tag_code: r.id
        for r in session.execute(
            select(ta.c.id, ta.c.tag_code).where(
                ta.c.customer_id == customer_id, ta.c.valid_to.is_(None), ta.c.source == "rule"
            )
        )
    }
    wanted: dict[str, tuple[str, str]] = {}
    if row is not None:
        for n, slot in enumerate(plan.slots):
            tag = row[f"t_{n}"]
            if tag is not None:
                wanted[tag] = (row[f"k_{n}"], slot)
    unchanged = row is not None and stored == row["sig"]
    to_close = [] if unchanged else [rid for tag, rid in current.items() if tag not in wanted]
    if to_close:
        session.execute(
            update(ta)
            .where(ta.c.id.in_(to_close))
            .values(valid_to=now, closed_by=f"run:{run.id}", closed_run_id=run.id)
        )
    new_rows = [
        {
            "customer_id": customer_id,
            "tag_code": tag,
            "source": "rule",
            "rule_id": rule_id,
            "rule_set_version_id": version.id,
            "features": {name: _plain(row[name]) for name in plan.snapshot[slot]} if row else None,
            "as_of": as_of,
            "valid_from": now,
            "assigned_by": f"run:{run.id}",
            "run_id": run.id,
        }
        for tag, (rule_id, slot) in wanted.items()
        if tag not in current and not unchanged
    ]
    if new_rows:
        session.execute(insert(ta), new_rows)
    if row is not None and not unchanged:
        cu = CU
        session.execute(
            update(cu)
            .where(cu.c.id == customer_id, cu.c.classification_code.is_distinct_from(row["code"]))
            .values(classification_code=row["code"])
        )
        _expire_customers(session, customer_id)
        session.execute(delete(st).where(st.c.customer_id == customer_id))
        session.execute(insert(st).values(customer_id=customer_id, signature=row["sig"], run_id=run.id))
    run.customers = 1 if row is not None else 0
    run.counts_before = {tag: 1 for tag in sorted(current)}
    run.counts_after = {tag: 1 for tag in sorted(wanted)}
    run.added, run.removed = len(new_rows), len(to_close)
    run.moved = 1 if (new_rows or to_close) else 0
    run.moves_sample = (
        [
            {
                "customer_id": customer_id,
                "added": sorted(r["tag_code"] for r in new_rows),
                "removed": sorted(t for t in current if t not in wanted),
            }
        ]
        if run.moved
        else []
    )
    _finish(run, started)
    session.flush()
    return run


def _one_customer(session: Session, plan: Plan, customer_id: int) -> Any:
    """The evaluation row of one customer (the full run's SELECT, restricted to it)."""
    return session.execute(plan.select, {"customer_id": customer_id}).mappings().first()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


# --- preview -----------------------------------------------------------------------------------------


@dataclass
class TagImpact:
    """How a candidate rule set changes one tag's membership."""

    tag: str
    name_zh: str
    name_en: str
    current: int
    new: int
    entering: int
    leaving: int
    entering_sample: list[dict[str, Any]] = field(default_factory=list)
    leaving_sample: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Impact:
    """The impact preview of a candidate rule set, against the customers' current tags."""

    as_of: date
    customers: int
    tags: list[TagImpact]

    @property
    def changed(self) -> list[TagImpact]:
        """Only the tags whose membership would change."""
        return [t for t in self.tags if t.entering or t.leaving]


def preview(session: Session, definition: dict[str, Any], as_of: date | None = None) -> Impact:
    """Evaluate a candidate definition for every customer without writing any assignment."""
    tags = tag_index(session)
    as_of = as_of or today(definition["parameters"])
    plan = build_plan(definition, tags, as_of)
    conn = session.connection()
    _materialise(conn, plan)
    ev = _eval_table(plan)
    ta = TA
    cu = CU
    current = repository.open_counts(session, source="rule")
    new: dict[str, int] = {}
    entering: dict[str, int] = {}
    entering_sample: dict[str, list[dict[str, Any]]] = {}
    for n, slot in enumerate(plan.slots):
        r_col, t_col = ev.c[f"r_{n}"], plan.tag(ev, n)
        tag_of = {i + 1: r["tag"] for i, r in enumerate(plan.slot_rules[slot])}
        # grouped by the rule position (a plain column) and mapped to tags here: the same tag may
        # come from several positions, and PostgreSQL cannot group by an expression with parameters
        for position, count in conn.execute(
            select(r_col, func.count()).where(r_col.is_not(None)).group_by(r_col)
        ):
            new[tag_of[position]] = new.get(tag_of[position], 0) + count
        is_open = (
            select(ta.c.id)
            .where(ta.c.customer_id == ev.c.customer_id, ta.c.tag_code == t_col, ta.c.valid_to.is_(None))
            .exists()
        )
        for position, count in conn.execute(
            select(r_col, func.count()).where(r_col.is_not(None), not_(is_open)).group_by(r_col)
        ):
            tag = tag_of[position]
            entering[tag] = entering.get(tag, 0) + count
            if tag in entering_sample:
                continue
            entering_sample[tag] = [
                {"id": cid, "name": name}
                for cid, name in conn.execute(
                    select(ev.c.customer_id, cu.c.name)
                    .join(cu, cu.c.id == ev.c.customer_id)
                    .where(t_col == tag, not_(is_open))
                    .order_by(ev.c.customer_id)
                    .limit(PREVIEW_SAMPLE)
                )
            ]
    tag_columns = [plan.tag(ev, n) for n in range(len(plan.slots))]
    keep = (
        exists().where(ev.c.customer_id == ta.c.customer_id, ta.c.tag_code.in_(tag_columns))
        if tag_columns
        else false()
    )
    leaving_filter = and_(ta.c.valid_to.is_(None), ta.c.source == "rule", not_(keep))
    leaving: dict[str, int] = dict(
        conn.execute(select(ta.c.tag_code, func.count()).where(leaving_filter).group_by(ta.c.tag_code)).all()
    )
    leaving_sample = {
        tag: [
            {"id": cid, "name": name}
            for cid, name in conn.execute(
                select(ta.c.customer_id, cu.c.name)
                .join(cu, cu.c.id == ta.c.customer_id)
                .where(leaving_filter, ta.c.tag_code == tag)
                .order_by(ta.c.customer_id)
                .limit(PREVIEW_SAMPLE)
            )
        ]
        for tag in leaving
    }
    customers = conn.scalar(select(func.count()).select_from(ev)) or 0
    conn.execute(text(f"DROP TABLE {EVAL_TABLE}"))
    rule_tags = [t for t in tags.values() if t.source == "rule"]
    impacts = [
        TagImpact(
            tag=t.code,
            name_zh=t.name_zh,
            name_en=t.name_en,
            current=int(current.get(t.code, 0)),
            new=int(new.get(t.code, 0)),
            entering=int(entering.get(t.code, 0)),
            leaving=int(leaving.get(t.code, 0)),
            entering_sample=entering_sample.get(t.code, []),
            leaving_sample=leaving_sample.get(t.code, []),
        )
        for t in rule_tags
    ]
    return Impact(as_of=as_of, customers=customers, tags=impacts)
