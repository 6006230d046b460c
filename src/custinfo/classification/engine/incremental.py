"""The incremental run: the full run's SELECT restricted to one customer, diffed in Python (a few rows)."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from typing import cast as cast_type

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.orm import Session

from custinfo.classification.engine.plan import Plan, cached_plan
from custinfo.classification.engine.products import with_product_lists
from custinfo.classification.engine.runs import finish_run, start_run
from custinfo.classification.models import (
    ClassificationEvaluation,
    ClassificationRun,
    ClassificationState,
    TagAssignment,
)
from custinfo.core.db import utcnow
from custinfo.customers.models import Customer

assignments = cast_type(Table, TagAssignment.__table__)
states = cast_type(Table, ClassificationState.__table__)
evaluations = cast_type(Table, ClassificationEvaluation.__table__)


def run_incremental(
    session: Session,
    customer_id: int,
    trigger: str = "event",
    as_of: date | None = None,
    actor: str | None = None,
    at: datetime | None = None,
) -> ClassificationRun:
    """Re-tag one customer with the same SELECT as a full run, restricted to it.

    Two transactions that change one customer at once (two orders added in parallel) would each read
    "no open row for tag X" and both insert one; the loser then fails on the unique index
    `ix_tag_assignments_open`. So the run first locks the customer row: the second run waits until
    the first commits and then reads its rows (READ COMMITTED reads afresh per statement), so both
    requests succeed and the tags match the data. The lock is FOR NO KEY UPDATE, the lock an
    ordinary UPDATE takes: it does not conflict with the KEY SHARE lock each order insert holds on
    the customer through its foreign key. Request writers already took this lock before anything
    else (customers.service), so here it is re-entrant for them and only orders the other callers
    (the CLI, jobs). Idempotent inserts
    (ON CONFLICT DO NOTHING) were rejected: they hide the race for inserts only, while closing rows
    and replacing the state row would still be computed from a stale read. SQLite needs no lock (one
    writer at a time) and SQLAlchemy renders none there.
    """
    _lock_customer(session, customer_id)
    begun = start_run(session, "incremental", trigger, as_of, actor, customer_id)
    run, version, as_of = begun.run, begun.version, begun.as_of
    now = at or utcnow()
    definition = with_product_lists(session, version.definition, as_of)
    plan = cached_plan(version.id, definition, begun.tags, as_of)
    row = _one_customer(session, plan, customer_id)
    stored = session.execute(
        select(
            states.c.signature, states.c.figures, states.c.features, states.c.as_of, states.c.run_id
        ).where(states.c.customer_id == customer_id)
    ).first()
    current = {
        r.tag_code: r.id
        for r in session.execute(
            select(assignments.c.id, assignments.c.tag_code).where(
                assignments.c.customer_id == customer_id,
                assignments.c.valid_to.is_(None),
                assignments.c.source == "rule",
            )
        )
    }
    wanted: dict[str, tuple[str, str]] = {}
    if row is not None:
        for n, slot in enumerate(plan.slots):
            tag = row[f"t_{n}"]
            if tag is not None:
                wanted[tag] = (row[f"k_{n}"], slot)
    unchanged = row is not None and stored is not None and stored.signature == row["sig"]
    refresh = row is not None and not (unchanged and stored is not None and stored.figures == row["figs"])
    to_close = [] if unchanged else [rid for tag, rid in current.items() if tag not in wanted]
    if to_close:
        session.execute(
            update(assignments)
            .where(assignments.c.id.in_(to_close))
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
        session.execute(insert(assignments), new_rows)
    if row is not None and refresh:
        if stored is not None and stored.features is not None and stored.figures != row["figs"]:
            session.execute(
                insert(evaluations).values(
                    customer_id=customer_id,
                    run_id=stored.run_id,
                    as_of=stored.as_of,
                    features=stored.features,
                )
            )
        session.execute(delete(states).where(states.c.customer_id == customer_id))
        session.execute(
            insert(states).values(
                customer_id=customer_id,
                signature=row["sig"],
                run_id=run.id,
                code=row["code"],
                level1=row["level1"],
                level2=row["level2"],
                features=_figures(row["fjson"]),
                figures=row["figs"],
                as_of=as_of,
            )
        )
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
    finish_run(run, begun.started)
    session.flush()
    return run


def _lock_customer(session: Session, customer_id: int) -> None:
    """Hold the customer row until commit (FOR NO KEY UPDATE on PostgreSQL; nothing on SQLite)."""
    session.execute(select(Customer.id).where(Customer.id == customer_id).with_for_update(key_share=True))


def _one_customer(session: Session, plan: Plan, customer_id: int) -> Any:
    """The evaluation row of one customer (the full run's SELECT, restricted to it)."""
    return session.execute(plan.select, {"customer_id": customer_id}).mappings().first()


def _figures(value: Any) -> Any:
    """The figures JSON as the database returned it (text on SQLite, parsed on PostgreSQL) as a dict."""
    return json.loads(value) if isinstance(value, str) else value


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value
