"""Incremental = full: the same feature and rule SQL for one customer or all, on random histories."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from tests.factories import make_contract, make_customer, make_interaction, make_order

from custinfo.activity.models import EngagementEvent
from custinfo.classification import engine, repository
from custinfo.classification.engine.products import with_product_lists
from custinfo.classification.models import ClassificationState, TagAssignment
from custinfo.classification.taxonomy import tag_index
from custinfo.customers.models import Customer

AS_OF = date(2026, 6, 30)

order = st.tuples(
    st.integers(0, 400),
    st.decimals(Decimal("0.01"), Decimal("300000.00"), places=2),
    st.sampled_from(["传感器", "智能家居", None]),
)
contract = st.tuples(
    st.sampled_from(["negotiating", "active", "renewed", "terminated"]),
    st.integers(0, 800),
    st.integers(-200, 300),
)
interaction = st.tuples(
    st.sampled_from(["visit", "call", "consultation", "complaint", "after_sales"]),
    st.sampled_from(["onsite", "phone", "online", "app"]),
    st.integers(0, 400),
    st.one_of(st.none(), st.integers(1, 5)),
)
customer = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["individual", "company"]),
        "orders": st.lists(order, max_size=6),
        "contracts": st.lists(contract, max_size=2),
        "interactions": st.lists(interaction, max_size=4),
        "views": st.lists(st.tuples(st.integers(0, 120), st.booleans()), max_size=4),
        "birth": st.one_of(st.none(), st.dates(date(1940, 1, 1), date(2008, 1, 1))),
        "employees": st.one_of(st.none(), st.integers(1, 500)),
    }
)


def _build(session: Session, spec: dict[str, Any]) -> int:
    if spec["kind"] == "individual":
        c = make_customer(
            session, kind="individual", name="随机", birth_date=spec["birth"], region="广东省深圳市"
        )
    else:
        c = make_customer(
            session, employee_count=spec["employees"], founded_on=spec["birth"], region="四川省南充市仪陇县"
        )
    for days, amount, category in spec["orders"]:
        make_order(session, c, ordered_on=AS_OF - timedelta(days=days), amount=amount, category=category)
    for status, signed, ends in spec["contracts"]:
        make_contract(
            session,
            c,
            status=status,
            signed_on=AS_OF - timedelta(days=signed),
            ends_on=AS_OF - timedelta(days=ends),
            terminated_on=AS_OF - timedelta(days=max(ends, 0)) if status == "terminated" else None,
        )
    for kind, channel, days, score in spec["interactions"]:
        make_interaction(
            session, c, kind=kind, channel=channel, satisfaction=score,
            occurred_at=datetime(2026, 6, 30, 3, tzinfo=UTC) - timedelta(days=days),
        )  # fmt: skip
    for days, new in spec["views"]:
        session.add(
            EngagementEvent(
                customer_id=c.id,
                occurred_at=datetime(2026, 6, 30, 3, tzinfo=UTC) - timedelta(days=days),
                event_type="product_view",
                product="智能门锁",
                category="智能家居",
                is_new_product=new,
            )
        )
    session.flush()
    return c.id


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=st.lists(customer, min_size=1, max_size=5), bulk=st.booleans())
def test_incremental_equals_full(session: Session, specs: list[dict[str, Any]], bulk: bool) -> None:
    nested = session.begin_nested()
    try:
        ids = [_build(session, spec) for spec in specs]
        version = repository.active_version(session)
        tags = tag_index(session)
        definition = with_product_lists(session, version.definition, AS_OF)
        full_plan = engine.build_plan(definition, tags, AS_OF)
        everyone = {r["customer_id"]: dict(r) for r in session.execute(full_plan.select).mappings()}
        one_plan = engine.build_plan(definition, tags, AS_OF, one_customer=True)
        for cid in ids:
            single = session.execute(one_plan.select, {"customer_id": cid}).mappings().one()
            assert dict(single) == everyone[cid]
        engine.run_full(session, as_of=AS_OF, bulk=bulk)
        after_full = _open(session, ids)
        session.execute(delete(ClassificationState))  # force the full diff, not the signature short cut
        for cid in ids:
            run = engine.run_incremental(session, cid, as_of=AS_OF)
            assert run.added == 0 and run.removed == 0
        assert _open(session, ids) == after_full
    finally:
        nested.rollback()


def _open(session: Session, ids: list[int]) -> set[tuple[int, str]]:
    rows = session.execute(
        select(TagAssignment.customer_id, TagAssignment.tag_code).where(
            TagAssignment.customer_id.in_(ids), TagAssignment.valid_to.is_(None)
        )
    )
    return {(cid, tag) for cid, tag in rows}


def _written(session: Session, ids: list[int]) -> list[tuple[Any, ...]]:
    """Every assignment of these customers, without the ids that differ from run to run."""
    ta = TagAssignment
    rows = session.execute(
        select(
            ta.customer_id, ta.tag_code, ta.source, ta.rule_id, ta.features, ta.as_of,
            ta.valid_from, ta.valid_to, ta.valid_to.is_(None),
        ).where(ta.customer_id.in_(ids))
    )  # fmt: skip
    return sorted((tuple(r[:4]), repr(r[4]), *r[5:]) for r in rows)


def _both_ways(session: Session, ids: list[int], at: datetime) -> list[tuple[Any, ...]]:
    """Run a full run row by row and in bulk from the same state; both must write the same."""
    results = []
    for bulk in (False, True):
        step = session.begin_nested()
        run = engine.run_full(session, as_of=AS_OF, at=at, bulk=bulk)
        results.append(
            (_written(session, ids), run.added, run.removed, run.moved, run.counts_after, run.customers)
        )
        step.rollback()
    assert results[0] == results[1]
    return results[0][0]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=st.lists(customer, min_size=1, max_size=4), extra=st.lists(order, min_size=1, max_size=3))
def test_bulk_write_equals_row_by_row(
    session: Session, specs: list[dict[str, Any]], extra: list[tuple[int, Decimal, str | None]]
) -> None:
    nested = session.begin_nested()
    try:
        ids = [_build(session, spec) for spec in specs]
        first = datetime(2026, 6, 30, 4, tzinfo=UTC)
        assert _both_ways(session, ids, first)  # a first run: every assignment new
        engine.run_full(session, as_of=AS_OF, at=first, bulk=False)
        customer = session.get(Customer, ids[0])
        assert customer is not None
        for days, amount, category in extra:
            make_order(
                session, customer, ordered_on=AS_OF - timedelta(days=days), amount=amount, category=category
            )
        session.flush()
        _both_ways(session, ids, first + timedelta(hours=1))  # over a history: closes and inserts
    finally:
        nested.rollback()
