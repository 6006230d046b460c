"""Demo data generator: users in every role and realistic customers with their history, in bulk.

`generate()` creates the demo departments and users (through the auth service),
then streams customers, contacts, needs, orders, contracts, interactions and
engagement events into the database in batches, all in one transaction.
Everything is drawn from one seeded random stream and laid out relative to
`as_of`, so the same seed and `as_of` give the same data. Each customer follows
an archetype (`custinfo.demo.archetypes`); the first customers take one
archetype each, so every class of REQUIREMENTS §2.1a appears even in a small
demo, and the rest are drawn by weight.

The loader is a bulk import: it writes storage values through
`custinfo.demo.bulk` and bypasses the ORM, so it writes NO change history and
no audit entries for the demo rows (every row is stamped `created_by='demo'`).
"""

from __future__ import annotations

import bisect
import itertools
import multiprocessing
import os
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, cast

from pypinyin import lazy_pinyin
from sqlalchemy import Table, exists, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from custinfo.activity.models import Contract, EngagementEvent, Interaction, Order
from custinfo.auth.models import User
from custinfo.auth.service import create_user, ensure_department
from custinfo.core import clock
from custinfo.core.db import make_session_factory
from custinfo.core.uow import Actor, unit_of_work
from custinfo.customers.identifiers import make_credit_code, make_id_number
from custinfo.customers.models import Contact, Customer, NeedEntry
from custinfo.demo import data
from custinfo.demo.archetypes import ARCHETYPES, PLANS, YUAN, FastRandom, Plan
from custinfo.demo.bulk import BulkWriter, Row

DEMO_ACTOR = "demo"
DEFAULT_DEMO_PASSWORD = "Demo2026-pass"
EAST, SOUTH = "华东销售部", "华南销售部"
CACHE_PRAGMA = -262144  # SQLite page cache during the load: 256 MiB (negative = KiB)


@dataclass(frozen=True)
class DemoUser:
    """A demo account: username, role, department and display name."""

    username: str
    role: str
    department: str | None
    display_name: str


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", "admin", None, "系统管理员"),
    DemoUser("steward", "data_steward", None, "周敏(数据管理)"),
    DemoUser("auditor", "auditor", None, "郑洁(审计)"),
    DemoUser("marketing", "marketing", None, "林悦(市场)"),
    DemoUser("head_east", "dept_head", EAST, "陈建国(华东负责人)"),
    DemoUser("head_south", "dept_head", SOUTH, "黄志强(华南负责人)"),
    DemoUser("sales_east1", "sales", EAST, "王磊"),
    DemoUser("sales_east2", "sales", EAST, "李娜"),
    DemoUser("sales_south1", "sales", SOUTH, "梁浩"),
    DemoUser("service1", "service", EAST, "张婷(客服)"),
)
SALES_USERS = ("sales_east1", "sales_east2", "sales_south1")


@dataclass(frozen=True)
class Owner:
    """A sales user who owns demo customers, with their department."""

    username: str
    user_id: int
    department_id: int | None


@dataclass
class DemoSummary:
    """What a demo load wrote: rows per table, customers per archetype, time taken."""

    seed: int
    as_of: date
    customers: int
    rows: dict[str, int] = field(default_factory=dict)
    archetypes: dict[str, int] = field(default_factory=dict)
    users_created: list[str] = field(default_factory=list)
    first_customer_id: int = 0
    elapsed_seconds: float = 0.0  # everything, including hashing the demo users' passwords
    load_seconds: float = 0.0  # the bulk load of customers and their history alone


COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": (
        "id", "kind", "name", "owner_id", "department_id", "source_channel", "purpose", "mobile", "email",
        "region", "nickname", "gender", "birth_date", "id_number", "address", "occupation", "credit_code",
        "legal_representative", "registered_address", "industry", "employee_count", "revenue_band",
        "founded_on", "customer_type", "birth_year", "created_at", "created_by", "updated_at", "updated_by",
        "version",
    ),
    "contacts": (
        "id", "customer_id", "name", "title", "department", "mobile", "email", "in_post", "left_on",
        "created_at", "created_by", "updated_at", "updated_by", "version",
    ),
    "need_entries": (
        "id", "customer_id", "core_need", "urgency", "budget_min", "budget_max", "description",
        "recorded_at", "recorded_by",
    ),
    "orders": (
        "id", "customer_id", "ordered_on", "amount", "product", "category", "quantity", "provided_by",
        "created_at", "created_by", "updated_at", "updated_by", "version",
    ),
    "contracts": (
        "id", "customer_id", "title", "signed_on", "starts_on", "ends_on", "amount", "status",
        "terminated_on", "created_at", "created_by", "updated_at", "updated_by", "version",
    ),
    "interactions": (
        "id", "customer_id", "kind", "channel", "occurred_at", "topic", "resolution", "satisfaction",
        "provided_by", "created_at", "created_by", "updated_at", "updated_by", "version",
    ),
    "engagement_events": (
        "id", "customer_id", "occurred_at", "event_type", "product", "category", "is_new_product",
        "dwell_seconds", "provided_by",
    ),
}  # fmt: skip
TABLES: dict[str, Table] = {
    model.__tablename__: cast(Table, model.__table__)
    for model in (Customer, Contact, NeedEntry, Order, Contract, Interaction, EngagementEvent)
}

# Weighted choices: (values, cumulative weights) for bisect-based drawing.
Weighted = tuple[tuple[Any, ...], list[float]]


def _weighted(pairs: dict[Any, float]) -> Weighted:
    return tuple(pairs), list(itertools.accumulate(pairs.values()))


OCCUPATIONS = _weighted(
    {
        "professional": 0.2, "commerce_service": 0.2, "clerical": 0.12, "production": 0.1,
        "self_employed": 0.1, "management": 0.05, "agriculture": 0.04, "student": 0.06, "retired": 0.08,
        "other": 0.03, "unemployed": 0.01, "military": 0.01, None: 0.1,
    }
)  # fmt: skip
IND_CHANNELS = _weighted(
    {"app": 0.25, "web_form": 0.2, "phone": 0.15, "visit": 0.1, "trade_show": 0.05,
     "partner_referral": 0.1, "paper_form": 0.1, "import": 0.05}
)  # fmt: skip
CO_CHANNELS = _weighted(
    {"visit": 0.3, "trade_show": 0.2, "phone": 0.15, "partner_referral": 0.15, "web_form": 0.1, "import": 0.1}
)
IND_PURPOSES = _weighted({"sales_service": 0.6, "marketing": 0.15, "after_sales": 0.2, "statutory": 0.05})
CO_PURPOSES = _weighted(
    {"sales_service": 0.5, "contract_performance": 0.35, "after_sales": 0.1, "marketing": 0.05}
)
CUSTOMER_TYPES = _weighted({"distributor": 0.3, "end_customer": 0.6, "partner": 0.1})
INTERACTION_KINDS = _weighted(
    {"call": 0.35, "visit": 0.15, "consultation": 0.2, "after_sales": 0.22, "complaint": 0.08}
)
CHANNELS: dict[str, tuple[str, ...]] = {
    "visit": ("onsite",),
    "call": ("phone",),
    "consultation": ("online", "wechat", "app", "online"),
    "complaint": ("phone", "online", "wechat", "email"),
    "after_sales": ("onsite", "phone", "onsite"),
}
CORE_NEEDS = {
    "individual": _weighted({"product_purchase": 0.75, "technical_service": 0.25}),
    "company": _weighted({"product_purchase": 0.45, "technical_service": 0.25, "solution_partnership": 0.3}),
}
NEED_TEXT = {
    "product_purchase": data.NEED_DESCRIPTIONS["product_purchase"],
    "technical_service": data.NEED_DESCRIPTIONS["technical_service"],
    "solution_partnership": data.NEED_DESCRIPTIONS["solution"] + data.NEED_DESCRIPTIONS["strategic"],
}
ARCHETYPE_DECK = _weighted({a.code: a.weight for a in ARCHETYPES})
PLACE_DECK = _weighted({p: data.TIER_WEIGHTS[p.tier] for p in data.PLACES})
SURNAME_DECK = _weighted({(s, py): w for s, w, py in data.SURNAMES})
INDUSTRY_DECK = _weighted(data.INDUSTRY_WEIGHTS)
GB11714_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
DISCOUNTS = (100, 95, 92, 90, 85)  # percent of list price


def _organization_code(serial: int) -> str:
    """A 9-character organisation code (GB 11714: 8 digits and their check character)."""
    body = f"{serial:08d}"
    check = 11 - sum(int(c) * w for c, w in zip(body, GB11714_WEIGHTS, strict=True)) % 11
    return body + ("X" if check == 10 else "0" if check == 11 else str(check))


class DemoRows:
    """Produces the demo rows, batch by batch, as storage-level tuples in `COLUMNS` order."""

    FUTURE_DAYS = 800
    PAST_DAYS = 2400

    def __init__(
        self,
        *,
        seed: int,
        customers: int,
        as_of: date,
        owners: dict[str, Owner],
        first_ids: dict[str, int],
        timestamp_suffix: str = "",
        orders_per_customer: float = 10,
        interactions_per_customer: float = 2,
        events_per_customer: float = 1,
        taken_id_numbers: set[str] | None = None,
        taken_credit_codes: set[str] | None = None,
    ) -> None:
        self.rng = FastRandom(seed)
        self.customers = customers
        self.as_of = as_of
        self.owners = owners
        self.next_id = dict(first_ids)
        self.first_customer_id = first_ids["customers"]
        self.suffix = timestamp_suffix
        self.orders_per_customer = orders_per_customer
        self.interactions_per_customer = interactions_per_customer
        self.events_per_customer = events_per_customer
        self.taken_id_numbers = taken_id_numbers if taken_id_numbers is not None else set()
        self.taken_credit_codes = taken_credit_codes if taken_credit_codes is not None else set()
        self.archetype_counts: Counter[str] = Counter()
        self.row_counts: Counter[str] = Counter()
        self._order_debt = 0.0
        self._interaction_debt = 0.0
        self._event_debt = 0.0
        span = range(-self.FUTURE_DAYS, self.PAST_DAYS)
        self._days = [(as_of - timedelta(days=k)).isoformat() for k in span]
        self._stamps = [f"{d} 02:00:00.000000{self.suffix}" for d in self._days]
        self._consumer = self._catalogue(consumer=True)
        self._business = self._catalogue(consumer=False)
        self._east = [owners["sales_east1"], owners["sales_east2"]]
        self._south = owners["sales_south1"]

    @staticmethod
    def _catalogue(consumer: bool) -> tuple[list[int], list[tuple[str, str, int]]]:
        products = sorted(
            (p.price_fen, p.name, p.category) for p in data.PRODUCTS if p.consumer or not consumer
        )
        return [price for price, _, _ in products], [
            (name, category, price) for price, name, category in products
        ]

    # --- small helpers (hot paths: keep them cheap) -------------------------------------------------

    def _pick(self, deck: Weighted) -> Any:
        values, cumulative = deck
        return values[bisect.bisect(cumulative, self.rng.random() * cumulative[-1])]

    def day(self, offset: int) -> str:
        """ISO date `offset` days before as_of (negative: after)."""
        return self._days[offset + self.FUTURE_DAYS]

    def stamp(self, offset: int) -> str:
        """Storage timestamp at 10:00 Beijing time on that day."""
        return self._stamps[offset + self.FUTURE_DAYS]

    def moment(self, offset: int) -> str:
        """Storage timestamp at a random time in Beijing office hours (08–18) on that day."""
        minutes, seconds = divmod(int(self.rng.random() * 36_000), 60)
        hours, minutes = divmod(minutes, 60)
        return f"{self._days[offset + self.FUTURE_DAYS]} {hours:02d}:{minutes:02d}:{seconds:02d}.000000{self.suffix}"

    def _take(self, table: str, count: int = 1) -> int:
        first = self.next_id[table]
        self.next_id[table] = first + count
        self.row_counts[table] += count
        return first

    def _person_name(self, male: bool) -> tuple[str, str]:
        rng = self.rng
        surname, pinyin = self._pick(SURNAME_DECK)
        chars = data.MALE_CHARS if male else data.FEMALE_CHARS
        given = [rng.choice(chars) for _ in range(1 if rng.random() < 0.3 else 2)]
        return surname + "".join(c for c, _ in given), pinyin + "".join(p for _, p in given)

    def _mobile(self) -> str:
        return f"{self.rng.choice(data.MOBILE_PREFIXES)}{self.rng.randrange(10**8):08d}"

    def _archetype(self, index: int) -> str:
        if index < len(ARCHETYPES):
            return ARCHETYPES[index].code
        return str(self._pick(ARCHETYPE_DECK))

    # --- rows -----------------------------------------------------------------------------------------

    def batches(self, size: int = 2000) -> Iterator[tuple[int, dict[str, list[Row]]]]:
        """Yield (customers done so far, rows per table) for every `size` customers."""
        done = 0
        while done < self.customers:
            count = min(size, self.customers - done)
            rows: dict[str, list[Row]] = {name: [] for name in COLUMNS}
            for index in range(done, done + count):
                self._customer(index, rows)
            done += count
            yield done, rows

    def _customer(self, index: int, rows: dict[str, list[Row]]) -> None:
        rng = self.rng
        code = self._archetype(index)
        self.archetype_counts[code] += 1
        kind = "individual" if code.startswith("ind_") else "company"
        plan = PLANS[code](rng)
        customer_id = self._take("customers")
        place: data.Place = self._pick(PLACE_DECK)
        owner = self._south if place.south else self._east[rng.randrange(2)]

        oldest = self._orders(customer_id, plan, rows["orders"])
        for contract in plan.contracts:
            oldest = max(oldest, contract.signed or 0, contract.starts or 0)
        oldest = max(oldest, plan.quiet_days)
        since = oldest + rng.randint(5, 60)
        self._contracts(customer_id, plan, since, rows["contracts"])
        self._interactions(customer_id, kind, plan, since, rows["interactions"])
        if plan.needs:
            self._needs(customer_id, kind, plan.needs, since, owner.username, rows["need_entries"])

        if kind == "individual":
            record, channel = self._individual(place)
            if channel in ("app", "web_form"):
                self._events(customer_id, since, True, rows["engagement_events"])
        else:
            record, domain = self._company(place, customer_id)
            self._contacts(customer_id, domain, since, rows["contacts"])
            if rng.random() < 0.2:
                self._events(customer_id, since, False, rows["engagement_events"])
        created = self.stamp(since)
        updated = self.stamp(rng.randint(1, since))
        rows["customers"].append(
            (
                customer_id, kind, record[0], owner.user_id, owner.department_id, *record[1:],
                int(record[8][:4]) if record[8] else None, created, DEMO_ACTOR, updated, DEMO_ACTOR, 1,
            )
        )  # fmt: skip

    def _orders(self, customer_id: int, plan: Plan, out: list[Row]) -> int:
        """Append the plan's orders and the filler orders; return the oldest order's day offset."""
        r = self.rng.random
        consumer = not plan.big_orders
        self._order_debt += self.orders_per_customer
        filler = 0
        if plan.filler_after is not None:
            jitter = (r() - 0.5) * self.orders_per_customer
            filler = max(0, round(self._order_debt + jitter) - len(plan.orders))
        count = len(plan.orders) + filler
        self._order_debt -= count
        if not count:
            return 0
        number = self._take("orders", count)
        days, stamps, shift = self._days, self._stamps, self.FUTURE_DAYS
        prices, products = self._consumer if consumer else self._business
        oldest = 0
        for offset, amount in plan.orders:
            high = bisect.bisect_right(prices, amount)
            if high == 0:
                name, category, price = products[0]
            else:
                low = bisect.bisect_left(prices, amount // 60)
                name, category, price = products[low + int(r() * (high - low)) if low < high else high - 1]
            stamp = stamps[offset + shift]
            out.append(
                (
                    number, customer_id, days[offset + shift], amount, name, category, amount // price or 1,
                    "customer" if r() < 0.2 else "system", stamp, DEMO_ACTOR, stamp, DEMO_ACTOR, 1,
                )
            )  # fmt: skip
            number += 1
            oldest = max(oldest, offset)
        if filler:
            start = plan.filler_after or 0
            size = len(products)
            for _ in range(filler):
                name, category, price = products[int(r() * size)]
                if consumer:
                    quantity = 2 if price < 50_000 and r() < 0.3 else 1
                else:
                    quantity = 1 + int(r() * (3 if price > 1_000_000 else 12))
                amount = price * quantity * DISCOUNTS[int(r() * 5)] // 100
                offset = start + int(r() * 731)
                oldest = max(oldest, offset)
                stamp = stamps[offset + shift]
                out.append(
                    (
                        number, customer_id, days[offset + shift], amount, name, category, quantity,
                        "customer" if r() < 0.2 else "system", stamp, DEMO_ACTOR, stamp, DEMO_ACTOR, 1,
                    )
                )  # fmt: skip
                number += 1
        return oldest

    def _contracts(self, customer_id: int, plan: Plan, since: int, out: list[Row]) -> None:
        day = self.day
        for contract in plan.contracts:
            created = contract.signed if contract.signed is not None else self.rng.randint(1, min(since, 60))
            start_year = (self.as_of - timedelta(days=contract.starts or 0)).year
            out.append(
                (
                    self._take("contracts"), customer_id,
                    f"{start_year}年{self.rng.choice(data.CONTRACT_TITLES)}",
                    None if contract.signed is None else day(contract.signed),
                    None if contract.starts is None else day(contract.starts),
                    None if contract.ends is None else day(contract.ends),
                    contract.amount, contract.status,
                    None if contract.terminated is None else day(contract.terminated),
                    self.stamp(created), DEMO_ACTOR,
                    self.stamp(contract.terminated or created), DEMO_ACTOR, 1,
                )
            )  # fmt: skip

    def _interactions(self, customer_id: int, kind: str, plan: Plan, since: int, out: list[Row]) -> None:
        rng = self.rng
        events = list(plan.interactions)
        self._interaction_debt += self.interactions_per_customer
        jitter = rng.uniform(-0.5, 0.5) * self.interactions_per_customer
        extra = max(0, round(self._interaction_debt + jitter) - len(events))
        complaints = 0 if plan.complaints_ok else 1
        horizon = max(2, min(since, 730))
        for _ in range(extra):
            what = self._pick(INTERACTION_KINDS)
            if what == "complaint":
                complaints += 1
                if complaints > 1:  # only the complainer archetypes are complaint-heavy
                    what = "after_sales"
            if what == "visit" and kind == "individual":
                what = "consultation"
            if what == "after_sales" and not plan.orders:  # nothing bought, nothing to service
                what = "consultation"
            offset = rng.randint(1, horizon)
            if plan.quiet_days and what in ("visit", "consultation") and offset < plan.quiet_days:
                offset = rng.randint(plan.quiet_days, since)
            score = None if what == "call" and rng.random() < 0.5 else self._score(what)
            events.append((offset, what, score))
        self._interaction_debt -= len(events)
        if not events:
            return
        first = self._take("interactions", len(events))
        for number, (offset, what, score) in enumerate(events):
            moment = self.moment(offset)
            resolutions = data.RESOLUTIONS.get(what)
            out.append(
                (
                    first + number, customer_id, what, rng.choice(CHANNELS[what]), moment,
                    rng.choice(data.INTERACTION_TOPICS[what]),
                    rng.choice(resolutions) if resolutions else None, score,
                    "system" if what == "call" and rng.random() < 0.5 else "customer",
                    moment, DEMO_ACTOR, moment, DEMO_ACTOR, 1,
                )
            )  # fmt: skip

    def _score(self, what: str) -> int:
        if what == "complaint":
            return self.rng.randint(1, 3)
        return self.rng.choice((3, 4, 4, 5, 5, 5))

    def _needs(self, customer_id: int, kind: str, count: int, since: int, owner: str, out: list[Row]) -> None:
        rng = self.rng
        scale = 1_000 if kind == "individual" else 50_000
        offsets = sorted((rng.randint(1, max(1, since)) for _ in range(count)), reverse=True)
        first = self._take("need_entries", count)
        for number, offset in enumerate(offsets):
            need = self._pick(CORE_NEEDS[kind])
            low = rng.randint(1, 40) * scale * YUAN
            out.append(
                (
                    first + number, customer_id, need, rng.choice(("low", "medium", "medium", "high")),
                    low, low * rng.choice((12, 15, 20)) // 10, rng.choice(NEED_TEXT[need]),
                    self.moment(offset), owner,
                )
            )  # fmt: skip

    def _events(self, customer_id: int, since: int, consumer: bool, out: list[Row]) -> None:
        rng = self.rng
        self._event_debt += self.events_per_customer * 2.85  # about 35% of customers are eligible
        count = max(0, round(self._event_debt + rng.uniform(-1.5, 1.5)))
        self._event_debt -= count
        if not count:
            return
        products = self._consumer[1] if consumer else self._business[1]
        first = self._take("engagement_events", count)
        horizon = max(2, min(since, 365))
        for number in range(count):
            name, category, _ = rng.choice(products)
            out.append(
                (
                    first + number, customer_id, self.moment(rng.randint(1, horizon)),
                    "product_view" if rng.random() < 0.8 else "category_view", name, category,
                    name in data.NEW_PRODUCTS, rng.randint(5, 600), "system",
                )
            )  # fmt: skip

    def _birth(self, low: int, high: int) -> date:
        return self.as_of - timedelta(days=self.rng.randint(low * 365, high * 365))

    def _individual(self, place: data.Place) -> tuple[tuple[Any, ...], str]:
        rng = self.rng
        male = rng.random() < 0.5
        name, pinyin = self._person_name(male)
        birth = self._birth(18, 72)
        id_number = self._id_number(place.code, birth, male) if rng.random() < 0.4 else None
        has_birth = id_number is not None or rng.random() < 0.6
        if rng.random() < 0.55:
            handle = (
                f"{rng.randrange(10**7, 10**10)}" if rng.random() < 0.3 else f"{pinyin}{rng.randint(1, 9999)}"
            )
            email: str | None = f"{handle}@{'qq.com' if handle.isdigit() else rng.choice(data.EMAIL_DOMAINS)}"
        else:
            email = None
        if place.tier == "rural":
            address = f"{place.region}{rng.choice(data.VILLAGES)}{rng.randint(1, 300)}号"
        else:
            address = (
                f"{place.region}{place.district}{rng.choice(data.STREETS)}{rng.randint(1, 999)}号"
                f"{rng.choice(data.ESTATES)}{rng.randint(1, 30)}栋{rng.randint(1, 32)}0{rng.randint(1, 4)}室"
            )
        nickname = None
        if rng.random() < 0.25:
            nickname = ("小" if rng.random() < 0.6 else "阿") + name[-1]
        occupation = self._pick(OCCUPATIONS)
        if place.tier == "rural" and rng.random() < 0.5:
            occupation = "agriculture"
        channel = self._pick(IND_CHANNELS)
        record = (
            name, channel, self._pick(IND_PURPOSES), self._mobile() if rng.random() < 0.95 else None, email,
            place.region, nickname, "male" if male else "female",
            birth.isoformat() if has_birth else None, id_number, address if rng.random() < 0.8 else None,
            occupation, None, None, None, None, None, None, None, None,
        )  # fmt: skip
        return record, channel

    def _id_number(self, area: str, birth: date, male: bool) -> str:
        while True:
            # The 17th digit is odd for men and even for women (GB 11643).
            seq = self.rng.randrange(500) * 2 + (1 if male else 0)
            number = make_id_number(area, birth, seq)
            if number not in self.taken_id_numbers:
                self.taken_id_numbers.add(number)
                return number

    def _credit_code(self, area: str, customer_id: int) -> str:
        serial = (customer_id * 7919 + 24_681_357) % 10**8  # a bijection on 8 digits: unique per id
        while True:
            code = make_credit_code(f"91{area}{_organization_code(serial)}")
            if code not in self.taken_credit_codes:
                self.taken_credit_codes.add(code)
                return code
            serial = (serial + 1) % 10**8

    def _company(self, place: data.Place, customer_id: int) -> tuple[tuple[Any, ...], str]:
        rng = self.rng
        industry = self._pick(INDUSTRY_DECK)
        trade = "".join(rng.sample(data.TRADE_CHARS, 2))
        city = place.city.removesuffix("市")
        name = f"{city}{trade}{rng.choice(data.INDUSTRY_WORDS[industry])}{rng.choice(data.COMPANY_FORMS)}"
        domain = f"{_TRADE_PINYIN[trade[0]]}{_TRADE_PINYIN[trade[1]]}{rng.randint(1, 99)}.com.cn"
        size = rng.random()
        if size < 0.5:
            employees, revenue = rng.randint(3, 49), "under_10m"
        elif size < 0.8:
            employees, revenue = rng.randint(50, 200), rng.choice(("under_10m", "10m_100m", "10m_100m"))
        else:
            employees, revenue = rng.randint(201, 3000), rng.choice(("10m_100m", "over_100m"))
        representative, _ = self._person_name(rng.random() < 0.75)
        registered = (
            f"{place.region}{'' if place.tier == 'rural' else place.district}{rng.choice(data.STREETS)}"
            f"{rng.randint(1, 999)}号{rng.choice(data.PARKS)}{rng.randint(1, 20)}号楼"
        )
        credit_code = self._credit_code(place.code, customer_id) if rng.random() < 0.97 else None
        record = (
            name, self._pick(CO_CHANNELS), self._pick(CO_PURPOSES),
            self._mobile() if rng.random() < 0.8 else None,
            f"{rng.choice(('info', 'sales', 'purchase', 'service'))}@{domain}" if rng.random() < 0.7 else None,
            place.region, None, None, None, None, None, None, credit_code, representative, registered,
            industry, employees, revenue if rng.random() < 0.7 else None,
            self._birth(1, 30).isoformat(), self._pick(CUSTOMER_TYPES),
        )  # fmt: skip
        return record, domain

    def _contacts(self, customer_id: int, domain: str, since: int, out: list[Row]) -> None:
        rng = self.rng
        count = rng.randint(1, 3) + (rng.random() < 0.2)
        first = self._take("contacts", count)
        created = self.stamp(since)
        for number in range(count):
            name, pinyin = self._person_name(rng.random() < 0.6)
            title, department = rng.choice(data.CONTACT_TITLES)
            in_post = rng.random() < 0.85
            left = None if in_post else rng.randint(1, since)
            out.append(
                (
                    first + number, customer_id, name, title, department,
                    self._mobile() if rng.random() < 0.9 else None,
                    f"{pinyin}@{domain}" if rng.random() < 0.7 else None,
                    in_post, None if left is None else self.day(left),
                    created, DEMO_ACTOR, created if left is None else self.stamp(left), DEMO_ACTOR, 1,
                )
            )  # fmt: skip


def _trade_pinyin() -> dict[str, str]:

    return {char: lazy_pinyin(char)[0] for char in data.TRADE_CHARS}


_TRADE_PINYIN = _trade_pinyin()


# --- database side ------------------------------------------------------------------------------------


def ensure_demo_users(session: Session, password: str) -> tuple[dict[str, Owner], list[str]]:
    """Create the demo departments and users that are missing; return the sales owners and who was created."""
    for department in (EAST, SOUTH):
        ensure_department(session, department)
    created = []
    for spec in DEMO_USERS:
        if session.scalar(select(User.id).where(User.username == spec.username)) is None:
            create_user(session, spec.username, password, spec.role, spec.display_name, spec.department)
            created.append(spec.username)
    for spec in DEMO_USERS:
        if spec.role == "dept_head" and spec.department:
            # Each demo department is headed by its dept_head (shown on the departments page).
            headed = ensure_department(session, spec.department)
            if headed.head_id is None:
                headed.head_id = session.scalars(select(User.id).where(User.username == spec.username)).one()
    owners = {}
    for username in SALES_USERS:
        user = session.scalars(select(User).where(User.username == username)).one()
        owners[username] = Owner(username, user.id, user.department_id)
    return owners, created


def demo_data_present(connection: Connection) -> bool:
    """True when demo customers have been loaded into this database."""
    return bool(connection.scalar(select(exists().where(Customer.__table__.c.created_by == DEMO_ACTOR))))


def _taken(connection: Connection, column: Any) -> set[str]:
    return set(connection.scalars(select(column).where(column.is_not(None))))


class SubprocessRows:
    """Runs a `DemoRows` in a child process and hands its batches over a queue.

    Generating rows is pure Python and holds the GIL, so a thread cannot overlap
    it with the inserts (measured: +10 %); a second process can (+50 %). The child
    only computes rows and never touches the database (it leaves through
    os._exit, so the parent's inherited connections are never closed by it).
    It is forked when this process runs a single thread, which is safe then and
    needs no re-import; otherwise it is spawned, which, as always with spawn,
    needs the `if __name__ == "__main__":` guard in the calling script.
    """

    def __init__(self, options: dict[str, Any], batch_size: int) -> None:
        self.options = options
        self.batch_size = batch_size
        self.first_customer_id = options["first_ids"]["customers"]
        self.row_counts: Counter[str] = Counter()
        self.archetype_counts: Counter[str] = Counter()

    def batches(self) -> Iterator[tuple[int, dict[str, list[Row]]]]:
        """Yield (customers done so far, rows per table) as the child produces them."""
        single_threaded = threading.active_count() == 1
        fork = single_threaded and "fork" in multiprocessing.get_all_start_methods()
        context: Any = multiprocessing.get_context("fork" if fork else "spawn")
        channel: Any = context.Queue(maxsize=3)
        child = context.Process(
            target=_produce,
            args=(self.options, self.batch_size, channel, os.getpid()),
            name="demo-rows",
            daemon=True,
        )
        child.start()
        try:
            while True:
                try:
                    message = channel.get(timeout=5)
                except queue.Empty:
                    if not child.is_alive():
                        raise RuntimeError(f"demo row generator exited with code {child.exitcode}") from None
                    continue
                if message[0] == "rows":
                    yield message[1], message[2]
                elif message[0] == "done":
                    self.row_counts.update(message[1])
                    self.archetype_counts.update(message[2])
                    return
                else:
                    raise RuntimeError(f"demo row generator failed: {message[1]}")
        finally:
            if child.is_alive():
                child.terminate()
            child.join()
            channel.close()


def _hand_over(channel: Any, message: tuple[Any, ...], parent: int) -> None:
    """Put a message on the queue, leaving at once if the parent is gone.

    `daemon=True` ends the child only when the parent exits normally; a parent
    killed (SIGKILL, SIGTERM, a closed terminal) would leave it blocked on a full
    queue forever, so it watches whether it has been handed to another parent.
    """
    while True:
        try:
            channel.put(message, timeout=PARENT_CHECK_SECONDS)
            return
        except queue.Full:
            if os.getppid() != parent:
                os._exit(1)


def _produce(options: dict[str, Any], batch_size: int, channel: Any, parent: int) -> None:
    try:
        producer = DemoRows(**options)
        for done, rows in producer.batches(batch_size):
            _hand_over(channel, ("rows", done, rows), parent)
        _hand_over(channel, ("done", dict(producer.row_counts), dict(producer.archetype_counts)), parent)
    except Exception as exc:  # reported to the parent, which raises it
        _hand_over(channel, ("error", f"{type(exc).__name__}: {exc}"), parent)


# How often a child blocked on a full queue checks that its parent is still there.
PARENT_CHECK_SECONDS = 0.5
# Below this many customers the child process costs more (interpreter start-up) than it saves.
SUBPROCESS_THRESHOLD = 20_000


def generate(
    engine: Engine,
    customers: int,
    seed: int,
    password: str,
    orders_per_customer: float = 10,
    interactions_per_customer: float = 2,
    as_of: date | None = None,
    progress: Callable[[int, int], None] | None = None,
    *,
    events_per_customer: float = 1,
    batch_size: int = 2000,
    child_process: bool | None = None,
) -> DemoSummary:
    """Create the demo users and `customers` demo customers with their history; deterministic per seed/as_of.

    `child_process` (default: from 20,000 customers on) generates the rows in a second process while
    this one inserts them; the data is the same either way.
    """
    if customers < 0:
        raise ValueError("customers must not be negative")
    started = time.perf_counter()
    as_of = as_of or clock.today()
    with unit_of_work(make_session_factory(engine), Actor.system(DEMO_ACTOR)) as session:
        owners, users_created = ensure_demo_users(session, password)
    summary = DemoSummary(seed=seed, as_of=as_of, customers=customers, users_created=users_created)
    load_started = time.perf_counter()
    with engine.begin() as connection:
        writer = BulkWriter(connection)
        if writer.dialect == "sqlite":
            # A larger page cache for the load only: the indexes of a million-row table stay in memory.
            connection.exec_driver_sql(f"PRAGMA cache_size = {CACHE_PRAGMA}")
        first_ids = {name: writer.next_id(table) for name, table in TABLES.items()}
        fresh = first_ids["customers"] == 1
        customer_table = TABLES["customers"]
        options: dict[str, Any] = {
            "seed": seed,
            "customers": customers,
            "as_of": as_of,
            "owners": owners,
            "first_ids": first_ids,
            "timestamp_suffix": writer.timestamp_suffix,
            "orders_per_customer": orders_per_customer,
            "interactions_per_customer": interactions_per_customer,
            "events_per_customer": events_per_customer,
            "taken_id_numbers": None if fresh else _taken(connection, customer_table.c.id_number),
            "taken_credit_codes": None if fresh else _taken(connection, customer_table.c.credit_code),
        }
        if child_process is None:
            child_process = customers >= SUBPROCESS_THRESHOLD
        source: DemoRows | SubprocessRows
        if child_process:
            source = SubprocessRows(options, batch_size)
            batches = source.batches()
        else:
            source = DemoRows(**options)
            batches = source.batches(batch_size)
        for done, rows in batches:
            for name, table_rows in rows.items():
                writer.write(TABLES[name], COLUMNS[name], table_rows)
            if progress is not None:
                progress(done, customers)
        writer.finish()
    summary.first_customer_id = source.first_customer_id
    summary.rows = {name: source.row_counts[name] for name in COLUMNS}
    summary.archetypes = {a.code: source.archetype_counts[a.code] for a in ARCHETYPES}
    summary.load_seconds = time.perf_counter() - load_started
    summary.elapsed_seconds = time.perf_counter() - started
    return summary
