"""The leak matrix: a unique value planted in every field of every level, searched for in every answer.

Three positions relative to sales_east1 (own, same department, other department)
each hold an individual (with a contact-less history: need, order, contract,
interaction, engagement) and a company (with a contact). Every catalogued field
that can hold a unique value holds one (`PLANTED`); the fields that hold a shared
code (gender, kind, status, urgency, core need, channel, provided-by, flags and a
1–5 satisfaction) are named in `UNMARKABLE`. Then classification runs (full and
incremental), proposals (one rule change with its impact samples, one manual tag
per individual) and tag corrections are made, so every report names customers.

Each role then requests every web page and tab and every JSON route. In every
answer, a planted value appears in clear only where the caller may see it: the
customer in their scope and the field clear for their role (`STATE`, written out
here from the requirements, not read from the policy). The audit log (auditor,
admin) names every customer acted on by id, by design; its values are searched
like every other answer. Routes about one record
must also show what they show (the clear values, and the masked forms of L3
fields), so a route that stopped rendering cannot pass by being empty. Every
customer an answer links to or names by id is in the caller's scope.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from tests.factories import make_contact, make_contract, make_customer, make_interaction, make_order

from custinfo import defaults
from custinfo.activity.models import EngagementEvent
from custinfo.auth.deps import SESSION_COOKIE
from custinfo.auth.models import User
from custinfo.auth.policy import Principal
from custinfo.auth.service import issue_session
from custinfo.classification import service as classification
from custinfo.classification.governance import service as governance
from custinfo.classification.tag_quality import service as quality
from custinfo.customers.identifiers import make_id_number
from custinfo.customers.models import NeedEntry
from custinfo.protection.masking import mask_field

from .conftest import OWNERS, POSITIONS, USERS

API = "/api/v1"
SCOPE = {
    "sales": {"own"},
    "service": {"own", "same_department"},
    "dept_head": {"own", "same_department"},
    "data_steward": set(POSITIONS),
    "admin": set(POSITIONS),
    "marketing": set(),
    "auditor": set(),
}
# Role → visibility of L1, L2, L3 and per-entity overrides (REQUIREMENTS §3.1, as shipped).
STATE: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "sales": ({"L1": "clear", "L2": "clear", "L3": "masked"}, {}),
    "service": ({"L1": "clear", "L2": "hidden", "L3": "masked"}, {"interaction": "clear"}),
    "dept_head": ({"L1": "clear", "L2": "clear", "L3": "masked"}, {}),
    "data_steward": ({"L1": "clear", "L2": "clear", "L3": "masked"}, {}),
    "admin": ({"L1": "clear", "L2": "clear", "L3": "masked"}, {}),
    "marketing": ({"L1": "masked", "L2": "hidden", "L3": "hidden"}, {}),
    "auditor": ({"L1": "hidden", "L2": "hidden", "L3": "hidden"}, {}),
}
CATALOGUE = defaults.load("field_levels.json")["fields"]
UNMASKABLE_TYPES = {"money", "number", "flag", "date"}
UNMARKABLE = {
    ("customer", "owner"),  # a username, shared by many customers
    ("customer", "department"),
    ("customer", "source_channel"),  # codes shared by many customers
    ("customer", "purpose"),
    ("customer", "gender"),
    ("customer", "customer_type"),
    ("contact", "in_post"),
    ("need", "core_need"),
    ("need", "urgency"),
    ("order", "provided_by"),
    ("contract", "status"),
    ("interaction", "kind"),
    ("interaction", "channel"),
    ("interaction", "satisfaction"),
    ("interaction", "provided_by"),
    ("engagement", "event_type"),
    ("engagement", "is_new_product"),
    ("engagement", "provided_by"),
}
TODAY = date.today()


def expected_state(role: str, entity: str, name: str) -> str:
    """clear / masked / hidden of one field for a role, from the table above and the shipped levels."""
    levels, entities = STATE[role]
    spec = CATALOGUE[entity][name]
    state = entities.get(entity) or levels[spec["level"]]
    if state == "masked" and spec["type"] in UNMASKABLE_TYPES:
        return "hidden"
    return state


@dataclass(frozen=True)
class Marker:
    """One planted value: where it is, its clear forms (as JSON and as a page show it), its masked form."""

    position: str
    holder: str  # person | company
    entity: str
    name: str
    value: Any
    forms: tuple[str, ...]

    def masked(self) -> str | None:
        """The value as the shipped masks show it."""
        masks = defaults.load("field_levels.json")["masks"]
        return mask_field(self.value, CATALOGUE[self.entity][self.name]["type"], masks)


def _forms(value: Any) -> tuple[str, ...]:
    if isinstance(value, Decimal):
        return (f"{value}", f"{value:,}")
    if isinstance(value, int):
        return (str(value), f"{value:,}")
    if isinstance(value, datetime):
        return (value.date().isoformat(),)
    if isinstance(value, date):
        return (value.isoformat(),)
    return (str(value),)


def planted_values(n: int) -> dict[tuple[str, str], dict[str, Any]]:
    """(holder, entity) → field → the unique value planted for position number n."""
    born = date(1941 + n, 3, 17)
    return {
        ("person", "customer"): {
            "name": f"QXNM{n}A",
            "nickname": f"QXNK{n}A",
            "mobile": f"1390733{n}821",
            "email": f"qxem{n}@example.com",
            "region": f"QXRG{n}A",
            "occupation": f"QXOC{n}A",
            "birth_date": born,
            "id_number": make_id_number("110105", born, 37 + n),
            "address": f"上海市浦东新区QXAD{n}路",
            "bank_account": f"62220202001180{n}7734",
        },
        ("company", "customer"): {
            "name": f"QXCN{n}B",
            "credit_code": None,  # a valid unique code from the factory
            "legal_representative": f"QXLR{n}B",
            "registered_address": f"北京市朝阳区QXRA{n}路",
            "industry": f"QXIN{n}B",
            "employee_count": 83172 + n,
            "revenue_band": f"QXRV{n}B",
            "founded_on": date(1951 + n, 6, 23),
            "mobile": f"1380744{n}932",
            "email": f"qxce{n}@example.com",
            "region": f"QXCR{n}B",
        },
        ("company", "contact"): {
            "name": f"QXCT{n}C",
            "title": f"QXTT{n}C",
            "department": f"QXDP{n}C",
            "mobile": f"1370855{n}043",
            "email": f"qxct{n}@example.com",
            "left_on": date(1961 + n, 7, 29),
        },
        ("person", "need"): {
            "budget_min": Decimal(f"3{n + 1}1719.23"),
            "budget_max": Decimal(f"4{n + 1}2913.71"),
            "description": f"QXDS{n}D",
            "recorded_at": datetime(1971 + n, 8, 11, 4, tzinfo=UTC),
            "recorded_by": f"QXRB{n}D",
        },
        ("person", "order"): {
            # within the year, so the value rules see the amount (and explanations tell it)
            "ordered_on": TODAY - timedelta(days=20 + n),
            "amount": Decimal(f"6{n + 1}4321.57"),
            "product": f"QXPR{n}E",
            "category": f"QXCA{n}E",
            "quantity": 73915 + n,
        },
        ("person", "contract"): {
            "title": f"QXTI{n}F",
            "signed_on": date(1981 + n, 1, 19),
            "starts_on": date(1981 + n, 2, 21),
            "ends_on": date(1982 + n, 3, 23),
            "terminated_on": date(1983 + n, 4, 25),
            "termination_reason": f"QXTR{n}F",
            "amount": Decimal(f"5{n + 1}2817.39"),
        },
        ("person", "interaction"): {
            "occurred_at": datetime(1991 + n, 9, 13, 4, tzinfo=UTC),
            "topic": f"QXTP{n}G",
            "resolution": f"QXRS{n}G",
        },
        ("person", "engagement"): {
            "occurred_at": datetime(1995 + n, 10, 14, 4, tzinfo=UTC),
            "product": f"QXEP{n}H",
            "category": f"QXEC{n}H",
            "dwell_seconds": 91273 + n,
        },
    }


@dataclass
class Planted:
    """The planted world: customer ids per position, every marker, and the ids reports refer to."""

    person: dict[str, int] = field(default_factory=dict)
    company: dict[str, int] = field(default_factory=dict)
    markers: list[Marker] = field(default_factory=list)
    runs: list[int] = field(default_factory=list)
    proposals: list[int] = field(default_factory=list)

    def visible_ids(self, role: str) -> set[int]:
        """Customers the role may see."""
        return {ids[p] for ids in (self.person, self.company) for p in SCOPE[role]}

    def position_of(self, customer_id: int) -> str:
        """The position of a planted customer."""
        return next(p for ids in (self.person, self.company) for p, i in ids.items() if i == customer_id)


def _principal(user: User) -> Principal:
    return Principal(user.id, user.username, user.role, user.department_id)


@pytest.fixture
def planted(session: Session, world: dict[str, User]) -> Planted:
    """Every position's individual and company, every field planted, then runs, proposals and corrections."""
    out = Planted()
    for n, position in enumerate(POSITIONS):
        owner = world[OWNERS[position]]
        values = planted_values(n)
        person = make_customer(
            session, owner, kind="individual", gender="male", **values[("person", "customer")]
        )
        person.birth_year = values[("person", "customer")]["birth_date"].year
        company_values = {k: v for k, v in values[("company", "customer")].items() if v is not None}
        company = make_customer(session, owner, customer_type="distributor", **company_values)
        values[("company", "customer")]["credit_code"] = company.credit_code
        make_contact(session, company, **values[("company", "contact")])
        session.add(
            NeedEntry(
                customer_id=person.id,
                core_need="product_purchase",
                urgency="high",
                **values[("person", "need")],
            )
        )
        make_order(session, person, **values[("person", "order")])
        make_contract(session, person, status="terminated", **values[("person", "contract")])
        make_interaction(
            session,
            person,
            kind="complaint",
            channel="phone",
            satisfaction=4,
            **values[("person", "interaction")],
        )
        session.add(
            EngagementEvent(
                customer_id=person.id, event_type="product_viewed", **values[("person", "engagement")]
            )
        )
        session.flush()
        out.person[position], out.company[position] = person.id, company.id
        for (holder, entity), fields in values.items():
            for name, value in fields.items():
                assert (entity, name) not in UNMARKABLE and name in CATALOGUE[entity], (entity, name)
                out.markers.append(Marker(position, holder, entity, name, value, _forms(value)))
    session.commit()
    planted_fields = {(m.entity, m.name) for m in out.markers}
    catalogued = {(e, n) for e, names in CATALOGUE.items() for n in names}
    assert planted_fields | UNMARKABLE == catalogued  # every field is planted or named as unmarkable

    out.runs.append(classification.run_full(session, trigger="manual", actor="test").id)
    for position in POSITIONS:
        out.runs.append(classification.run_incremental(session, out.person[position], trigger="manual").id)
    steward = _principal(world["steward"])
    definition = json.loads(json.dumps(classification.current_rule_set(session).definition))
    rule = next(r for r in definition["rules"] if r["id"] == "value.high")
    rule["when"]["value"] = "630000.00"  # the own and same-department individuals would leave value_high
    out.proposals.append(
        governance.propose(session, steward, "rule_change", {"definition": definition}, "阈值调整").id
    )
    for position in POSITIONS:
        payload = {"customer_id": out.person[position], "tag_code": "vip", "add": True}
        out.proposals.append(governance.propose(session, steward, "manual_tag", payload, "大客户").id)
        owner = _principal(world[OWNERS[position]])
        quality.report_correction(session, owner, out.person[position], "value_high", "标签不准")
    session.commit()
    return out


@dataclass(frozen=True)
class Route:
    """One GET: its path, whether it is a page, and (for a record's routes) which planted fields it shows."""

    path: str
    web: bool
    customer: int | None = None
    shows: frozenset[tuple[str, str]] = frozenset()
    masks: frozenset[tuple[str, str]] = frozenset()


PERSON = ("person",)
L3_PERSON = frozenset({("customer", "id_number"), ("customer", "birth_date"), ("customer", "address")})
L3_COMPANY = frozenset({("customer", "registered_address")})


def _fields(entity: str, holder: str, planted: Planted) -> frozenset[tuple[str, str]]:
    return frozenset((m.entity, m.name) for m in planted.markers if m.entity == entity and m.holder == holder)


def routes(planted: Planted) -> Iterator[Route]:
    """Every web page and tab and every JSON route that shows customer data, for every planted record."""
    for page in (
        "/customers",
        "/customers?q=QXNM0A",
        "/classification/runs",
        "/classification/report",
        "/classification/tags",
        "/classification/tags/value_high",
        "/classification/tags/vip",
        "/classification/proposals",
        "/classification/proposals?status=",
        "/classification/quality",
        "/classification/corrections",
        "/audit",
        "/audit/export.csv",
        "/access-requests",
        "/access-requests/queue",
        "/jobs",
        *(f"/classification/runs/{r}" for r in planted.runs),
        *(f"/classification/proposals/{p}" for p in planted.proposals),
    ):
        yield Route(page, web=True)
    for path in (
        "/customers?size=200",
        "/customers?q=QXNM0A",
        "/orders?size=200",
        "/contracts?size=200",
        "/interactions?size=200",
        "/classification/runs",
        "/classification/report",
        "/tags/value_high/members",
        "/tags/vip/members",
        "/proposals",
        "/tags/quality",
        "/corrections",
        "/audit?size=500",
        "/audit/export.csv",
        "/access-requests",
        "/jobs/runs",
        *(f"/classification/runs/{r}" for r in planted.runs),
        *(f"/proposals/{p}" for p in planted.proposals),
    ):
        yield Route(API + path, web=False)
    for position in POSITIONS:
        person, company = planted.person[position], planted.company[position]
        everything = frozenset((m.entity, m.name) for m in planted.markers if m.holder == "person")
        history = everything - _fields("engagement", "person", planted)  # browsing is not a tracked change
        for tab, shows in (
            ("profile", _fields("customer", "person", planted)),
            ("tags", frozenset({("order", "amount")})),  # "年合作金额 614,321.57 元 ≥ …"
            ("needs", _fields("need", "person", planted)),
            ("orders", _fields("order", "person", planted)),
            ("contracts", _fields("contract", "person", planted)),
            ("interactions", _fields("interaction", "person", planted)),
            ("history", history),
        ):
            masks = L3_PERSON if tab in ("profile", "history") else frozenset()
            yield Route(f"/customers/{person}?tab={tab}", True, person, shows, masks)
        for tab, shows in (
            ("profile", _fields("customer", "company", planted)),
            (
                "contacts",
                _fields("contact", "company", planted) - {("contact", "left_on")},
            ),  # shown once left
            ("history", _fields("customer", "company", planted) | _fields("contact", "company", planted)),
        ):
            masks = L3_COMPANY if tab in ("profile", "history") else frozenset()
            yield Route(f"/customers/{company}?tab={tab}", True, company, shows, masks)
        yield Route(f"/customers/{person}/edit", True, person)
        for path, shows in (
            ("", _fields("customer", "person", planted)),
            ("/needs", _fields("need", "person", planted)),
            ("/orders", _fields("order", "person", planted)),
            ("/contracts", _fields("contract", "person", planted)),
            ("/interactions", _fields("interaction", "person", planted)),
            ("/engagement", _fields("engagement", "person", planted)),
            ("/history", history),
            ("/tags", frozenset({("order", "amount")})),
        ):
            yield Route(
                f"{API}/customers/{person}{path}",
                False,
                person,
                shows,
                L3_PERSON if path == "" else frozenset(),
            )
        yield Route(
            f"{API}/customers/{company}", False, company, _fields("customer", "company", planted), L3_COMPANY
        )
        yield Route(
            f"{API}/customers/{company}/contacts", False, company, _fields("contact", "company", planted)
        )


CUSTOMER_LINK = re.compile(r"/customers/(\d+)")


def _named_customers(body: str, web: bool) -> set[int]:
    """Customer ids an answer refers to: links on a page, `customer_id` keys in JSON."""
    if web:
        return {int(i) for i in CUSTOMER_LINK.findall(body)}
    found: set[int] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "customer_id" and isinstance(value, int):
                    found.add(value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    with contextlib.suppress(ValueError):  # CSV and other non-JSON bodies: only the values are searched
        walk(json.loads(body))
    return found


def _client_for(client: TestClient, session: Session, user: User, web: bool) -> dict[str, str]:
    kind = "web" if web else "api"
    issued = issue_session(session, user, kind, timedelta(hours=1))
    session.commit()
    if web:
        client.cookies.set(SESSION_COOKIE, issued.secret)
        return {}
    return {"Authorization": f"Bearer {issued.secret}"}


@pytest.mark.parametrize("role", list(USERS))
def test_every_answer_shows_exactly_what_the_role_may_see(
    role: str, client: TestClient, session: Session, world: dict[str, User], planted: Planted
) -> None:
    check_every_answer(role, client, session, world, planted, routes(planted))


def test_audit_log_shows_the_auditor_no_value_the_catalogue_hides(
    client: TestClient, session: Session, world: dict[str, User], planted: Planted
) -> None:
    # Once a hole (every L1/L2 value of each change shown): the audit log goes through the field view too.
    audit = [r for r in routes(planted) if "/audit" in r.path]
    check_every_answer("auditor", client, session, world, planted, audit)


def check_every_answer(
    role: str,
    client: TestClient,
    session: Session,
    world: dict[str, User],
    planted: Planted,
    chosen: Iterable[Route],
) -> None:
    """Request every chosen route as the role and search each answer for every planted value."""
    user = world[USERS[role]]
    api_headers = _client_for(client, session, user, web=False)
    _client_for(client, session, user, web=True)
    visible = planted.visible_ids(role)
    checked = 0
    for route in chosen:
        response = client.get(route.path, headers={} if route.web else api_headers, follow_redirects=False)
        assert response.status_code < 500, (role, route.path, response.text[:500])
        if route.customer is not None and route.customer not in visible and response.status_code != 403:
            assert response.status_code == 404, (role, route.path, response.status_code)
        if response.status_code != 200:
            continue
        body = response.text
        checked += 1
        if (
            "/audit" not in route.path
        ):  # the audit log names every customer acted on, by design; values are searched
            planted_ids = set(planted.person.values()) | set(planted.company.values())
            outside = _named_customers(body, route.web) & planted_ids
            assert outside <= visible, (role, route.path, sorted(outside - visible))
        for marker in planted.markers:
            state = expected_state(role, marker.entity, marker.name)
            allowed = marker.position in SCOPE[role] and state == "clear"
            shown = [form for form in marker.forms if form in body]
            if not allowed:
                assert not shown, (role, route.path, marker.position, marker.entity, marker.name, shown)
                continue
            holder_id = (planted.person if marker.holder == "person" else planted.company)[marker.position]
            if route.customer == holder_id and (marker.entity, marker.name) in route.shows:
                assert shown, (role, route.path, "not shown", marker.entity, marker.name, marker.forms)
        for marker in planted.markers:
            holder_id = (planted.person if marker.holder == "person" else planted.company)[marker.position]
            key = (marker.entity, marker.name)
            if route.customer == holder_id and key in route.masks and expected_state(role, *key) == "masked":
                assert marker.masked() in body, (role, route.path, "mask not shown", key)
    assert checked, role
