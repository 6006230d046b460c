"""Popular and new products computed from the orders, for the rule set's engagement features.

Popular: the `popular_top_n` products ordered most often in the last `quarter_days` (unless the rule
set names its own list in `popular_products`). New: products first ordered in the last
`new_product_days` (besides engagement events the source already flagged as new). Both are lists
of the company's own products, computed once per run with two GROUP BYs over the orders, and bound
into the evaluation as literals; an incremental run reuses them for the same day while no order was
added (keyed on the highest order id: an edit of an old order's product, or an order rolled back
and its id reused, is picked up by the next day's run or the next order).
"""

from __future__ import annotations

import copy
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from custinfo.classification.categories.service import with_preference_rules
from custinfo.classification.features import orders_table

DEFAULT_TOP_N = 10
DEFAULT_NEW_DAYS = 90
_cache: dict[tuple[Any, ...], tuple[list[str], list[str]]] = {}


def product_lists(session: Session, params: dict[str, Any], as_of: date) -> tuple[list[str], list[str]]:
    """(popular products, new products) as of a day, from the orders."""
    orders = orders_table
    top_n = int(params.get("popular_top_n") or DEFAULT_TOP_N)
    new_days = int(params.get("new_product_days") or DEFAULT_NEW_DAYS)
    quarter = int(params.get("quarter_days") or 90)
    key = (as_of, top_n, new_days, quarter, session.scalar(select(func.max(orders.c.id))))
    if key in _cache:
        return _cache[key]
    orders_n = func.count().label("n")
    popular = list(
        session.scalars(
            select(orders.c.product, orders_n)
            .where(
                orders.c.product.is_not(None),
                orders.c.ordered_on > as_of - timedelta(days=quarter),
                orders.c.ordered_on <= as_of,
            )
            .group_by(orders.c.product)
            .order_by(orders_n.desc(), orders.c.product)
            .limit(top_n)
        )
    )
    first = func.min(orders.c.ordered_on)
    new = list(
        session.scalars(
            select(orders.c.product)
            .where(orders.c.product.is_not(None), orders.c.ordered_on <= as_of)
            .group_by(orders.c.product)
            .having(first > as_of - timedelta(days=new_days))
            .order_by(orders.c.product)
        )
    )
    if len(_cache) > 32:
        _cache.clear()
    _cache[key] = (popular, new)
    return popular, new


def forget() -> None:
    """Drop the cached lists (tests: a rolled-back transaction lets SQLite hand out the same order ids again)."""
    _cache.clear()


def with_product_lists(session: Session, definition: dict[str, Any], as_of: date) -> dict[str, Any]:
    """The definition with `popular_products` (unless configured) and `new_products` filled from the data,
    and the preference rules of the product categories."""
    definition = with_preference_rules(session, definition)
    params = definition.get("parameters", {})
    popular, new = product_lists(session, params, as_of)
    filled = copy.copy(definition)
    filled["parameters"] = {
        **params,
        "popular_products": list(params.get("popular_products") or []) or popular,
        "new_products": new,
    }
    return filled
