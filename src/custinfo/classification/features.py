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
from custinfo.customers.models import Customer, NeedEntry

DEFAULT_ZONE = "Asia/Shanghai"


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
    return datetime.now(ZoneInfo(params.get("timezone") or DEFAULT_ZONE)).date()


def _instant(day: date, params: dict[str, Any]) -> datetime:
    """Local midnight starting `day`, as UTC."""
    zone = ZoneInfo(params.get("timezone") or DEFAULT_ZONE)
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def _fen(column: Any) -> Any:
    return type_coerce(column, BigInteger)


# --- the definition ----------------------------------------------------------------------------------


def feature_select(params: dict[str, Any], as_of: date, one_customer: bool = False) -> Select[Any]:
    """SELECT customer_id and every column feature, for all customers or (one_customer) `:customer_id` only."""
    p = params
    o, c, k, i, e, n = (
        Order.__table__,
        Customer.__table__,
        Contract.__table__,
        Interaction.__table__,
        EngagementEvent.__table__,
        NeedEntry.__table__,
    )

    def day(back: int) -> ColumnElement[Any]:
        return literal(as_of - timedelta(days=back), Date)

    def only(table: Any) -> list[ColumnElement[bool]]:
        return [table.c.customer_id == bindparam("customer_id")] if one_customer else []

    as_of_lit = literal(as_of, Date)
    end = _instant(as_of + timedelta(days=1), p)  # exclusive upper bound for timestamps
    annual, recent, earlier_end = int(p["annual_days"]), int(p["recent_days"]), int(p["earlier_days_end"])
    short, quarter = int(p["short_days"]), int(p["quarter_days"])

    amount = _fen(o.c.amount)
    orders = (
        select(
            o.c.customer_id,
            func.sum(case((o.c.ordered_on > day(annual), amount), else_=0)).label("annual"),
            func.sum(case((o.c.ordered_on > day(recent), amount), else_=0)).label("recent"),
            func.sum(
                case(
                    (and_(o.c.ordered_on <= day(recent), o.c.ordered_on >= day(earlier_end)), amount), else_=0
                )
            ).label("earlier"),
            func.count(case((o.c.ordered_on > day(short), 1))).label("n_short"),
            func.count(case((o.c.ordered_on > day(quarter), 1))).label("n_quarter"),
            func.max(o.c.ordered_on).label("last_on"),
            func.min(o.c.ordered_on).label("first_on"),
        )
        .where(o.c.ordered_on <= as_of_lit, *only(o))
        .group_by(o.c.customer_id)
        .subquery("o")
    )
    # The category bought most (by orders, then amount) in the annual window; a second pass, since
    # rolling both up from one (customer, category) grouping measured slower on SQLite.
    per_category = (
        select(
            o.c.customer_id,
            o.c.category,
            func.row_number()
            .over(
                partition_by=o.c.customer_id,
                order_by=(func.count().desc(), func.sum(amount).desc(), o.c.category),
            )
            .label("rn"),
        )
        .where(o.c.ordered_on <= as_of_lit, o.c.ordered_on > day(annual), o.c.category.is_not(None), *only(o))
        .group_by(o.c.customer_id, o.c.category)
        .subquery("pc")
    )
    dominant = (
        select(per_category.c.customer_id, per_category.c.category)
        .where(per_category.c.rn == 1)
        .subquery("dc")
    )

    signed = [
        or_(k.c.signed_on.is_(None), k.c.signed_on <= as_of_lit),
    ]
    running = and_(
        k.c.status.in_(("active", "renewed")),
        or_(k.c.ends_on.is_(None), k.c.ends_on >= as_of_lit),
        *signed,
    )
    ended_on = case(
        (k.c.status == "terminated", func.coalesce(k.c.terminated_on, k.c.ends_on)),
        (and_(k.c.status.in_(("active", "renewed")), k.c.ends_on < as_of_lit), k.c.ends_on),
    )
    contracts = (
        select(
            k.c.customer_id,
            func.count(case((running, 1))).label("active"),
            func.count(case((k.c.status == "negotiating", 1))).label("negotiating"),
            func.max(case((ended_on <= as_of_lit, ended_on))).label("ended_on"),
            func.max(case((running, k.c.ends_on))).label("active_end"),
            func.sum(
                case(
                    (and_(k.c.signed_on > day(annual), k.c.signed_on <= as_of_lit), _fen(k.c.amount)),
                    else_=0,
                )
            ).label("signed_amount"),
            func.min(case((k.c.signed_on <= as_of_lit, k.c.signed_on))).label("first_signed"),
        )
        .where(*only(k))
        .group_by(k.c.customer_id)
        .subquery("k")
    )

    since_year = _instant(as_of - timedelta(days=int(p["interaction_days"]) - 1), p)
    since_contact = _instant(as_of - timedelta(days=int(p["contact_days"]) - 1), p)
    online = [str(x) for x in p["online_channels"]]
    offline = [str(x) for x in p["offline_channels"]]
    interactions = (
        select(
            i.c.customer_id,
            func.count().label("n"),
            func.count(case((i.c.kind == "complaint", 1))).label("complaints"),
            func.count(case((i.c.kind == "visit", 1))).label("visits"),
            func.count(
                case((and_(i.c.kind.in_(("visit", "consultation")), i.c.occurred_at >= since_contact), 1))
            ).label("contacts"),
            func.count(case((i.c.channel.in_(online), 1))).label("online"),
            func.count(case((i.c.channel.in_(offline), 1))).label("offline"),
            func.coalesce(func.sum(i.c.satisfaction), 0).label("sat_sum"),
            func.count(i.c.satisfaction).label("sat_n"),
        )
        .where(i.c.occurred_at >= since_year, i.c.occurred_at < end, *only(i))
        .group_by(i.c.customer_id)
        .subquery("i")
    )

    since_views = _instant(as_of - timedelta(days=int(p["engagement_days"]) - 1), p)
    popular = [str(x) for x in p["popular_products"]] or [""]
    in_window = [e.c.occurred_at >= since_views, e.c.occurred_at < end, *only(e)]
    views = (
        select(
            e.c.customer_id,
            func.count().label("n"),
            func.count(case((e.c.is_new_product.is_(True), 1))).label("new"),
            func.count(case((e.c.product.in_(popular), 1))).label("popular"),
        )
        .where(*in_window)
        .group_by(e.c.customer_id)
        .subquery("e")
    )
    by_category = (
        select(e.c.customer_id, func.count().label("n"))
        .where(e.c.category.is_not(None), *in_window)
        .group_by(e.c.customer_id, e.c.category)
        .subquery("ec")
    )
    top_category = (
        select(by_category.c.customer_id, func.max(by_category.c.n).label("n"))
        .group_by(by_category.c.customer_id)
        .subquery("tc")
    )

    ranked_needs = (
        select(
            n.c.customer_id,
            n.c.core_need,
            func.row_number()
            .over(partition_by=n.c.customer_id, order_by=(n.c.recorded_at.desc(), n.c.id.desc()))
            .label("rn"),
        )
        .where(n.c.recorded_at < end, *only(n))
        .subquery("rnd")
    )
    need = (
        select(ranked_needs.c.customer_id, ranked_needs.c.core_need)
        .where(ranked_needs.c.rn == 1)
        .subquery("nd")
    )

    as_of_int = as_of.year * 10000 + as_of.month * 100 + as_of.day
    # birth_date/id_number are encrypted at rest; the clear birth year gives the age reached this year
    age = as_of.year - c.c.birth_year
    company_age = (as_of_int - yyyymmdd(c.c.founded_on)) // 10000

    annual_amount: ColumnElement[Any] = func.coalesce(orders.c.annual, 0)
    if p.get("include_contract_amounts"):
        annual_amount = annual_amount + case(
            (c.c.kind == "company", func.coalesce(contracts.c.signed_amount, 0)), else_=0
        )

    first_seen = case(
        (contracts.c.first_signed.is_(None), orders.c.first_on),
        (orders.c.first_on.is_(None), contracts.c.first_signed),
        (orders.c.first_on < contracts.c.first_signed, orders.c.first_on),
        else_=contracts.c.first_signed,
    )

    columns: dict[str, ColumnElement[Any]] = {
        "kind": c.c.kind,
        "gender": c.c.gender,
        "occupation": c.c.occupation,
        "industry": c.c.industry,
        "customer_type": c.c.customer_type,
        "region_tier": _region_tier(c.c.region, p.get("region_tiers") or {}),
        "employee_count": c.c.employee_count,
        "age_years": age,
        "company_age_years": company_age,
        "annual_amount": annual_amount,
        "amount_recent": func.coalesce(orders.c.recent, 0),
        "amount_earlier": func.coalesce(orders.c.earlier, 0),
        "orders_30d": func.coalesce(orders.c.n_short, 0),
        "orders_90d": func.coalesce(orders.c.n_quarter, 0),
        "last_order_days": days_between(as_of_lit, orders.c.last_on),
        "first_order_days": days_between(as_of_lit, orders.c.first_on),
        "tenure_days": days_between(as_of_lit, first_seen),
        "dominant_category": dominant.c.category,
        "active_contracts": func.coalesce(contracts.c.active, 0),
        "negotiating_contracts": func.coalesce(contracts.c.negotiating, 0),
        "contract_ended_days": case(
            (func.coalesce(contracts.c.active, 0) == 0, days_between(as_of_lit, contracts.c.ended_on))
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
        select(c.c.id.label("customer_id"), *(expr.label(name) for name, expr in columns.items()))
        .select_from(c)
        .outerjoin(orders, orders.c.customer_id == c.c.id)
        .outerjoin(dominant, dominant.c.customer_id == c.c.id)
        .outerjoin(contracts, contracts.c.customer_id == c.c.id)
        .outerjoin(interactions, interactions.c.customer_id == c.c.id)
        .outerjoin(views, views.c.customer_id == c.c.id)
        .outerjoin(top_category, top_category.c.customer_id == c.c.id)
        .outerjoin(need, need.c.customer_id == c.c.id)
    )
    if one_customer:
        stmt = stmt.where(c.c.id == bindparam("customer_id"))
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
