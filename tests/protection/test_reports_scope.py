"""Run reports, proposals and explanations as each role: figures of the caller's scope, values by field level."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custinfo.auth.models import User
from custinfo.auth.service import issue_session
from custinfo.classification import explain
from custinfo.classification.features import FEATURES

from .test_leak_matrix import Planted, planted

__all__ = ["planted"]  # the fixture, shared with the leak matrix

API = "/api/v1"


def _headers(client: TestClient, session: Session, user: User) -> dict[str, str]:
    issued = issue_session(session, user, "api", timedelta(hours=1))
    session.commit()
    return {"Authorization": f"Bearer {issued.secret}"}


def test_a_full_run_is_recounted_among_the_callers_customers(
    client: TestClient, session: Session, world: dict[str, User], planted: Planted
) -> None:
    full, *incremental = planted.runs
    steward = client.get(
        f"{API}/classification/runs/{full}", headers=_headers(client, session, world["steward"])
    )
    assert steward.json()["scoped"] is False and steward.json()["counts_after"]

    headers = _headers(client, session, world["sales_east1"])
    listed = client.get(f"{API}/classification/runs", headers=headers).json()["items"]
    own = {planted.person["own"], planted.company["own"]}
    assert {full, incremental[0]} <= {r["id"] for r in listed}
    assert all(r["customer_id"] is None or r["customer_id"] in own for r in listed)  # no other's run
    row = next(r for r in listed if r["id"] == full)
    assert row["scoped"] is True and row["added"] is None and row["counts_before"] is None
    detail = client.get(f"{API}/classification/runs/{full}", headers=headers).json()
    assert detail["counts_before"] is None and detail["counts_after"] is None
    assert {m["customer_id"] for m in detail["moves_sample"]} <= {
        planted.person["own"],
        planted.company["own"],
    }
    assert detail["added"] == sum(detail["added_by_tag"].values())
    assert detail["customers"] == 2  # the own individual and company: the run's customers in scope
    for other in incremental[1:]:
        assert client.get(f"{API}/classification/runs/{other}", headers=headers).status_code == 404


def test_a_dept_head_sees_proposals_of_their_department_only(
    client: TestClient, session: Session, world: dict[str, User], planted: Planted
) -> None:
    rule_change, *manual = planted.proposals  # manual: own, same department, other department
    south = _headers(client, session, world["head_south"])
    listed = {p["id"] for p in client.get(f"{API}/proposals", headers=south).json()["items"]}
    assert listed == {rule_change, manual[2]}
    assert client.get(f"{API}/proposals/{manual[0]}", headers=south).status_code == 404
    impact = client.get(f"{API}/proposals/{rule_change}", headers=south).json()["impact"]
    samples = [c for row in impact["tags"] for key in ("entering_sample", "leaving_sample") for c in row[key]]
    assert samples == []  # the customers leaving value_high are of the east department
    east = _headers(client, session, world["head_east"])
    impact = client.get(f"{API}/proposals/{rule_change}", headers=east).json()["impact"]
    leaving = {c["id"] for row in impact["tags"] for c in row["leaving_sample"]}
    assert leaving == {planted.person["own"], planted.person["same_department"]}


def test_an_explanation_keeps_the_rule_and_drops_a_figure_the_caller_may_not_see(
    client: TestClient, session: Session, world: dict[str, User], planted: Planted
) -> None:
    person = planted.person["own"]
    for username, amount_shown in (("sales_east1", True), ("service1", False)):
        tags = client.get(
            f"{API}/customers/{person}/tags", headers=_headers(client, session, world[username])
        )
        high = next(t for t in tags.json() if t["tag"] == "value_high")
        assert ("614,321.57" in high["explanation"]) is amount_shown, (username, high["explanation"])
        assert "500,000.00" in high["explanation"]  # the rule's own wording stays
        assert ("annual_amount" in (high["features"] or {})) is amount_shown


def test_every_feature_names_the_fields_it_is_computed_from() -> None:
    columns = {name for name, f in FEATURES.items() if f.type != "ratio"}
    assert set(explain.SOURCES) == columns
    withheld = explain.withheld_features(lambda entity, name: entity != "order")
    assert {"annual_amount", "growth", "orders_30d", "dominant_category"} <= withheld
    assert "complaint_rate" not in withheld and "kind" not in withheld
