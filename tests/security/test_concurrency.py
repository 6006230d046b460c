"""Concurrent writes to one customer (issue 9, item 4): real threads, each request its own connection.

These tests commit, so they run on a private database of their own (`own_engine`), not inside the
rolled-back test transaction. On PostgreSQL two transactions really interleave (row locks, READ
COMMITTED); on SQLite writers take turns (BEGIN IMMEDIATE and a busy timeout), which the same
assertions must hold for.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from tests.factories import make_customer, make_user

from custinfo.activity.models import Order
from custinfo.app import create_app
from custinfo.auth.service import issue_session
from custinfo.classification import engine as classification_engine
from custinfo.classification.models import TagAssignment
from custinfo.config import Settings
from custinfo.core.db import make_session_factory
from custinfo.core.uow import Actor, unit_of_work

API = "/api/v1"
PARALLEL_ORDERS = 20
SAME_VERSION_EDITS = 8


@pytest.fixture
def world(own_engine: Engine) -> dict[str, Any]:
    """Two writers of one department, one of their customers, and an API token each (committed)."""
    factory = make_session_factory(own_engine)
    with unit_of_work(factory, Actor.system("test")) as session:
        sales = make_user(session, "sales_east1", "sales", "华东销售部")
        head = make_user(session, "head_east", "dept_head", "华东销售部")
        customer = make_customer(session, sales, name="并发测试公司")
        tokens = {
            user.username: issue_session(session, user, "api", timedelta(hours=1)).secret
            for user in (sales, head)
        }
        customer_id = customer.id
    return {"customer_id": customer_id, "tokens": tokens, "factory": factory}


@pytest.fixture
def app(own_engine: Engine, tmp_path: Any) -> FastAPI:
    """The real app on the private database: its own session per request, committed for real."""
    settings = Settings(environment="test", data_dir=tmp_path, database_url="sqlite://")
    return create_app(settings, engine=own_engine)


def _in_parallel(app: FastAPI, calls: list[Callable[[TestClient], Any]]) -> list[Any]:
    """Run each call in its own thread with its own client, all released at once; their responses."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        client = TestClient(app, raise_server_exceptions=False)
        barrier.wait()
        try:
            results[index] = calls[index](client)
        except Exception as exc:  # a crash is a result to report, not a hang
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _headers(world: dict[str, Any], username: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world['tokens'][username]}"}


def test_parallel_orders_for_one_customer_all_succeed_with_consistent_tags(
    app: FastAPI, world: dict[str, Any]
) -> None:
    customer_id = world["customer_id"]

    def order(n: int) -> Callable[[TestClient], Any]:
        body = {
            "customer_id": customer_id,
            "ordered_on": "2026-01-15",
            "amount": f"{60000 + n}.00",
            "product": "工业传感器",
            "category": "传感器",
            "quantity": 1 + n,
        }
        username = "sales_east1" if n % 2 else "head_east"
        return lambda client: client.post(f"{API}/orders", json=body, headers=_headers(world, username))

    responses = _in_parallel(app, [order(n) for n in range(PARALLEL_ORDERS)])
    statuses = Counter(getattr(r, "status_code", repr(r)) for r in responses)
    assert statuses == {201: PARALLEL_ORDERS}, [
        getattr(r, "text", r) for r in responses if r.status_code != 201
    ]

    with unit_of_work(world["factory"], Actor.system("test")) as session:
        assert session.scalar(select(func.count()).where(Order.customer_id == customer_id)) == PARALLEL_ORDERS
        open_rows = _open_tags(session, customer_id)
        assert len(open_rows) == len(set(open_rows)), "a tag is open twice"
        # Consistent: a fresh evaluation of the committed data changes nothing.
        run = classification_engine.run_incremental(session, customer_id, trigger="manual")
        assert (run.added, run.removed) == (0, 0), (run.added, run.removed)
        assert _open_tags(session, customer_id) == open_rows


def _open_tags(session: Session, customer_id: int) -> list[str]:
    return sorted(
        session.scalars(
            select(TagAssignment.tag_code).where(
                TagAssignment.customer_id == customer_id, TagAssignment.valid_to.is_(None)
            )
        )
    )


def test_same_version_edits_give_one_success_and_the_rest_409(app: FastAPI, world: dict[str, Any]) -> None:
    url = f"{API}/customers/{world['customer_id']}"

    def edit(n: int) -> Callable[[TestClient], Any]:
        username = "sales_east1" if n % 2 else "head_east"
        body = {"region": f"城市{n}", "version": 1}
        return lambda client: client.patch(url, json=body, headers=_headers(world, username))

    responses = _in_parallel(app, [edit(n) for n in range(SAME_VERSION_EDITS)])
    statuses = Counter(getattr(r, "status_code", repr(r)) for r in responses)
    assert statuses == {200: 1, 409: SAME_VERSION_EDITS - 1}, [getattr(r, "text", r) for r in responses]
    for response in responses:
        if response.status_code == 409:
            body = response.json()
            assert body["status"] == 409 and body["title"] and body["detail"]
    winner = next(r for r in responses if r.status_code == 200).json()
    current = TestClient(app).get(url, headers=_headers(world, "head_east")).json()
    assert current["version"] == 2 and current["region"] == winner["region"]


def test_an_edit_and_orders_at_once_on_one_customer_neither_deadlock_nor_fail(
    app: FastAPI, world: dict[str, Any]
) -> None:
    customer_id = world["customer_id"]
    body = {
        "customer_id": customer_id,
        "ordered_on": "2026-02-01",
        "amount": "90000.00",
        "product": "阀门",
        "quantity": 2,
    }

    def order(client: TestClient) -> Any:
        return client.post(f"{API}/orders", json=body, headers=_headers(world, "sales_east1"))

    def edit(client: TestClient) -> Any:
        change = {"region": "杭州市", "version": 1}
        return client.patch(
            f"{API}/customers/{customer_id}", json=change, headers=_headers(world, "head_east")
        )

    responses = _in_parallel(app, [edit, *[order] * 6, edit])
    statuses = [getattr(r, "status_code", repr(r)) for r in responses]
    assert sorted(statuses) == sorted([200, 409, *[201] * 6]), [getattr(r, "text", r) for r in responses]
