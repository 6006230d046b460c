"""The impact preview of a candidate rule set: who would enter and leave each tag, nothing written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from typing import cast as cast_type

from sqlalchemy import Table, and_, exists, false, func, not_, select, text
from sqlalchemy.orm import Session

from custinfo.classification import repository
from custinfo.classification.engine.plan import EVAL_TABLE, build_plan, evaluation_table, materialise
from custinfo.classification.engine.products import with_product_lists
from custinfo.classification.features import today
from custinfo.classification.models import TagAssignment
from custinfo.classification.schemas import TagImpactOut
from custinfo.classification.taxonomy import tag_index
from custinfo.customers.models import Customer

assignments = cast_type(Table, TagAssignment.__table__)
customers_table = cast_type(Table, Customer.__table__)
PREVIEW_SAMPLE = 10


@dataclass
class Impact:
    """The impact preview of a candidate rule set, against the customers' current tags."""

    as_of: date
    customers: int
    tags: list[TagImpactOut]

    @property
    def changed(self) -> list[TagImpactOut]:
        """Only the tags whose membership would change."""
        return [t for t in self.tags if t.entering or t.leaving]


def preview(session: Session, definition: dict[str, Any], as_of: date | None = None) -> Impact:
    """Evaluate a candidate definition for every customer without writing any assignment."""
    tags = tag_index(session)
    as_of = as_of or today(definition["parameters"])
    plan = build_plan(with_product_lists(session, definition, as_of), tags, as_of)
    conn = session.connection()
    materialise(conn, plan)
    ev = evaluation_table(plan)
    current = repository.open_counts(session, source="rule")
    new: dict[str, int] = {}
    entering: dict[str, int] = {}
    entering_sample: dict[str, list[dict[str, Any]]] = {}
    for n, slot in enumerate(plan.slots):
        r_col, t_col = ev.c[f"r_{n}"], plan.tag(ev, n)
        tag_of = {i + 1: r["tag"] for i, r in enumerate(plan.slot_rules[slot])}
        # grouped by the rule position (a plain column) and mapped to tags here: the same tag may
        # come from several positions, and PostgreSQL cannot group by an expression with parameters
        for position, count in conn.execute(
            select(r_col, func.count()).where(r_col.is_not(None)).group_by(r_col)
        ):
            new[tag_of[position]] = new.get(tag_of[position], 0) + count
        is_open = repository.holds(ev.c.customer_id, t_col)
        for position, count in conn.execute(
            select(r_col, func.count()).where(r_col.is_not(None), not_(is_open)).group_by(r_col)
        ):
            tag = tag_of[position]
            entering[tag] = entering.get(tag, 0) + count
            if tag in entering_sample:
                continue
            entering_sample[tag] = [
                {"id": cid, "name": name}
                for cid, name in conn.execute(
                    select(ev.c.customer_id, customers_table.c.name)
                    .join(customers_table, customers_table.c.id == ev.c.customer_id)
                    .where(t_col == tag, not_(is_open))
                    .order_by(ev.c.customer_id)
                    .limit(PREVIEW_SAMPLE)
                )
            ]
    tag_columns = [plan.tag(ev, n) for n in range(len(plan.slots))]
    keep = (
        exists().where(ev.c.customer_id == assignments.c.customer_id, assignments.c.tag_code.in_(tag_columns))
        if tag_columns
        else false()
    )
    leaving_filter = and_(assignments.c.valid_to.is_(None), assignments.c.source == "rule", not_(keep))
    leaving: dict[str, int] = dict(
        conn.execute(
            select(assignments.c.tag_code, func.count())
            .where(leaving_filter)
            .group_by(assignments.c.tag_code)
        ).all()
    )
    leaving_sample = {
        tag: [
            {"id": cid, "name": name}
            for cid, name in conn.execute(
                select(assignments.c.customer_id, customers_table.c.name)
                .join(customers_table, customers_table.c.id == assignments.c.customer_id)
                .where(leaving_filter, assignments.c.tag_code == tag)
                .order_by(assignments.c.customer_id)
                .limit(PREVIEW_SAMPLE)
            )
        ]
        for tag in leaving
    }
    customers = conn.scalar(select(func.count()).select_from(ev)) or 0
    conn.execute(text(f"DROP TABLE {EVAL_TABLE}"))
    rule_tags = [t for t in tags.values() if t.source == "rule"]
    impacts = [
        TagImpactOut(
            tag=t.code,
            name_zh=t.name_zh,
            name_en=t.name_en,
            current=int(current.get(t.code, 0)),
            new=int(new.get(t.code, 0)),
            entering=int(entering.get(t.code, 0)),
            leaving=int(leaving.get(t.code, 0)),
            entering_sample=entering_sample.get(t.code, []),
            leaving_sample=leaving_sample.get(t.code, []),
        )
        for t in rule_tags
    ]
    return Impact(as_of=as_of, customers=customers, tags=impacts)
