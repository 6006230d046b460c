"""Issue 10 (classwords): the catalogue without internal codes, marketing's counts of the whole base, the
corrections page for marketing, and the tags tab telling the latest figures and their history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.factories import make_customer, make_order
from tests.web.test_pages import sign_in

from custinfo.auth.models import User
from custinfo.auth.policy import Principal
from custinfo.classification import service as classification
from custinfo.classification.tag_quality import service as quality
from custinfo.core.errors import NotPermitted

SignIn = Callable[[str], TestClient]


@pytest.fixture
def signed_in(client: TestClient, world: dict[str, User]) -> SignIn:
    def _sign_in(username: str) -> TestClient:
        client.cookies.clear()
        assert sign_in(client, username).status_code == 303
        return client

    return _sign_in


@pytest.fixture
def tagged(session: Session, world: dict[str, User]) -> int:
    """Two high-value customers of two sales reps, classified."""
    today = date.today()
    for owner in ("sales_east1", "sales_south1"):
        customer = make_customer(session, world[owner], name=f"高价值{owner}有限公司")
        make_order(session, customer, ordered_on=today - timedelta(days=20), amount=Decimal("600000.00"))
    classification.run_full(session)
    session.commit()
    return customer.id


def test_the_catalogue_shows_no_codes_to_business_users(signed_in: SignIn, tagged: int) -> None:
    page = signed_in("sales_east1").get("/classification/tags?codes=true")
    assert page.status_code == 200
    assert "<code>value_high</code>" not in page.text and "value_tier" not in page.text  # only in links
    assert "取值方式" in page.text and "显示内部代码" not in page.text
    steward = signed_in("steward")
    plain = steward.get("/classification/tags")
    assert "<code>value_high</code>" not in plain.text and "显示内部代码" in plain.text
    coded = steward.get("/classification/tags?codes=true")
    assert "<code>value_high</code>" in coded.text and "标签代码（规则引用）" in coded.text


def test_marketing_sees_counts_of_the_whole_base_without_names(signed_in: SignIn, tagged: int) -> None:
    client = signed_in("marketing")
    catalogue = client.get("/classification/tags")
    assert catalogue.status_code == 200 and "人数按全部客户统计" in catalogue.text
    size = catalogue.text.split('data-tag="value_high"')[1].split('class="text-end font-tabular tag-size">')[
        1
    ]
    assert size.startswith("2<")
    members = client.get("/classification/tags/value_high")
    assert members.status_code == 200 and 'id="counts-only"' in members.text
    assert "全部客户中共有 2 位" in members.text and "高价值" + "sales_east1" not in members.text
    report = client.get("/classification/report")
    assert report.status_code == 200 and "尚无分类数据" not in report.text
    assert "全部客户，共 2 位" in report.text
    corrections = client.get("/classification/corrections")
    assert corrections.status_code == 200 and 'id="corrections-counts-only"' in corrections.text


def test_a_sales_rep_still_sees_only_its_own_members(signed_in: SignIn, tagged: int) -> None:
    page = signed_in("sales_east1").get("/classification/tags/value_high")
    assert page.status_code == 200 and 'id="counts-only"' not in page.text
    assert "高价值sales_east1有限公司" in page.text and "高价值sales_south1有限公司" not in page.text


def test_counts_of_the_whole_base_are_refused_to_other_roles(session: Session, tagged: int) -> None:
    sales = Principal(user_id=1, username="x", role="sales", department_id=None)
    assert not classification.members_as_counts(sales)
    rows, total = classification.tag_members(session, sales, "value_high")
    assert rows == [] and total == 0  # a sales rep without customers counts its own scope: none
    with pytest.raises(NotPermitted):
        quality.correction_counts(session, sales)


def test_anonymous_is_sent_to_sign_in(client: TestClient) -> None:
    client.cookies.clear()
    for url in ("/classification/tags?codes=true", "/classification/corrections"):
        response = client.get(url, follow_redirects=False)
        assert response.status_code in (303, 401) and "value_high" not in response.text


def test_the_tags_tab_tells_the_latest_figures_and_their_history(
    session: Session, signed_in: SignIn, world: dict[str, User]
) -> None:
    today = date.today()
    customer = make_customer(session, world["sales_east1"], name="成长科技有限公司")
    make_order(session, customer, ordered_on=today - timedelta(days=20), amount=Decimal("500000.00"))
    classification.run_full(session, as_of=today - timedelta(days=1))
    make_order(session, customer, ordered_on=today - timedelta(days=2), amount=Decimal("100000.00"))
    classification.run_full(session, as_of=today)
    session.commit()
    page = signed_in("sales_east1").get(f"/customers/{customer.id}?tab=tags")
    assert page.status_code == 200
    assert "年合作金额 600,000.00 元 ≥ 500,000.00 元 → 高价值" in page.text
    assert f"截至 {today.isoformat()} 的数据" in page.text and "历次评估（1）" in page.text
    assert "年合作金额 500,000.00 元 ≥ 500,000.00 元 → 高价值" in page.text
    assert "value.high" not in page.text


def test_the_api_keeps_the_figures_and_adds_the_sentence_and_history(
    session: Session, client: TestClient, login: Callable[[str], dict[str, str]], world: dict[str, User]
) -> None:
    today = date.today()
    customer = make_customer(session, world["sales_east1"])
    make_order(session, customer, ordered_on=today - timedelta(days=20), amount=Decimal("500000.00"))
    classification.run_full(session, as_of=today - timedelta(days=1))
    make_order(session, customer, ordered_on=today - timedelta(days=2), amount=Decimal("100000.00"))
    classification.run_full(session, as_of=today)
    session.commit()
    url = f"/api/v1/customers/{customer.id}/tags"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=login("sales_south1")).status_code == 404
    tags = {t["tag"]: t for t in client.get(url, headers=login("sales_east1")).json()}
    high = tags["value_high"]
    assert high["features"]["annual_amount"] == 60_000_000
    assert high["explanation"] == "年合作金额 600,000.00 元 ≥ 500,000.00 元 → 高价值"
    assert high["evaluated_as_of"] == today.isoformat()
    assert [h["features"]["annual_amount"] for h in high["history"]] == [50_000_000]


def test_the_api_gives_marketing_the_number_of_members_without_names(
    client: TestClient, login: Callable[[str], dict[str, str]], tagged: int
) -> None:
    url = "/api/v1/tags/value_high/members"
    assert client.get(url).status_code == 401
    marketing = client.get(url, headers=login("marketing")).json()
    assert marketing["total"] == 2 and marketing["items"] == [] and marketing["counts_only"] is True
    sales = client.get(url, headers=login("sales_east1")).json()
    assert sales["total"] == 1 and len(sales["items"]) == 1 and sales["counts_only"] is False
    assert client.get("/api/v1/tags/nope/members", headers=login("marketing")).status_code == 404
    report = client.get("/api/v1/classification/report", headers=login("marketing")).json()
    assert sum(cell["customers"] for cell in report) == 2
