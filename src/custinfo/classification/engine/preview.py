"""The impact preview of a candidate rule set: who would enter and leave each tag, nothing written.

The candidate and the active rule set are evaluated side by side over the same data in one
statement (one snapshot, one `as_of`), so the preview shows only what the change itself does:
customers whose data moved since the last run (drift) are in both columns alike and cancel out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from typing import cast as cast_type

from sqlalchemy import Table, column, false, func, or_, select, table, text, true
from sqlalchemy.orm import Session

from custinfo.classification import repository
from custinfo.classification.engine.plan import Plan, build_plan
from custinfo.classification.engine.products import with_product_lists
from custinfo.classification.engine.sql import CreateTempTableAs
from custinfo.classification.features import today
from custinfo.classification.schemas import TagImpactOut
from custinfo.classification.taxonomy import tag_index
from custinfo.customers.models import Customer

customers_table = cast_type(Table, Customer.__table__)
PREVIEW_SAMPLE = 10
PREVIEW_TABLE = "ci_preview"


@dataclass
class Impact:
    """The impact preview of a candidate rule set, against the active rule set on the same data."""

    as_of: date
    customers: int
    tags: list[TagImpactOut]

    @property
    def changed(self) -> list[TagImpactOut]:
        """Only the tags whose membership would change."""
        return [t for t in self.tags if t.entering or t.leaving]


def _positions(plan: Plan) -> dict[str, dict[str, list[int]]]:
    """Slot → tag → the 1-based rule positions in that slot that give the tag."""
    out: dict[str, dict[str, list[int]]] = {}
    for slot in plan.slots:
        for i, rule in enumerate(plan.slot_rules[slot]):
            out.setdefault(slot, {}).setdefault(rule["tag"], []).append(i + 1)
    return out


def _holds(col: Any, positions: list[int]) -> Any:
    return col.in_(positions) if positions else false()


def _lacks(col: Any, positions: list[int]) -> Any:
    return or_(col.is_(None), col.not_in(positions)) if positions else true()


def preview(session: Session, definition: dict[str, Any], as_of: date | None = None) -> Impact:
    """Evaluate a candidate and the active definition for every customer at once, writing nothing."""
    tags = tag_index(session)
    as_of = as_of or today(definition["parameters"])
    new_plan = build_plan(with_product_lists(session, definition, as_of), tags, as_of)
    active = repository.active_version(session).definition
    old_plan = build_plan(with_product_lists(session, active, as_of), tags, as_of)
    new_base, old_base = new_plan.base.subquery("nb"), old_plan.base.subquery("ob")
    both = select(
        new_base.c.customer_id,
        *(new_base.c[f"r_{n}"].label(f"n_{n}") for n in range(len(new_plan.slots))),
        *(old_base.c[f"r_{n}"].label(f"o_{n}") for n in range(len(old_plan.slots))),
    ).join(old_base, old_base.c.customer_id == new_base.c.customer_id)
    conn = session.connection()
    conn.execute(text(f"DROP TABLE IF EXISTS {PREVIEW_TABLE}"))
    conn.execute(CreateTempTableAs(PREVIEW_TABLE, both))  # one statement: one snapshot of the data
    ev = table(
        PREVIEW_TABLE,
        column("customer_id"),
        *(column(f"n_{n}") for n in range(len(new_plan.slots))),
        *(column(f"o_{n}") for n in range(len(old_plan.slots))),
    )
    new_at, old_at = _positions(new_plan), _positions(old_plan)
    counts: dict[str, dict[str, int]] = {k: {} for k in ("current", "new", "entering", "leaving")}
    samples: dict[str, dict[str, list[dict[str, Any]]]] = {"entering": {}, "leaving": {}}

    def sample(where: Any) -> list[dict[str, Any]]:
        rows = conn.execute(
            select(ev.c.customer_id, customers_table.c.name)
            .join(customers_table, customers_table.c.id == ev.c.customer_id)
            .where(where)
            .order_by(ev.c.customer_id)
            .limit(PREVIEW_SAMPLE)
        )
        return [{"id": cid, "name": name} for cid, name in rows]

    for slot in dict.fromkeys([*new_plan.slots, *old_plan.slots]):
        n_col = ev.c[f"n_{new_plan.slots.index(slot)}"] if slot in new_plan.slots else None
        o_col = ev.c[f"o_{old_plan.slots.index(slot)}"] if slot in old_plan.slots else None
        group = [c for c in (n_col, o_col) if c is not None]
        # grouped by the rule positions (plain columns) and mapped to tags here: PostgreSQL cannot
        # group by an expression with parameters, and one tag may come from several positions
        for row in conn.execute(select(*group, func.count()).group_by(*group)):
            values = dict(zip([c.name for c in group], row[:-1], strict=True))
            amount = int(row[-1])
            new_tag = _tag_at(new_plan, slot, values.get(n_col.name) if n_col is not None else None)
            old_tag = _tag_at(old_plan, slot, values.get(o_col.name) if o_col is not None else None)
            if new_tag:
                counts["new"][new_tag] = counts["new"].get(new_tag, 0) + amount
            if old_tag:
                counts["current"][old_tag] = counts["current"].get(old_tag, 0) + amount
            if new_tag != old_tag:
                if new_tag:
                    counts["entering"][new_tag] = counts["entering"].get(new_tag, 0) + amount
                if old_tag:
                    counts["leaving"][old_tag] = counts["leaving"].get(old_tag, 0) + amount
        for kind, mine, mine_at, other, other_at in (
            ("entering", n_col, new_at, o_col, old_at),
            ("leaving", o_col, old_at, n_col, new_at),
        ):
            if mine is None:
                continue
            for tag, positions in mine_at.get(slot, {}).items():
                if counts[kind].get(tag) and tag not in samples[kind]:
                    where = _holds(mine, positions)
                    if other is not None:
                        where = where & _lacks(other, other_at.get(slot, {}).get(tag, []))
                    samples[kind][tag] = sample(where)
    customers = conn.scalar(select(func.count()).select_from(ev)) or 0
    conn.execute(text(f"DROP TABLE {PREVIEW_TABLE}"))
    impacts = [
        TagImpactOut(
            tag=t.code,
            name_zh=t.name_zh,
            name_en=t.name_en,
            current=counts["current"].get(t.code, 0),
            new=counts["new"].get(t.code, 0),
            entering=counts["entering"].get(t.code, 0),
            leaving=counts["leaving"].get(t.code, 0),
            entering_sample=samples["entering"].get(t.code, []),
            leaving_sample=samples["leaving"].get(t.code, []),
        )
        for t in tags.values()
        if t.source == "rule"
    ]
    return Impact(as_of=as_of, customers=customers, tags=impacts)


def _tag_at(plan: Plan, slot: str, position: Any) -> str | None:
    """The tag a slot's rule position gives (None for no match)."""
    if position is None:
        return None
    tag: str = plan.slot_rules[slot][int(position) - 1]["tag"]
    return tag
