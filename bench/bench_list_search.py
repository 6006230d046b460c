"""List and search latency of the real app against the floor of its own SQL run through the DB-API.

Builds (or reuses) a database of N demo customers, serves the real app with
uvicorn in a thread, signs in as `admin` (sees everything) and `sales_east1`
(sees only their own customers), and times R requests of each list/search
query over HTTP. The peer is the floor under the API: the SELECT statements
that one such request issued (captured from the engine), replayed with the
driver's cursor, R times.

    .venv/bin/python bench/bench_list_search.py --customers 100000 --db sqlite --requests 100
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import event
from sqlalchemy.engine import Engine

from _common import bench_key_ring, demo_database, machine, percentile, serving
from custinfo.demo.generator import DEFAULT_DEMO_PASSWORD

USERS = ("admin", "sales_east1")


@contextmanager
def captured(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """Collects the SELECT statements (with parameters) the engine runs inside the block."""
    statements: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any, _many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def time_api(
    client: httpx.Client, url: str, headers: dict[str, str], requests: int
) -> tuple[list[float], Any]:
    """Latencies of `requests` GETs (after two warm-up requests) and the last body."""
    for _ in range(2):
        client.get(url, headers=headers).raise_for_status()
    samples, body = [], None
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url, headers=headers)
        samples.append(time.perf_counter() - started)
        response.raise_for_status()
        body = response.json()
    return samples, body


def time_sql(engine: Engine, statements: list[tuple[str, Any]], requests: int) -> list[float]:
    """Latencies of replaying the captured statements through the DB-API cursor."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        samples = []
        for run in range(requests + 2):
            started = time.perf_counter()
            for statement, parameters in statements:
                cursor.execute(statement, parameters)
                cursor.fetchall()
            if run >= 2:
                samples.append(time.perf_counter() - started)
        raw.rollback()
    finally:
        raw.close()
    return samples


def main() -> None:
    """Build or reuse the database, then time every query for both users and print a table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the database even if it exists")
    parser.add_argument("--pg-server", help="PostgreSQL URL to create the benchmark databases on")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    bench_key_ring()
    engine, name = demo_database(args, "list", orders_per_customer=10)
    if args.db == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    rows = []
    with serving(engine, args.db, name) as base, httpx.Client(base_url=base, timeout=120) as client:
        tokens = {}
        for user in USERS:
            response = client.post(
                "/api/v1/auth/token", data={"username": user, "password": DEFAULT_DEMO_PASSWORD}
            )
            response.raise_for_status()
            tokens[user] = {"Authorization": f"Bearer {response.json()['access_token']}"}
        for user in USERS:
            headers = tokens[user]
            first = client.get("/api/v1/customers?page=1&size=20", headers=headers).json()
            company = next(item["name"] for item in first["items"] if item["kind"] == "company")
            mobile = next(item["mobile"] for item in first["items"] if item.get("mobile"))
            fragment = company[2:4]  # the trade name after a two-character city
            deep = max(1, first["total"] // 20 // 2)
            print(f"{user}: name part {fragment!r}, mobile {mobile[:3]}…, middle page {deep}")
            queries = {
                "page 1": "/api/v1/customers?page=1&size=20",
                "middle page": f"/api/v1/customers?page={deep}&size=20",
                "q=<name part>": f"/api/v1/customers?q={fragment}",
                "q=<mobile>": f"/api/v1/customers?q={mobile}",
                "kind=company&industry=<C>": "/api/v1/customers?kind=company&industry=制造业",
            }
            for label, url in queries.items():
                samples, body = time_api(client, url, headers, args.requests)
                with captured(engine) as statements:
                    client.get(url, headers=headers).raise_for_status()
                sql = time_sql(engine, statements, args.requests)
                rows.append(
                    (
                        label,
                        user,
                        f"{len(body['items'])}/{body['total']}{'+' if body.get('total_capped') else ''}",
                        percentile(samples, 0.5),
                        percentile(samples, 0.99),
                        percentile(sql, 0.5),
                        percentile(sql, 0.99),
                    )
                )
    engine.dispose()
    print(
        f"{args.db}, {args.customers:,} customers, {args.requests} requests per row; times in ms; C = 制造业"
    )
    header = f"{'query':28} {'user':12} {'items/total':>14} {'API p50':>8} {'API p99':>8} {'SQL p50':>8} {'SQL p99':>8} {'API/SQL':>8}"
    print(header)
    print("-" * len(header))
    for label, user, found, p50, p99, s50, s99 in rows:
        print(
            f"{label:28} {user:12} {found:>14} {p50:8.1f} {p99:8.1f} {s50:8.1f} {s99:8.1f} {p50 / s50:8.1f}"
        )


if __name__ == "__main__":
    main()
