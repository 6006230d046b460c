"""The domain-agnostic kit: types, field validation, unit of work, catalogues."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from custinfo.audit.models import ChangeRecord
from custinfo.core.errors import Invalid
from custinfo.core.fields import FieldSpec, boolean, integer, validate
from custinfo.core.fields import text as text_field
from custinfo.core.i18n import CATALOGUE_DIR, pick_language, translate
from custinfo.core.problems import from_pydantic
from custinfo.core.types import Money, fen_to_yuan
from custinfo.core.uow import Actor, unit_of_work
from custinfo.customers.models import Customer

SPECS = (
    FieldSpec("name", text_field(5), required_for=frozenset({"a"})),
    FieldSpec("count", integer(1, 10)),
    FieldSpec("flag", boolean),
    FieldSpec("only_b", text_field(10), kinds=frozenset({"b"})),
)


def test_validate_collects_every_error_at_once() -> None:
    with pytest.raises(Invalid) as caught:
        validate(
            SPECS, {"name": "toolong", "count": "11", "flag": "maybe", "only_b": "x", "zzz": 1}, kind="a"
        )
    rules = {(e.field, e.rule) for e in caught.value.errors}
    assert rules == {
        ("name", "text.too_long"),
        ("count", "integer.range"),
        ("flag", "boolean.format"),
        ("only_b", "field.not_for_kind"),
        ("zzz", "field.unknown"),
    }


def test_validate_normalises_and_checks_required() -> None:
    assert validate(SPECS, {"name": "　ＡＢ  c ", "count": "1,0"}, kind="a") == {"name": "AB c", "count": 10}
    with pytest.raises(Invalid) as caught:
        validate(SPECS, {}, kind="a")
    assert [(e.field, e.rule) for e in caught.value.errors] == [("name", "field.required")]
    assert validate(SPECS, {}, kind="a", partial=True) == {}
    assert validate(SPECS, {"name": "ok", "count": None}, kind="a") == {"name": "ok", "count": None}


@given(st.decimals(min_value=0, max_value=Decimal("99999999999.99"), places=2))
def test_money_round_trips_through_fen(value: Decimal) -> None:
    money = Money()
    stored = money.process_bind_param(value, None)  # type: ignore[arg-type]
    assert isinstance(stored, int)
    assert money.process_result_value(stored, None) == value  # type: ignore[arg-type]
    assert fen_to_yuan(stored) == value


def test_money_refuses_floats() -> None:
    with pytest.raises(TypeError):
        Money().process_bind_param(1.1, None)  # type: ignore[arg-type]


def test_datetimes_come_back_as_aware_utc(session: Session) -> None:
    shanghai = timezone(timedelta(hours=8))
    customer = Customer(kind="individual", name="时区", source_channel="app", purpose="marketing")
    customer.created_at = datetime(2026, 3, 1, 9, 30, tzinfo=shanghai)
    session.add(customer)
    session.flush()
    session.expire_all()
    loaded = session.get_one(Customer, customer.id)
    assert loaded.created_at == datetime(2026, 3, 1, 1, 30, tzinfo=UTC)
    assert loaded.created_at.tzinfo is not None


def test_money_is_exact_in_sql_sums(session: Session) -> None:
    from tests.factories import make_customer, make_order

    customer = make_customer(session)
    for amount in ("0.10", "0.20", "1234567.89"):
        make_order(session, customer, amount=Decimal(amount))
    total = session.scalar(text("SELECT SUM(amount) FROM orders WHERE customer_id = :c"), {"c": customer.id})
    assert fen_to_yuan(total) == Decimal("1234568.19")


def test_rolled_back_unit_of_work_leaves_neither_change_nor_history(
    session_factory: sessionmaker[Session],
) -> None:
    with pytest.raises(RuntimeError), unit_of_work(session_factory, Actor("tester")) as s:
        s.add(Customer(kind="individual", name="回滚", source_channel="app", purpose="marketing"))
        s.flush()
        raise RuntimeError("boom")
    with unit_of_work(session_factory, Actor("tester")) as s:
        assert s.scalar(select(func.count()).select_from(Customer).where(Customer.name == "回滚")) == 0
        assert (
            s.scalar(select(func.count()).select_from(ChangeRecord).where(ChangeRecord.actor == "tester"))
            == 0
        )


def test_committed_unit_of_work_records_history_with_actor(session_factory: sessionmaker[Session]) -> None:
    with unit_of_work(session_factory, Actor("tester", address="10.0.0.1")) as s:
        customer = Customer(kind="individual", name="提交", source_channel="app", purpose="marketing")
        s.add(customer)
    with unit_of_work(session_factory, Actor("tester")) as s:
        record = s.scalars(select(ChangeRecord).where(ChangeRecord.customer_id == customer.id)).one()
        assert (record.action, record.actor, record.address) == ("create", "tester", "10.0.0.1")
        assert record.changes["name"] == [None, "提交"]
        assert s.get_one(Customer, customer.id).created_by == "tester"


def test_language_negotiation() -> None:
    assert pick_language("en-US,en;q=0.9") == "en"
    assert pick_language("zh-TW") == "zh_CN"
    assert pick_language("fr", default="en") == "en"
    assert pick_language(None) == "zh_CN"
    assert translate("rule.integer.range", "en", min=1, max=5) == "must be between 1 and 5"
    assert translate("no.such.key", "en") == "no.such.key"


def test_catalogues_have_the_same_keys_in_every_language() -> None:
    for path in (CATALOGUE_DIR / "zh_CN").glob("*.json"):
        zh = json.loads(path.read_text(encoding="utf-8"))
        en = json.loads((CATALOGUE_DIR / "en" / path.name).read_text(encoding="utf-8"))
        assert set(zh) == set(en), f"{path.name}: {sorted(set(zh) ^ set(en))}"


def test_pydantic_errors_name_the_field_not_the_union_branch() -> None:
    invalid = from_pydantic(
        [
            {"loc": ("body", "quantity", "int"), "type": "int_parsing"},
            {"loc": ("query", "page"), "type": "missing"},
            {"loc": ("body", "items", 0, "function-after[check(), str]"), "type": "value_error"},
        ]
    )
    assert [(e.field, e.rule) for e in invalid.errors] == [
        ("quantity", "integer.format"),
        ("page", "field.required"),
        ("items.0", "field.invalid"),
    ]
