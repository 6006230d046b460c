"""Features: one SQLAlchemy Core definition per feature, over the whole table or one customer.

`feature_select(params, as_of, customer_id)` is the single definition: a full
run passes no customer id, an incremental run passes one, and both get the same
SQL (the filter is pushed into every aggregate), so both give identical values.
Money is integer fen, windows are trailing days counted back from `as_of`
(day 0 = `as_of` itself), every window length comes from the rule set's
parameters. Ratio features (growth, complaint rate, …) are not columns: they
are compared exactly by cross-multiplying their numerator and denominator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from custinfo.activity.models import Contract, EngagementEvent, Interaction, Order
from custinfo.config import DEFAULT_TIMEZONE
from custinfo.customers.models import Customer, NeedEntry


@dataclass(frozen=True)
class Feature:
    """A named input of the rules: its type, its labels, and (for ratios) numerator/denominator."""

    name: str
    type: str  # money | int | days | years | str | ratio
    label_zh: str
    label_en: str
    num: str | None = None
    den: str | None = None
    offset: int = 0  # ratio value = num / den - offset
    empty_is_infinite: bool = False  # den = 0 and num > 0 meets every lower bound (growth)
    unit_zh: str = ""
    unit_en: str = ""

    @property
    def columns(self) -> tuple[str, ...]:
        """The select columns this feature is made of (itself, or numerator and denominator)."""
        if self.type == "ratio":
            assert self.num and self.den
            return (self.num, self.den)
        return (self.name,)


def _f(name: str, type_: str, zh: str, en: str, **kw: Any) -> Feature:
    return Feature(name, type_, zh, en, **kw)


FEATURES: dict[str, Feature] = {
    f.name: f
    for f in (
        _f("kind", "str", "客户类型", "kind"),
        _f("gender", "str", "性别", "gender"),
        _f("occupation", "str", "职业", "occupation"),
        _f("industry", "str", "行业", "industry"),
        _f("customer_type", "str", "企业客户类型", "customer type"),
        _f("region_tier", "str", "地域等级", "region tier"),
        _f("employee_count", "int", "员工人数", "employees", unit_zh="人"),
        _f("age_years", "years", "年龄", "age", unit_zh="岁", unit_en="years"),
        _f("company_age_years", "years", "成立年限", "company age", unit_zh="年", unit_en="years"),
        _f("annual_amount", "money", "年合作金额", "annual amount"),
        _f("amount_recent", "money", "近6个月金额", "amount in the last 6 months"),
        _f("amount_earlier", "money", "前6个月金额", "amount in the 6 months before"),
        _f(
            "growth",
            "ratio",
            "近6个月增长率",
            "6-month growth",
            num="amount_recent",
            den="amount_earlier",
            offset=1,
            empty_is_infinite=True,
        ),
        _f("orders_30d", "int", "近30天订单数", "orders in 30 days", unit_zh="笔", unit_en="orders"),
        _f("orders_90d", "int", "近90天订单数", "orders in 90 days", unit_zh="笔", unit_en="orders"),
        _f(
            "last_order_days",
            "days",
            "距上次下单天数",
            "days since the last order",
            unit_zh="天",
            unit_en="days",
        ),
        _f(
            "first_order_days",
            "days",
            "距首次下单天数",
            "days since the first order",
            unit_zh="天",
            unit_en="days",
        ),
        _f("tenure_days", "days", "合作天数", "tenure", unit_zh="天", unit_en="days"),
        _f("dominant_category", "str", "最常购买品类", "category bought most"),
        _f("active_contracts", "int", "履行中合同数", "active contracts", unit_zh="份"),
        _f("negotiating_contracts", "int", "洽谈中合同数", "contracts in negotiation", unit_zh="份"),
        _f(
            "contract_ended_days",
            "days",
            "最近合同终止/到期天数",
            "days since the last contract ended",
            unit_zh="天",
            unit_en="days",
        ),
        _f("contract_end_date", "date", "履行中合同到期日", "end date of the active contract"),
        _f("contract_amount_365d", "money", "年内签约金额", "contract amount signed in the year"),
        _f("core_need", "str", "核心需求", "core need"),
        _f("interactions_365d", "int", "年内互动次数", "interactions in the year", unit_zh="次"),
        _f("complaints_365d", "int", "年内投诉次数", "complaints in the year", unit_zh="次"),
        _f("visits_365d", "int", "年内拜访次数", "visits in the year", unit_zh="次"),
        _f("contacts_90d", "int", "近90天拜访/咨询次数", "visits and consultations in 90 days", unit_zh="次"),
        _f("online_365d", "int", "线上互动次数", "online interactions", unit_zh="次"),
        _f("offline_365d", "int", "线下互动次数", "offline interactions", unit_zh="次"),
        _f("satisfaction_sum", "int", "满意度合计", "satisfaction sum"),
        _f("satisfaction_count", "int", "满意度评分次数", "satisfaction ratings"),
        _f(
            "complaint_rate",
            "ratio",
            "投诉率",
            "complaint rate",
            num="complaints_365d",
            den="interactions_365d",
        ),
        _f(
            "satisfaction_avg",
            "ratio",
            "平均满意度",
            "average satisfaction",
            num="satisfaction_sum",
            den="satisfaction_count",
        ),
        _f(
            "online_share",
            "ratio",
            "线上互动占比",
            "share of online contacts",
            num="online_365d",
            den="interactions_365d",
        ),
        _f(
            "offline_share",
            "ratio",
            "线下互动占比",
            "share of offline contacts",
            num="offline_365d",
            den="interactions_365d",
        ),
        _f("views_90d", "int", "近90天浏览次数", "views in 90 days", unit_zh="次"),
        _f(
            "new_product_views_90d", "int", "近90天新品浏览次数", "new-product views in 90 days", unit_zh="次"
        ),
        _f(
            "popular_views_90d",
            "int",
            "近90天热门产品浏览次数",
            "popular-product views in 90 days",
            unit_zh="次",
        ),
        _f(
            "top_view_category_views",
            "int",
            "最常浏览品类次数",
            "views of the most viewed category",
            unit_zh="次",
        ),
        _f(
            "top_view_category_share",
            "ratio",
            "最常浏览品类占比",
            "share of the most viewed category",
            num="top_view_category_views",
            den="views_90d",
        ),
    )
}

COLUMN_FEATURES = tuple(name for name, f in FEATURES.items() if f.type != "ratio")


# --- portable date arithmetic ------------------------------------------------------------------------


class days_between(FunctionElement[int]):
    """Whole days from the second date to the first (NULL if either is NULL)."""

    type = Integer()
    inherit_cache = True
    name = "days_between"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element: days_between, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return (
        f"CAST(julianday({compiler.process(later, **kw)}) - julianday({compiler.process(earlier, **kw)}) "
        "AS INTEGER)"
    )


@compiles(days_between)
def _days_between_default(element: days_between, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return (
        f"(CAST({compiler.process(later, **kw)} AS DATE) - CAST({compiler.process(earlier, **kw)} AS DATE))"
    )


class yyyymmdd(FunctionElement[int]):
    """A date as the integer YYYYMMDD, so whole years are (later - earlier) / 10000."""

    type = Integer()
    inherit_cache = True
    name = "yyyymmdd"


@compiles(yyyymmdd, "sqlite")
def _yyyymmdd_sqlite(element: yyyymmdd, compiler: Any, **kw: Any) -> str:
    (arg,) = list(element.clauses)
    return f"CAST(strftime('%Y%m%d', {compiler.process(arg, **kw)}) AS INTEGER)"


@compiles(yyyymmdd)
def _yyyymmdd_default(element: yyyymmdd, compiler: Any, **kw: Any) -> str:
    (arg,) = list(element.clauses)
    return f"CAST(to_char({compiler.process(arg, **kw)}, 'YYYYMMDD') AS INTEGER)"


class suffix(FunctionElement[str]):
    """The last n characters of a text."""

    type = String()
    inherit_cache = True
    name = "suffix"


@compiles(suffix, "sqlite")
def _suffix_sqlite(element: suffix, compiler: Any, **kw: Any) -> str:
    text, n = list(element.clauses)
    return f"substr({compiler.process(text, **kw)}, -{int(n.value)})"


@compiles(suffix)
def _suffix_default(element: suffix, compiler: Any, **kw: Any) -> str:
    text, n = list(element.clauses)
    return f"right({compiler.process(text, **kw)}, {int(n.value)})"


def today(params: dict[str, Any]) -> date:
    """Today in the configured zone (the default `as_of`)."""
    return datetime.now(ZoneInfo(params.get("timezone") or DEFAULT_TIMEZONE)).date()


def _instant(day: date, params: dict[str, Any]) -> datetime:
    """Local midnight starting `day`, as UTC."""
    zone = ZoneInfo(params.get("timezone") or DEFAULT_TIMEZONE)
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def _fen(column: Any) -> Any:
    return type_coerce(column, BigInteger)


# --- the definition: one function per source table, composed by feature_select ----------------------

customers_table = Customer.__table__
orders_table = Order.__table__
contracts_table = Contract.__table__
interactions_table = Interaction.__table__
engagement_table = EngagementEvent.__table__
needs_table = NeedEntry.__table__


@dataclass(frozen=True)
class Window:
    """What every source query needs: the rule set's parameters, the day evaluated, one customer or all."""

    params: dict[str, Any]
    as_of: date
    one_customer: bool

    @property
    def as_of_date(self) -> ColumnElement[Any]:
        """`as_of` as a SQL date."""
        return literal(self.as_of, Date)

    @property
    def end(self) -> datetime:
        """Exclusive upper bound for timestamps: local midnight after `as_of`."""
        return _instant(self.as_of + timedelta(days=1), self.params)

    def day(self, back: int) -> ColumnElement[Any]:
        """The date `back` days before `as_of`, as SQL."""
        return literal(self.as_of - timedelta(days=back), Date)

    def since(self, days_parameter: str) -> datetime:
        """The first instant of a trailing window of the parameter's length ending with `as_of`."""
        return _instant(self.as_of - timedelta(days=int(self.params[days_parameter]) - 1), self.params)

    def only(self, source: Any) -> list[ColumnElement[bool]]:
        """The one-customer filter on `source` (pushed into every aggregate), or nothing for all."""
        return [source.c.customer_id == bindparam("customer_id")] if self.one_customer else []


def order_totals(w: Window) -> Any:
    """Per customer: order amounts over the annual, recent and earlier windows, counts, first and last day."""
    orders = orders_table
    p = w.params
    annual, recent, earlier_end = int(p["annual_days"]), int(p["recent_days"]), int(p["earlier_days_end"])
    short, quarter = int(p["short_days"]), int(p["quarter_days"])
    amount = _fen(orders.c.amount)
    return (
        select(
            orders.c.customer_id,
            func.sum(case((orders.c.ordered_on > w.day(annual), amount), else_=0)).label("annual"),
            func.sum(case((orders.c.ordered_on > w.day(recent), amount), else_=0)).label("recent"),
            func.sum(
                case(
                    (
                        and_(orders.c.ordered_on <= w.day(recent), orders.c.ordered_on >= w.day(earlier_end)),
                        amount,
                    ),
                    else_=0,
                )
            ).label("earlier"),
            func.count(case((orders.c.ordered_on > w.day(short), 1))).label("n_short"),
            func.count(case((orders.c.ordered_on > w.day(quarter), 1))).label("n_quarter"),
            func.max(orders.c.ordered_on).label("last_on"),
            func.min(orders.c.ordered_on).label("first_on"),
        )
        .where(orders.c.ordered_on <= w.as_of_date, *w.only(orders))
        .group_by(orders.c.customer_id)
        .subquery("o")
    )


def dominant_order_category(w: Window) -> Any:
    """Per customer: the category bought most (by orders, then amount) in the annual window.

    A second pass over orders, since rolling both up from one (customer, category) grouping
    measured slower on SQLite.
    """
    orders = orders_table
    annual = int(w.params["annual_days"])
    per_category = (
        select(
            orders.c.customer_id,
            orders.c.category,
            func.row_number()
            .over(
                partition_by=orders.c.customer_id,
                order_by=(func.count().desc(), func.sum(_fen(orders.c.amount)).desc(), orders.c.category),
            )
            .label("rn"),
        )
        .where(
            orders.c.ordered_on <= w.as_of_date,
            orders.c.ordered_on > w.day(annual),
            orders.c.category.is_not(None),
            *w.only(orders),
        )
        .group_by(orders.c.customer_id, orders.c.category)
        .subquery("pc")
    )
    return (
        select(per_category.c.customer_id, per_category.c.category)
        .where(per_category.c.rn == 1)
        .subquery("dc")
    )


def contract_summary(w: Window) -> Any:
    """Per customer: running and negotiating contracts, when the last one ended, amounts signed this year."""
    contracts = contracts_table
    as_of = w.as_of_date
    running = and_(
        contracts.c.status.in_(("active", "renewed")),
        or_(contracts.c.ends_on.is_(None), contracts.c.ends_on >= as_of),
        or_(contracts.c.signed_on.is_(None), contracts.c.signed_on <= as_of),
    )
    ended_on = case(
        (contracts.c.status == "terminated", func.coalesce(contracts.c.terminated_on, contracts.c.ends_on)),
        (
            and_(contracts.c.status.in_(("active", "renewed")), contracts.c.ends_on < as_of),
            contracts.c.ends_on,
        ),
    )
    signed_this_year = and_(
        contracts.c.signed_on > w.day(int(w.params["annual_days"])), contracts.c.signed_on <= as_of
    )
    return (
        select(
            contracts.c.customer_id,
            func.count(case((running, 1))).label("active"),
            func.count(case((contracts.c.status == "negotiating", 1))).label("negotiating"),
            func.max(case((ended_on <= as_of, ended_on))).label("ended_on"),
            func.max(case((running, contracts.c.ends_on))).label("active_end"),
            func.sum(case((signed_this_year, _fen(contracts.c.amount)), else_=0)).label("signed_amount"),
            func.min(case((contracts.c.signed_on <= as_of, contracts.c.signed_on))).label("first_signed"),
        )
        .where(*w.only(contracts))
        .group_by(contracts.c.customer_id)
        .subquery("k")
    )


def interaction_counts(w: Window) -> Any:
    """Per customer: interactions of the year by kind and channel, recent contacts, satisfaction sums."""
    interactions = interactions_table
    online = [str(x) for x in w.params["online_channels"]]
    offline = [str(x) for x in w.params["offline_channels"]]
    recent_contact = and_(
        interactions.c.kind.in_(("visit", "consultation")),
        interactions.c.occurred_at >= w.since("contact_days"),
    )
    return (
        select(
            interactions.c.customer_id,
            func.count().label("n"),
            func.count(case((interactions.c.kind == "complaint", 1))).label("complaints"),
            func.count(case((interactions.c.kind == "visit", 1))).label("visits"),
            func.count(case((recent_contact, 1))).label("contacts"),
            func.count(case((interactions.c.channel.in_(online), 1))).label("online"),
            func.count(case((interactions.c.channel.in_(offline), 1))).label("offline"),
            func.coalesce(func.sum(interactions.c.satisfaction), 0).label("sat_sum"),
            func.count(interactions.c.satisfaction).label("sat_n"),
        )
        .where(
            interactions.c.occurred_at >= w.since("interaction_days"),
            interactions.c.occurred_at < w.end,
            *w.only(interactions),
        )
        .group_by(interactions.c.customer_id)
        .subquery("i")
    )


def _in_view_window(w: Window) -> list[ColumnElement[bool]]:
    events = engagement_table
    return [events.c.occurred_at >= w.since("engagement_days"), events.c.occurred_at < w.end, *w.only(events)]


def engagement_counts(w: Window) -> Any:
    """Per customer: product views in the engagement window, of new and of popular products."""
    events = engagement_table
    popular = [str(x) for x in w.params["popular_products"]] or [""]
    new_products = [str(x) for x in w.params.get("new_products") or []]
    is_new: ColumnElement[bool] = events.c.is_new_product.is_(True)
    if new_products:  # products first ordered lately (engine.products), besides those the source flagged
        is_new = or_(is_new, events.c.product.in_(new_products))
    return (
        select(
            events.c.customer_id,
            func.count().label("n"),
            func.count(case((is_new, 1))).label("new"),
            func.count(case((events.c.product.in_(popular), 1))).label("popular"),
        )
        .where(*_in_view_window(w))
        .group_by(events.c.customer_id)
        .subquery("e")
    )


def top_viewed_category(w: Window) -> Any:
    """Per customer: the views of the category viewed most in the engagement window."""
    events = engagement_table
    by_category = (
        select(events.c.customer_id, func.count().label("n"))
        .where(events.c.category.is_not(None), *_in_view_window(w))
        .group_by(events.c.customer_id, events.c.category)
        .subquery("ec")
    )
    return (
        select(by_category.c.customer_id, func.max(by_category.c.n).label("n"))
        .group_by(by_category.c.customer_id)
        .subquery("tc")
    )


def latest_need(w: Window) -> Any:
    """Per customer: the core need of the newest needs-log entry up to `as_of`."""
    needs = needs_table
    ranked = (
        select(
            needs.c.customer_id,
            needs.c.core_need,
            func.row_number()
            .over(partition_by=needs.c.customer_id, order_by=(needs.c.recorded_at.desc(), needs.c.id.desc()))
            .label("rn"),
        )
        .where(needs.c.recorded_at < w.end, *w.only(needs))
        .subquery("rnd")
    )
    return select(ranked.c.customer_id, ranked.c.core_need).where(ranked.c.rn == 1).subquery("nd")


def customer_columns(w: Window) -> dict[str, ColumnElement[Any]]:
    """The features read from the customer row itself (kind, industry, region tier, ages…)."""
    customers = customers_table
    as_of_int = w.as_of.year * 10000 + w.as_of.month * 100 + w.as_of.day
    return {
        "kind": customers.c.kind,
        "gender": customers.c.gender,
        "occupation": customers.c.occupation,
        "industry": customers.c.industry,
        "customer_type": customers.c.customer_type,
        "region_tier": _region_tier(customers.c.region, w.params.get("region_tiers") or {}),
        "employee_count": customers.c.employee_count,
        # birth_date/id_number are encrypted at rest; the clear birth year gives the age reached this year
        "age_years": w.as_of.year - customers.c.birth_year,
        "company_age_years": (as_of_int - yyyymmdd(customers.c.founded_on)) // 10000,
    }


def feature_select(params: dict[str, Any], as_of: date, one_customer: bool = False) -> Select[Any]:
    """SELECT customer_id and every column feature, for all customers or (one_customer) `:customer_id` only."""
    w = Window(params, as_of, one_customer)
    customers = customers_table
    orders, dominant, contracts = order_totals(w), dominant_order_category(w), contract_summary(w)
    interactions, views, top_category = interaction_counts(w), engagement_counts(w), top_viewed_category(w)
    need = latest_need(w)

    annual_amount: ColumnElement[Any] = func.coalesce(orders.c.annual, 0)
    if params.get("include_contract_amounts"):
        annual_amount = annual_amount + case(
            (customers.c.kind == "company", func.coalesce(contracts.c.signed_amount, 0)), else_=0
        )
    first_seen = case(
        (contracts.c.first_signed.is_(None), orders.c.first_on),
        (orders.c.first_on.is_(None), contracts.c.first_signed),
        (orders.c.first_on < contracts.c.first_signed, orders.c.first_on),
        else_=contracts.c.first_signed,
    )
    as_of_date = w.as_of_date
    columns: dict[str, ColumnElement[Any]] = {
        **customer_columns(w),
        "annual_amount": annual_amount,
        "amount_recent": func.coalesce(orders.c.recent, 0),
        "amount_earlier": func.coalesce(orders.c.earlier, 0),
        "orders_30d": func.coalesce(orders.c.n_short, 0),
        "orders_90d": func.coalesce(orders.c.n_quarter, 0),
        "last_order_days": days_between(as_of_date, orders.c.last_on),
        "first_order_days": days_between(as_of_date, orders.c.first_on),
        "tenure_days": days_between(as_of_date, first_seen),
        "dominant_category": dominant.c.category,
        "active_contracts": func.coalesce(contracts.c.active, 0),
        "negotiating_contracts": func.coalesce(contracts.c.negotiating, 0),
        "contract_ended_days": case(
            (func.coalesce(contracts.c.active, 0) == 0, days_between(as_of_date, contracts.c.ended_on))
        ),
        "contract_end_date": cast(contracts.c.active_end, String),
        "contract_amount_365d": func.coalesce(contracts.c.signed_amount, 0),
        "core_need": need.c.core_need,
        "interactions_365d": func.coalesce(interactions.c.n, 0),
        "complaints_365d": func.coalesce(interactions.c.complaints, 0),
        "visits_365d": func.coalesce(interactions.c.visits, 0),
        "contacts_90d": func.coalesce(interactions.c.contacts, 0),
        "online_365d": func.coalesce(interactions.c.online, 0),
        "offline_365d": func.coalesce(interactions.c.offline, 0),
        "satisfaction_sum": func.coalesce(interactions.c.sat_sum, 0),
        "satisfaction_count": func.coalesce(interactions.c.sat_n, 0),
        "views_90d": func.coalesce(views.c.n, 0),
        "new_product_views_90d": func.coalesce(views.c.new, 0),
        "popular_views_90d": func.coalesce(views.c.popular, 0),
        "top_view_category_views": func.coalesce(top_category.c.n, 0),
    }
    assert set(columns) == set(COLUMN_FEATURES)
    stmt = (
        select(customers.c.id.label("customer_id"), *(expr.label(name) for name, expr in columns.items()))
        .select_from(customers)
        .outerjoin(orders, orders.c.customer_id == customers.c.id)
        .outerjoin(dominant, dominant.c.customer_id == customers.c.id)
        .outerjoin(contracts, contracts.c.customer_id == customers.c.id)
        .outerjoin(interactions, interactions.c.customer_id == customers.c.id)
        .outerjoin(views, views.c.customer_id == customers.c.id)
        .outerjoin(top_category, top_category.c.customer_id == customers.c.id)
        .outerjoin(need, need.c.customer_id == customers.c.id)
    )
    if one_customer:
        stmt = stmt.where(customers.c.id == bindparam("customer_id"))
    return stmt


def _ends_with_any(region: Any, names: list[str]) -> ColumnElement[bool]:
    """region ends with one of names: one IN per name length (hash lookups, not one LIKE per name)."""
    by_length: dict[int, list[str]] = {}
    for name in names:
        by_length.setdefault(len(name), []).append(name)
    return or_(*(suffix(region, n).in_(group) for n, group in sorted(by_length.items())))


def _region_tier(region: Any, tiers: dict[str, Any]) -> ColumnElement[Any]:
    """tier1/2/3 by the city the region ends with; rural by a county-level suffix; else NULL."""
    whens: list[tuple[ColumnElement[bool], str]] = []
    suffixes = [str(s) for s in tiers.get("rural_suffixes", [])]
    if suffixes:
        whens.append((_ends_with_any(region, suffixes), "rural"))
    for tier in ("tier1", "tier2", "tier3"):
        cities = [str(x) for x in tiers.get(tier, [])]
        if cities:
            whens.append((_ends_with_any(region, cities), tier))
    if not whens:
        return literal(None, String)
    return case(*whens)


def ratio_value(feature: Feature, values: dict[str, Any]) -> Decimal | str | None:
    """The value of a ratio feature from its parts ("inf" when the denominator is empty and growth counts)."""
    assert feature.num and feature.den
    num, den = values.get(feature.num), values.get(feature.den)
    if num is None or den is None:
        return None
    if int(den) == 0:
        return "inf" if feature.empty_is_infinite and int(num) > 0 else None
    return Decimal(int(num)) / Decimal(int(den)) - feature.offset
