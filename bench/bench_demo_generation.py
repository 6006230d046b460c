"""Demo generation speed: `generate()` against the floor of a plain DB-API insert of the same rows.

The floor: the very rows `generate()` writes are produced first (not timed) and
inserted into an identical fresh schema with the driver's own `executemany`
(sqlite3 / psycopg 3), in one transaction; only the inserts and the commit are
timed. Both figures count customers + orders per second.

    .venv/bin/python bench/bench_demo_generation.py --customers 100000 --orders-per-customer 10 --db sqlite
"""

from __future__ import annotations

import argparse
import time
from datetime import date

from sqlalchemy.engine import Engine

from _common import fresh, machine
from custinfo.core.db import make_session_factory
from custinfo.core.uow import Actor, unit_of_work
from custinfo.demo.generator import (
    CACHE_PRAGMA,
    COLUMNS,
    DEFAULT_DEMO_PASSWORD,
    DemoRows,
    ensure_demo_users,
    generate,
)

AS_OF = date(2026, 6, 30)


def floor(engine: Engine, args: argparse.Namespace) -> tuple[float, dict[str, int]]:
    """Seconds spent in executemany + commit for the same rows, and the row counts."""
    with unit_of_work(make_session_factory(engine), Actor.system("bench")) as session:
        owners, _ = ensure_demo_users(session, DEFAULT_DEMO_PASSWORD)
    producer = DemoRows(
        seed=args.seed,
        customers=args.customers,
        as_of=AS_OF,
        owners=owners,
        first_ids=dict.fromkeys(COLUMNS, 1),
        timestamp_suffix="" if args.db == "sqlite" else "+00",
        orders_per_customer=args.orders_per_customer,
        interactions_per_customer=args.interactions_per_customer,
    )
    marker = "?" if args.db == "sqlite" else "%s"
    statements = {
        table: f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join([marker] * len(cols))})"
        for table, cols in COLUMNS.items()
    }
    raw = engine.raw_connection()
    spent = 0.0
    try:
        cursor = raw.cursor()
        if args.db == "sqlite":
            cursor.execute(f"PRAGMA cache_size = {CACHE_PRAGMA}")  # the page cache generate() uses too
            # The engine hands out sqlite3 connections in autocommit mode (SQLAlchemy emits BEGIN
            # itself), so the floor opens its one transaction explicitly.
            cursor.execute("BEGIN")
        for _, rows in producer.batches(2000):
            for table, table_rows in rows.items():
                if table_rows:
                    started = time.perf_counter()
                    cursor.executemany(statements[table], table_rows)
                    spent += time.perf_counter() - started
        started = time.perf_counter()
        raw.commit()
        spent += time.perf_counter() - started
    finally:
        raw.close()
    return spent, dict(producer.row_counts)


def main() -> None:
    """Run both loads and print the rates and their ratio."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--orders-per-customer", type=float, default=10)
    parser.add_argument("--interactions-per-customer", type=float, default=2)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--pg-server", help="PostgreSQL URL to create the benchmark databases on")
    parser.add_argument("--only", choices=("generate", "floor"), help="run one of the two loads")
    args = parser.parse_args()

    print(f"machine: {machine()}")
    print(f"database: {args.db}; {args.customers:,} customers x {args.orders_per_customer:g} orders")

    gen_rate = None
    if args.only != "floor":
        engine = fresh(args.db, f"gen_{args.customers}", args.pg_server)
        summary = generate(
            engine,
            args.customers,
            args.seed,
            DEFAULT_DEMO_PASSWORD,
            orders_per_customer=args.orders_per_customer,
            interactions_per_customer=args.interactions_per_customer,
            as_of=AS_OF,
        )
        engine.dispose()
        rows = summary.rows
        gen_rate = (args.customers + rows["orders"]) / summary.load_seconds
        print(f"rows written: {sum(rows.values()):,} ({', '.join(f'{n:,} {t}' for t, n in rows.items())})")
        print(
            f"generate():         {summary.load_seconds:8.1f} s  {gen_rate:>10,.0f} customers+orders/s"
            f"  ({sum(rows.values()) / summary.load_seconds:,.0f} rows/s;"
            f" {summary.elapsed_seconds:.1f} s with the 10 users)"
        )
    if args.only == "generate":
        return
    engine = fresh(args.db, f"floor_{args.customers}", args.pg_server)
    spent, rows = floor(engine, args)
    engine.dispose()
    floor_rate = (args.customers + rows["orders"]) / spent
    print(
        f"DB-API executemany: {spent:8.1f} s  {floor_rate:>10,.0f} customers+orders/s"
        f"  ({sum(rows.values()) / spent:,.0f} rows/s, inserts only; row generation not timed)"
    )
    if gen_rate is not None:
        print(f"ratio generate()/floor: {gen_rate / floor_rate:.2f}")


if __name__ == "__main__":
    main()
