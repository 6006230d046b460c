"""Product categories: the vocabulary over the API, the preference tags it yields, migration 0016."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import insert, inspect, select
from sqlalchemy.orm import Session
from tests.factories import make_customer, make_order

from custinfo.audit.models import AuditEntry
from custinfo.auth.models import User
from custinfo.classification.categories.models import ProductCategory, ProductCategoryVersion
from custinfo.classification.engine import products
from custinfo.classification.models import Tag, TagAssignment
from custinfo.classification.service import run_full
from custinfo.core.schema import alembic_config

Headers = Callable[[str], dict[str, str]]
API = "/api/v1/product-categories"
AS_OF = date(2026, 6, 30)


def _orders(session: Session, world: dict[str, User], *categories: str) -> list[int]:
    """One customer per category, each with three orders of it; their ids."""
    ids = []
    for category in categories:
        customer = make_customer(session, world["sales_east1"])
        for n in range(3):
            make_order(session, customer, category=category, ordered_on=AS_OF - timedelta(days=10 + n))
        ids.append(customer.id)
    session.commit()
    products.forget()
    return ids


def _open_tags(session: Session, customer_id: int) -> set[str]:
    session.expire_all()
    return set(
        session.scalars(
            select(TagAssignment.tag_code).where(
                TagAssignment.customer_id == customer_id, TagAssignment.valid_to.is_(None)
            )
        )
    )


def _by_name(listing: dict, name: str) -> dict:
    return next(c for c in listing["items"] if c["name_zh"] == name)


def test_anonymous_forbidden_allowed(client: TestClient, world: dict[str, User], token: Headers) -> None:
    created = client.post(API, json={"name_zh": "传感器"}, headers=token("steward"))
    assert created.status_code == 201, created.text
    cid, version = created.json()["id"], created.json()["version"]
    writes = [
        ("post", API, {"name_zh": "工控设备"}),
        ("patch", f"{API}/{cid}", {"version": version, "name_zh": "新名"}),
        ("post", f"{API}/{cid}/retire", {"version": version}),
        ("post", f"{API}/seed", None),
    ]
    for method, url, body in [("get", API, None), ("get", f"{API}/{cid}", None), *writes]:
        assert client.request(method, url, json=body).status_code == 401, (method, url)
    for who in ("sales_east1", "marketing", "auditor", "head_east", "service1"):
        assert client.get(API, headers=token(who)).status_code == 200, who
        for method, url, body in writes:
            refused = client.request(method, url, json=body, headers=token(who))
            assert refused.status_code == 403, (method, url, who)
    assert client.post(f"{API}/seed", headers=token("admin")).status_code == 200
    renamed = client.patch(
        f"{API}/{cid}", json={"version": version, "name_en": "Sensors"}, headers=token("admin")
    )
    assert renamed.status_code == 200 and renamed.json()["name_en"] == "Sensors"


def test_bad_input(client: TestClient, world: dict[str, User], token: Headers) -> None:
    steward = token("steward")
    for body in (
        {"name_zh": ""},
        {"name_zh": "   "},
        {"name_zh": "类" * 101},
        {"name_zh": "传感器", "values": "传感器"},
        {"name_zh": "传感器", "values": [1]},
        {"name_zh": "传感器", "colour": "red"},
        {},
        {"name_zh": None},
    ):
        response = client.post(API, json=body, headers=steward)
        assert response.status_code == 422, (body, response.text)
    assert client.post(API, content=b"{not json", headers=steward).status_code == 422
    first = client.post(API, json={"name_zh": "传感器"}, headers=steward).json()
    duplicate = client.post(API, json={"name_zh": " 传感器 "}, headers=steward)
    assert duplicate.status_code == 409 and duplicate.json()["errors"][0]["field"] == "name_zh"
    cid = first["id"]
    assert client.patch(f"{API}/{cid}", json={"name_zh": "X"}, headers=steward).status_code == 422
    assert client.patch(f"{API}/{cid}", json={"version": "x"}, headers=steward).status_code == 422
    assert (
        client.patch(f"{API}/{cid}", json={"version": 99, "name_zh": "X"}, headers=steward).status_code == 409
    )
    assert (
        client.patch(f"{API}/{cid}", json={"version": 1, "name_zh": ""}, headers=steward).status_code == 422
    )
    assert (
        client.patch(f"{API}/999999", json={"version": 1, "name_zh": "X"}, headers=steward).status_code == 404
    )
    assert client.get(f"{API}/999999", headers=steward).status_code == 404
    assert client.get(f"{API}/abc", headers=steward).status_code == 422
    assert client.post(f"{API}/{cid}/retire", json={}, headers=steward).status_code == 422
    assert client.post(f"{API}/{cid}/retire", json={"version": 1}, headers=steward).status_code == 200
    assert client.post(f"{API}/{cid}/retire", json={"version": 2}, headers=steward).status_code == 409


def test_seed_rename_merge_retire_audited_and_versioned(
    client: TestClient, world: dict[str, User], token: Headers, session: Session
) -> None:
    _orders(session, world, "传感器", "传感器件", "工控设备", "传感器")
    steward = token("steward")
    before = client.get(API, headers=steward).json()
    assert before["items"] == [] and {u["value"] for u in before["unmapped"]} == {
        "传感器",
        "传感器件",
        "工控设备",
    }
    seeded = client.post(f"{API}/seed", headers=steward).json()
    assert sorted(seeded["created"]) == sorted(["工控设备", "传感器", "传感器件"])
    assert client.post(f"{API}/seed", headers=steward).json()["created"] == []
    listing = client.get(API, headers=steward).json()
    assert listing["unmapped"] == []
    sensors, parts = _by_name(listing, "传感器"), _by_name(listing, "传感器件")
    assert sensors["orders"] == 6 and sensors["values"] == ["传感器"]
    tag = session.scalar(select(Tag).where(Tag.code == sensors["tag"]))
    assert tag is not None and tag.name_zh == "偏好传感器" and tag.dimension == "product_preference"

    merged = client.patch(
        f"{API}/{sensors['id']}",
        json={"version": sensors["version"], "name_zh": "传感与检测", "values": ["传感器", "传感器件"]},
        headers=steward,
    )
    assert merged.status_code == 200, merged.text
    assert merged.json()["orders"] == 9 and merged.json()["values"] == ["传感器", "传感器件"]
    session.expire_all()
    assert session.scalar(select(Tag.name_zh).where(Tag.code == sensors["tag"])) == "偏好传感与检测"
    assert _by_name(client.get(API, headers=steward).json(), "传感器件")["values"] == []
    stale = client.patch(
        f"{API}/{sensors['id']}", json={"version": sensors["version"], "name_zh": "Y"}, headers=steward
    )
    assert stale.status_code == 409
    retired = client.post(f"{API}/{parts['id']}/retire", json={"version": parts["version"]}, headers=steward)
    assert retired.status_code == 200 and retired.json()["active"] is False

    actions = [
        a
        for a in session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.action.like("product_category.%"))
            .order_by(AuditEntry.seq)
        )
    ]
    assert actions == ["product_category.seeded", "product_category.updated", "product_category.retired"]
    numbers = list(
        session.scalars(select(ProductCategoryVersion.number).order_by(ProductCategoryVersion.number))
    )
    assert numbers == [1, 2, 3]
    last = session.scalar(select(ProductCategoryVersion).where(ProductCategoryVersion.number == 3))
    assert last is not None and {c["name_zh"]: c["active"] for c in last.snapshot}["传感器件"] is False


def test_preference_tags_follow_the_vocabulary(
    client: TestClient, world: dict[str, User], token: Headers, session: Session
) -> None:
    sensor_buyer, parts_buyer, office_buyer = _orders(session, world, "传感器", "传感器件", "办公设备")
    steward = token("steward")
    client.post(f"{API}/seed", headers=steward)
    listing = client.get(API, headers=steward).json()
    sensors, parts, office = (_by_name(listing, n) for n in ("传感器", "传感器件", "办公设备"))
    run_full(session, as_of=AS_OF)
    session.commit()
    assert sensors["tag"] in _open_tags(session, sensor_buyer)
    assert parts["tag"] in _open_tags(session, parts_buyer)
    assert office["tag"] in _open_tags(session, office_buyer)

    # merge 传感器件 into 传感器: its buyer now prefers 传感器; retire 办公设备: its buyer loses the tag
    client.patch(
        f"{API}/{sensors['id']}",
        json={"version": sensors["version"], "values": ["传感器", "传感器件"]},
        headers=steward,
    )
    client.post(f"{API}/{office['id']}/retire", json={"version": office["version"]}, headers=steward)
    run_full(session, as_of=AS_OF)
    session.commit()
    assert sensors["tag"] in _open_tags(session, parts_buyer)
    assert parts["tag"] not in _open_tags(session, parts_buyer)
    assert not {t for t in _open_tags(session, office_buyer) if t == office["tag"]}
    closed = session.scalar(
        select(TagAssignment).where(
            TagAssignment.customer_id == office_buyer, TagAssignment.tag_code == office["tag"]
        )
    )
    assert closed is not None and closed.valid_to is not None

    explained = client.get(f"/api/v1/customers/{parts_buyer}/tags", headers=token("sales_east1"))
    assert explained.status_code == 200
    words = next(t for t in explained.json() if t["tag"] == sensors["tag"])["explanation"]
    assert "传感器件" in words and "pc_" not in words


def test_migration_keeps_the_tags_of_an_existing_install(session: Session, world: dict[str, User]) -> None:
    _orders(session, world, "传感器", "工控设备")
    connection = session.connection()
    config = alembic_config()
    config.attributes["connection"] = connection
    command.downgrade(config, "0013_latest_evaluation")
    assert "product_categories" not in inspect(connection).get_table_names()
    connection.execute(
        insert(Tag.__table__),
        [
            {
                "code": "prefers_sensors",
                "category_code": "preference",
                "dimension": "product_preference",
                "source": "rule",
                "name_zh": "偏好传感器",
                "name_en": "Prefers sensors",
                "sort": 99,
                "active": True,
            }
        ],
    )
    command.upgrade(config, "head")
    rows = {
        r.name_zh: r.tag_code
        for r in session.execute(select(ProductCategory.name_zh, ProductCategory.tag_code))
    }
    assert rows["传感器"] == "prefers_sensors"
    assert rows["工控设备"].startswith("prefers_pc_")
    assert session.scalar(select(ProductCategoryVersion.change)) == "seeded"
