"""`custinfo demo`: initialise, load realistic demo data, print the logins, serve."""

from __future__ import annotations

import sys
from typing import Any

import typer
from rich.table import Table
from sqlalchemy import MetaData
from sqlalchemy.engine import Engine
from sqlalchemy.schema import sort_tables

from custinfo.classification.categories import service as categories
from custinfo.classification.service import run_full
from custinfo.cli import CliError, console, handles_errors, load_settings, open_database, progress_bar
from custinfo.cli.init import initialise
from custinfo.cli.serve import run_server
from custinfo.core.db import make_session_factory
from custinfo.core.uow import Actor, unit_of_work
from custinfo.demo.generator import (
    DEFAULT_DEMO_PASSWORD,
    DEMO_USERS,
    DemoSummary,
    demo_data_present,
    generate,
)
from custinfo.security.passwords import password_problems


def _head_of_department(key: Any) -> bool:
    # sort_tables passes each ForeignKey (its type stub says ForeignKeyConstraint).
    column = key.parent
    return bool(column.table.name == "departments" and column.name == "head_id")


def drop_everything(engine: Engine) -> None:
    """Drop every table of the database (all data), whatever revision it is at."""
    metadata = MetaData()
    metadata.reflect(engine)
    if engine.dialect.name != "sqlite":
        metadata.drop_all(engine)  # cycles are broken with ALTER … DROP CONSTRAINT
        return
    # SQLite cannot drop a constraint: departments.head_id → users closes the cycle users → departments,
    # so it is cleared first and left out of the order (users go before departments).
    with engine.begin() as connection:
        departments = metadata.tables.get("departments")
        if departments is not None and "head_id" in departments.c:
            connection.execute(departments.update().values(head_id=None))
        for table in reversed(sort_tables(metadata.tables.values(), skip_fn=_head_of_department)):
            table.drop(connection)


def _classify(engine: Engine) -> None:
    """Tag every demo customer, so the list, the 360 page and the report show classes at once."""
    with (
        console.status("classifying…"),
        unit_of_work(make_session_factory(engine), Actor.system("demo")) as session,
    ):
        categories.seed(session, None)  # the demo's own order categories become its product categories
        run = run_full(session, trigger="demo", actor="demo")
    console.print(f"Classified {run.customers} customers: {run.added} tags in {run.duration_ms} ms.")


def _load(
    engine: Engine, customers: int, seed: int, password: str, orders: float, interactions: float
) -> DemoSummary:
    with progress_bar("Loading demo customers", remaining=True) as bar:
        task = bar.add_task("demo", total=customers)
        return generate(
            engine,
            customers,
            seed,
            password,
            orders_per_customer=orders,
            interactions_per_customer=interactions,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )


def _print_summary(summary: DemoSummary) -> None:
    rows = ", ".join(f"{count:,} {table}" for table, count in summary.rows.items())
    console.print(
        f"Loaded {rows} in {summary.elapsed_seconds:.1f} s (seed {summary.seed}, as of {summary.as_of})."
    )


def _print_logins(host: str, port: int, password: str, created: set[str] | None, serve: bool) -> None:
    table = Table(title="Demo accounts", title_justify="left")
    for column in ("username", "role", "department", "name"):
        table.add_column(column)
    for user in DEMO_USERS:
        table.add_row(user.username, user.role, user.department or "—", user.display_name)
    console.print(table)
    if created is None:
        console.print(
            "The demo accounts were created when the demo data was loaded, with the password given then "
            f"(default {DEFAULT_DEMO_PASSWORD}).",
            markup=False,
        )
    else:
        existing = [user.username for user in DEMO_USERS if user.username not in created]
        if existing:
            console.print(
                f"Accounts that already existed keep their password: {', '.join(existing)}.", markup=False
            )
        console.print(f"Password for the demo accounts: {password}", markup=False)
    verb = "Open" if serve else "Run `custinfo serve`, then open"
    console.print(f"{verb} http://{host}:{port}/ (API: http://{host}:{port}/api/v1/docs)", markup=False)


@handles_errors
def demo(
    customers: int = typer.Option(2000, "--customers", min=0, help="How many demo customers to create."),
    seed: int = typer.Option(42, "--seed", help="Random seed: the same seed gives the same data."),
    serve: bool = typer.Option(True, "--serve/--no-serve", help="Serve the web UI after loading."),
    demo_password: str = typer.Option(
        DEFAULT_DEMO_PASSWORD, "--demo-password", help="Password of every demo account.", show_default=True
    ),
    orders_per_customer: float = typer.Option(
        10, "--orders-per-customer", min=0, help="Average orders per customer."
    ),
    interactions_per_customer: float = typer.Option(
        2, "--interactions-per-customer", min=0, help="Average interactions per customer."
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to serve on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port to serve on."),
    reset: bool = typer.Option(
        False, "--reset", help="Drop ALL data and the schema first (asks to confirm)."
    ),
    yes: bool = typer.Option(False, "--yes", help="Confirm --reset without asking."),
) -> None:
    """Initialise, load realistic demo data (users in every role, customers and their history), then serve."""
    problems = password_problems(demo_password)
    if problems:
        raise CliError("--demo-password must have at least 10 characters, with letters and digits")
    settings = load_settings()
    if reset:
        if not yes:
            if not sys.stdin.isatty():
                raise CliError("--reset deletes every table and all data; add --yes to confirm")
            typer.confirm("--reset deletes every table and all data in this database. Continue?", abort=True)
        engine = open_database(settings)
        drop_everything(engine)
        engine.dispose()
        console.print("Dropped every table.")
    result = initialise(settings, admin_password=demo_password)
    engine = result.engine
    created: set[str] | None = None
    with engine.connect() as connection:
        present = demo_data_present(connection)
    if present:
        console.print("Demo data is already loaded; nothing added (use --reset --yes to start again).")
    else:
        summary = _load(
            engine, customers, seed, demo_password, orders_per_customer, interactions_per_customer
        )
        created = set(summary.users_created)
        if result.admin_password is not None:
            created.add("admin")
        _print_summary(summary)
        _classify(engine)
    _print_logins(host, port, demo_password, created, serve)
    if serve:
        run_server(settings, engine, host, port)
    else:
        engine.dispose()
