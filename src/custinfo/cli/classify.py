"""`custinfo classify`: a full run (the cron entry for the daily run), one customer, or an explanation."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.table import Table

from custinfo.auth.policy import Principal
from custinfo.classification import service
from custinfo.cli import console, fail, handles_errors, load_settings, open_database
from custinfo.core.db import make_session_factory
from custinfo.core.uow import Actor, unit_of_work

SYSTEM = Principal(user_id=0, username="cli", role="admin", department_id=None)


@handles_errors
def classify(
    customer: Annotated[int | None, typer.Option("--customer", help="Re-classify only this customer")] = None,
    explain: Annotated[int | None, typer.Option("--explain", help="Show a customer's tags and why")] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Evaluate as of YYYY-MM-DD (default today)")
    ] = None,
) -> None:
    """Run classification (full, or --customer ID) and report what changed; --explain ID shows the reasons."""
    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        fail(f"--as-of must be a date YYYY-MM-DD, not {as_of!r}")
    engine = open_database(load_settings())
    with unit_of_work(make_session_factory(engine), Actor.system("cli")) as session:
        if explain is not None:
            table = Table("标签 tag", "原因 why", "数据截至 figures as of", "自 since")
            for view in service.customer_tags(session, SYSTEM, explain, day):
                why = "\n".join(
                    [view.explanation, *(f"  {e.as_of or '—'}: {e.explanation}" for e in view.history)]
                )
                table.add_row(
                    f"{view.name_zh} ({view.tag})",
                    why,
                    str(view.evaluated_as_of or "—"),
                    view.valid_from.date().isoformat(),
                )
            console.print(table)
            return
        with console.status("classifying…"):
            if customer is not None:
                run = service.run_incremental(session, customer, trigger="cli", as_of=day, actor="cli")
            else:
                run = service.run_full(session, as_of=day, trigger="cli", actor="cli")
        console.print(
            f"run {run.id} ({run.mode}, as of {run.as_of}): {run.customers} customers, "
            f"{run.added} tags added, {run.removed} removed, {run.moved} customers moved, {run.duration_ms} ms"
        )
        before, after = run.counts_before or {}, run.counts_after or {}
        table = Table("tag", "before", "after", "Δ")
        for tag in sorted(set(before) | set(after)):
            b, a = int(before.get(tag, 0)), int(after.get(tag, 0))
            if a != b or customer is not None:
                table.add_row(tag, str(b), str(a), f"{a - b:+d}")
        console.print(table)
