"""The paging kit: page parameters, the page schema, one page in order and the capped count."""

from __future__ import annotations

import pytest
from sqlalchemy import Select, select
from sqlalchemy.orm import Session
from tests.factories import make_department, make_user

from custinfo.auth.models import Department, User
from custinfo.core.pagination import (
    TOTAL_CAP,
    Page,
    PageParams,
    count_matches,
    fetch_page,
    fetch_rows,
)

PREFIX = "paging-"


@pytest.fixture
def departments(session: Session) -> list[Department]:
    """Five departments named paging-0 … paging-4, in id order."""
    return [make_department(session, f"{PREFIX}{n}") for n in range(5)]


def ours() -> Select[Department]:
    return select(Department).where(Department.name.startswith(PREFIX))


def test_params_offset_and_problems() -> None:
    assert PageParams().offset == 0
    assert PageParams(3, 20).offset == 40
    assert PageParams(1, 200).problems(200) == []
    errors = PageParams(0, 201).problems(200)
    assert [(e.field, e.rule, e.params) for e in errors] == [
        ("page", "integer.range", {"min": 1, "max": 1_000_000}),
        ("size", "integer.range", {"min": 1, "max": 200}),
    ]
    assert [e.field for e in PageParams(1, 0).problems(50)] == ["size"]
    with pytest.raises(AttributeError):
        PageParams().page = 2  # type: ignore[misc]


def test_page_schema_shape() -> None:
    class NamePage(Page[str]):
        """A page of names."""

    page = NamePage(items=["a"], page=1, size=20, total=1, total_capped=False)
    assert page.model_dump() == {"items": ["a"], "page": 1, "size": 20, "total": 1, "total_capped": False}
    properties = NamePage.model_json_schema()["properties"]
    assert list(properties) == ["items", "page", "size", "total", "total_capped"]
    assert all(p.get("description") for p in properties.values())
    assert "100,000" in properties["total"]["description"]


def test_fetch_page_orders_and_offsets(session: Session, departments: list[Department]) -> None:
    ids = [d.id for d in departments]
    newest_first = (Department.id.desc(),)
    first, total, capped = fetch_page(session, ours(), PageParams(1, 2), order_by=newest_first)
    assert [d.id for d in first] == ids[::-1][:2]
    assert (total, capped) == (5, False)
    second, _, _ = fetch_page(session, ours(), PageParams(2, 2), order_by=newest_first)
    last, _, _ = fetch_page(session, ours(), PageParams(3, 2), order_by=newest_first)
    assert [d.id for d in second] == ids[::-1][2:4]
    assert [d.id for d in last] == ids[:1]
    beyond, total, _ = fetch_page(session, ours(), PageParams(4, 2), order_by=newest_first)
    assert beyond == [] and total == 5
    by_name, _, _ = fetch_page(session, ours(), PageParams(1, 5), order_by=(Department.name, Department.id))
    assert [d.name for d in by_name] == [f"{PREFIX}{n}" for n in range(5)]


def test_count_is_capped(session: Session, departments: list[Department]) -> None:
    assert fetch_page(session, ours(), PageParams(1, 2), order_by=(Department.id,), cap=3)[1:] == (3, True)
    assert count_matches(session, ours(), cap=4) == (4, True)
    assert count_matches(session, ours(), cap=5) == (5, False)
    assert count_matches(session, ours(), cap=None) == (5, False)
    assert count_matches(session, ours().where(Department.name == "nobody"), cap=3) == (0, False)
    assert TOTAL_CAP == 100_000


def test_count_without_where_keeps_its_from(session: Session, departments: list[Department]) -> None:
    # A statement without any WHERE (an admin's scope) must still count its table, not one constant row.
    everyone = session.scalars(select(Department.id)).all()
    assert count_matches(session, select(Department), cap=None) == (len(everyone), False)


def test_fetch_rows_with_outer_join(session: Session, departments: list[Department]) -> None:
    make_user(session, f"{PREFIX}user", "sales", f"{PREFIX}1")
    stmt = (
        select(Department.name, User.username)
        .outerjoin(User, User.department_id == Department.id)
        .where(Department.name.startswith(PREFIX))
    )
    rows, total, capped = fetch_rows(session, stmt, PageParams(1, 2), order_by=(Department.id,), cap=10)
    assert [tuple(r) for r in rows] == [(f"{PREFIX}0", None), (f"{PREFIX}1", f"{PREFIX}user")]
    assert (total, capped) == (5, False)
