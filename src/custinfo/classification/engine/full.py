"""The full run: evaluate every customer, diff the changed ones against their open assignments, write.

A full run materialises the evaluation of every customer in a temporary table and writes only the
differences: open assignments whose tag the rules no longer give are closed (valid_to), missing
ones are inserted with the rule id, version and the feature values they saw — all as set-based
INSERT … SELECT / UPDATE. A per-customer signature skips the customers whose tags cannot have changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from typing import cast as cast_type

from sqlalchemy import (
    Date,
    String,
    Table,
    and_,
    column,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
    table,
    text,
    union,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateIndex, DropIndex

from custinfo.classification import repository
from custinfo.classification.engine.plan import EVAL_TABLE, Plan, build_plan, evaluation_table, materialise
from custinfo.classification.engine.products import with_product_lists
from custinfo.classification.engine.runs import finish_run, start_run
from custinfo.classification.engine.sql import CreateTempTableAs, json_object, json_pairs
from custinfo.classification.engine.tuning import tune_for_run
from custinfo.classification.models import (
    ClassificationEvaluation,
    ClassificationRun,
    ClassificationState,
    TagAssignment,
)
from custinfo.core.db import utcnow
from custinfo.core.types import UTCDateTime

assignments = cast_type(Table, TagAssignment.__table__)
states = cast_type(Table, ClassificationState.__table__)
evaluations = cast_type(Table, ClassificationEvaluation.__table__)
CHANGED_TABLE = "ci_changed"
DIFF_TABLE = "ci_diff"
OPEN_TABLE = "ci_open"
MOVED_TABLE = "ci_moved"
CLOSED_INDEX = "ix_tag_assignments_closed_run_id"
BULK_MIN_CUSTOMERS = 20_000
BULK_ROWS_PER_CUSTOMER = 4
MOVES_SAMPLE = 100
STATE_COLUMNS = [
    "customer_id",
    "signature",
    "run_id",
    "code",
    "level1",
    "level2",
    "features",
    "figures",
    "as_of",
]
EVALUATION_COLUMNS = ["customer_id", "run_id", "as_of", "features"]


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
    begun = start_run(session, "full", trigger, as_of, actor, None)
    run, version, as_of = begun.run, begun.version, begun.as_of
    now = at or utcnow()
    definition = with_product_lists(session, version.definition, as_of)
    plan = build_plan(definition, begun.tags, as_of, version_id=version.id)
    conn = session.connection()
    before = repository.open_counts(session)
    tune_for_run(conn)
    run.customers, tally = _evaluate_and_write(session, plan, run.id, version.id, as_of, now, bulk, before)
    run.counts_before, run.counts_after = before, tally.counts_after
    run.added, run.removed, run.moved, run.moves_sample = (
        tally.added,
        tally.removed,
        tally.moved,
        tally.sample,
    )
    finish_run(run, begun.started)
    session.flush()
    return run


@dataclass(frozen=True)
class Tally:
    """What a run changed: open assignments per tag after it, how many it opened and closed, who moved."""

    counts_after: dict[str, int]
    added: int
    removed: int
    moved: int
    sample: list[dict[str, Any]]


def _evaluate_and_write(
    session: Session,
    plan: Plan,
    run_id: int,
    version_id: int,
    as_of: date,
    now: datetime,
    bulk: bool | None,
    before: dict[str, int],
) -> tuple[int, Tally]:
    """Evaluate every customer, write assignments and state for those whose signature changed.

    Returns how many customers were evaluated and what the run changed.
    """
    conn = session.connection()
    tally = Tally(_nonzero(before), 0, 0, 0, [])
    materialise(conn, plan)
    ev = evaluation_table(plan)
    total = conn.scalar(select(func.count()).select_from(ev)) or 0
    conn.execute(text(f"DROP TABLE IF EXISTS {CHANGED_TABLE}"))
    sig = plan.signature(ev)
    conn.execute(
        CreateTempTableAs(
            CHANGED_TABLE,
            select(ev.c.customer_id)
            .select_from(ev.outerjoin(states, states.c.customer_id == ev.c.customer_id))
            .where(
                or_(
                    states.c.signature.is_(None),
                    states.c.signature != sig,
                    states.c.figures.is_(None),
                    states.c.figures != plan.figures(ev),
                )
            ),
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
            src = evaluation_table(plan, DIFF_TABLE)
        else:
            src = ev
        if bulk is None:
            bulk = _use_bulk(conn, n_changed)
        _write_diff(conn, plan, src, run_id, version_id, as_of, now, bulk)
        tally = _tally(session, run_id, before, bulk)
        conn.execute(text(f"DROP TABLE {MOVED_TABLE}"))
        _keep_earlier_figures(conn, plan, src)
        conn.execute(delete(states).where(states.c.customer_id.in_(select(src.c.customer_id))))
        conn.execute(
            insert(states).from_select(
                STATE_COLUMNS,
                select(
                    src.c.customer_id,
                    plan.signature(src),
                    literal(run_id),
                    plan.classification_code(src),
                    plan.level1(src),
                    plan.level2(src),
                    plan.features_json(src),
                    plan.figures(src),
                    literal(as_of, Date),
                ),
            )
        )
        if src is not ev:
            conn.execute(text(f"DROP TABLE {DIFF_TABLE}"))
    conn.execute(text(f"DROP TABLE {CHANGED_TABLE}"))
    conn.execute(text(f"DROP TABLE {EVAL_TABLE}"))
    return int(total), tally


def _keep_earlier_figures(conn: Any, plan: Plan, src: Any) -> None:
    """Move the figures a run replaces (the customer's previous evaluation) to the history, set-based."""
    conn.execute(
        insert(evaluations).from_select(
            EVALUATION_COLUMNS,
            select(states.c.customer_id, states.c.run_id, states.c.as_of, states.c.features)
            .join(src, src.c.customer_id == states.c.customer_id)
            .where(states.c.features.is_not(None), states.c.figures != plan.figures(src)),
        )
    )


def _tally(session: Session, run_id: int, before: dict[str, int], bulk: bool) -> Tally:
    """Count what the run changed from the customers it touched (MOVED_TABLE) and the rows it closed.

    A bulk run touched most of the table, so the open counts are taken afresh (an index-only scan)
    and what it opened is the difference; a small run counts the rows it opened among the customers
    it touched. Neither reads an index on the run id, so the table needs none.
    """
    moved = table(MOVED_TABLE, column("customer_id"))
    closed = repository.closed_counts(session, run_id)
    if bulk:
        after = repository.open_counts(session)
        opened = {
            t: after.get(t, 0) - before.get(t, 0) + closed.get(t, 0) for t in {*after, *before, *closed}
        }
    else:
        opened = repository.opened_counts(session, moved, run_id)
        after = dict(before)
        for tag in {*opened, *closed}:
            after[tag] = after.get(tag, 0) + opened.get(tag, 0) - closed.get(tag, 0)
    total, sample = repository.moves(session, moved, run_id, MOVES_SAMPLE)
    return Tally(
        _nonzero(after),
        sum(opened.values()),
        sum(closed.values()),
        total,
        sample,
    )


def _nonzero(counts: dict[str, int]) -> dict[str, int]:
    """Counts per tag in tag order, without the tags at zero (as the run record keeps them)."""
    return {tag: n for tag, n in sorted(counts.items()) if n}


def _use_bulk(conn: Any, n_changed: int) -> bool:
    """A large run into a table with few rows per changed customer (a first run): rebuild the indexes instead.

    Maintaining the secondary indexes row by row costs several µs per inserted assignment;
    building the indexes afterwards from sorted runs costs a fraction of that, but is paid for the
    whole table, so it pays only when the run writes a large share of it. The table is counted
    only up to the bound, so a run over a big history stays cheap to decide.
    """
    if n_changed < BULK_MIN_CUSTOMERS:
        return False
    bound = n_changed * BULK_ROWS_PER_CUSTOMER
    held = conn.scalar(select(func.count()).select_from(select(assignments.c.id).limit(bound + 1).subquery()))
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
    table first (the "already open" test reads it; with none held, there is nothing to test), the
    secondary indexes are dropped, the rows inserted, and the indexes re-created — in the same
    transaction, so a failed run leaves the table as it was.
    """
    tag_columns = [plan.tag(src, n) for n in range(len(plan.slots))]
    keep = exists().where(
        src.c.customer_id == assignments.c.customer_id, assignments.c.tag_code.in_(tag_columns)
    )
    conn.execute(
        update(assignments)
        .where(
            assignments.c.valid_to.is_(None),
            assignments.c.source == "rule",
            assignments.c.customer_id.in_(select(src.c.customer_id)),
            not_(keep),
        )
        .values(valid_to=literal(now, UTCDateTime), closed_by=f"run:{run_id}", closed_run_id=run_id)
    )
    held: Any = None
    if bulk:
        held = _copy_open_rows(conn, src)
        _drop_secondary(conn)
    opens = [
        and_(src.c[f"r_{n}"].is_not(None), not_(_already_open(src, plan.tag(src, n), bulk, held)))
        for n in range(len(plan.slots))
    ]
    # who the run moves: a customer given a tag it does not hold, or one whose tag was closed above
    conn.execute(text(f"DROP TABLE IF EXISTS {MOVED_TABLE}"))
    conn.execute(
        CreateTempTableAs(
            MOVED_TABLE,
            union(
                select(src.c.customer_id).where(or_(*opens)),
                select(assignments.c.customer_id).where(assignments.c.closed_run_id == run_id),
            ),
        )
    )
    conn.execute(text(f"CREATE UNIQUE INDEX ix_{MOVED_TABLE}_customer_id ON {MOVED_TABLE} (customer_id)"))
    for n, slot in enumerate(plan.slots):
        query = select(
            src.c.customer_id,
            plan.tag(src, n),
            literal("rule", String),
            plan.rule(src, n),
            literal(version_id),
            json_object(*json_pairs(plan.snapshot[slot], src)),
            literal(as_of, Date),
            literal(now, UTCDateTime),
            literal(f"run:{run_id}", String),
            literal(run_id),
        ).where(opens[n])
        conn.execute(insert(assignments).from_select(ASSIGNMENT_COLUMNS, query))
    if bulk:
        _create_secondary(conn)
        conn.execute(text(f"DROP TABLE {OPEN_TABLE}"))


def _copy_open_rows(conn: Any, src: Any) -> Any:
    """Copy the open assignments of `src`'s customers to an indexed temporary table; None if there are none."""
    conn.execute(text(f"DROP TABLE IF EXISTS {OPEN_TABLE}"))
    conn.execute(
        CreateTempTableAs(
            OPEN_TABLE,
            select(assignments.c.customer_id, assignments.c.tag_code).where(
                assignments.c.valid_to.is_(None), assignments.c.customer_id.in_(select(src.c.customer_id))
            ),
        )
    )
    conn.execute(text(f"CREATE INDEX ix_{OPEN_TABLE} ON {OPEN_TABLE} (customer_id, tag_code)"))
    held = table(OPEN_TABLE, column("customer_id"), column("tag_code"))
    return held if conn.scalar(select(held.c.customer_id).limit(1)) is not None else None


def _already_open(src: Any, tag: Any, bulk: bool, held: Any) -> Any:
    """Whether `src`'s customer already holds `tag`: in the live table, or in bulk in the copied open rows.

    A bulk run with nothing held (a first run) has nothing to probe.
    """
    if not bulk:
        return repository.holds(src.c.customer_id, tag)
    if held is None:
        return false()
    return (
        select(held.c.customer_id)
        .where(held.c.customer_id == src.c.customer_id, held.c.tag_code == tag)
        .exists()
    )


def _rebuilt_indexes() -> list[Any]:
    """The indexes a bulk write drops and re-creates: all but the partial index of closed rows.

    A run's inserted rows are open (closed_run_id NULL), so they never enter that index: keeping
    it costs nothing, re-creating it would cost a scan of the whole table.
    """
    return sorted((i for i in assignments.indexes if i.name != CLOSED_INDEX), key=lambda i: str(i.name))


def _drop_secondary(conn: Any) -> None:
    """Drop the indexes of `_rebuilt_indexes`."""
    for index in _rebuilt_indexes():
        conn.execute(DropIndex(index))


def _create_secondary(conn: Any) -> None:
    """Re-create what `_drop_secondary` dropped, exactly as the model declares it, and refresh statistics."""
    for index in _rebuilt_indexes():
        conn.execute(CreateIndex(index))
    if conn.dialect.name == "sqlite":
        conn.execute(text("PRAGMA analysis_limit=1000"))  # sampled: 0.1 s instead of 2 s at 9M rows
    conn.execute(text(f"ANALYZE {assignments.name}"))


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
