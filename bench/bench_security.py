"""Encrypted ID-number lookup through the blind index, and key-rotation throughput, against plain-text peers.

Builds (or reuses) a database of N demo customers (ID numbers encrypted, blind
index filled by the bulk loader), then measures in the same run:

1. exact lookup of an ID number, direct: HMAC the number, SELECT by
   `id_number_bidx`, decrypt the row's ID number — against the same lookup on
   a plain-text indexed copy of the numbers (`bench_plain_ids`, built here);
2. the same lookup through the API (`GET /api/v1/customers?q=<id number>` as
   admin, real app under uvicorn) — against `?q=<mobile>` (a plain indexed
   exact match through the same API path);
3. `keys rotate` throughput: every encrypted value re-encrypted in committed
   batches — against rewriting the same rows in the same batches without
   cryptography (SELECT + UPDATE with the values read).

    .venv/bin/python bench/bench_security.py --customers 100000 --db sqlite --lookups 500
"""

from __future__ import annotations

import argparse
import random
import time

import httpx
from sqlalchemy import func, select, text, type_coerce
from sqlalchemy.engine import Engine
from sqlalchemy.types import Text

from _common import bench_key_ring, demo_database, machine, percentile, serving
from custinfo.core.db import make_session_factory
from custinfo.customers.models import Customer
from custinfo.demo.generator import DEFAULT_DEMO_PASSWORD
from custinfo.security import crypto, rotation
from custinfo.security.encrypted import blind_index


def plain_copy(engine: Engine) -> list[tuple[int, str]]:
    """(id, ID number) of every customer with one, and a plain indexed copy of them in bench_plain_ids."""
    with make_session_factory(engine)() as session:
        pairs = [(i, n) for i, n in session.execute(select(Customer.id, Customer.id_number)) if n]
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS bench_plain_ids")
        conn.exec_driver_sql("CREATE TABLE bench_plain_ids (id BIGINT PRIMARY KEY, id_number VARCHAR(18))")
        conn.execute(
            text("INSERT INTO bench_plain_ids (id, id_number) VALUES (:id, :n)"),
            [{"id": i, "n": n} for i, n in pairs],
        )
        conn.exec_driver_sql("CREATE UNIQUE INDEX ix_bench_plain_ids ON bench_plain_ids (id_number)")
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE")
    return pairs


def time_direct(engine: Engine, sample: list[tuple[int, str]]) -> tuple[list[float], list[float]]:
    """Latencies of the blind-index lookup (with decryption) and of the plain-column lookup."""
    encrypted, plain = [], []
    with make_session_factory(engine)() as session:
        for expected, number in sample:
            started = time.perf_counter()
            row = session.execute(
                select(Customer.id, Customer.id_number).where(
                    Customer.id_number_bidx == blind_index(number, "customers.id_number")
                )
            ).one()
            encrypted.append(time.perf_counter() - started)
            assert row.id == expected and row.id_number == number
            started = time.perf_counter()
            found = session.execute(
                text("SELECT id, id_number FROM bench_plain_ids WHERE id_number = :n"), {"n": number}
            ).one()
            plain.append(time.perf_counter() - started)
            assert found.id == expected
    return encrypted, plain


def time_api(client: httpx.Client, headers: dict[str, str], queries: list[tuple[int, str]]) -> list[float]:
    """Latencies of GET /customers?q=… for each (expected id, q)."""
    samples = []
    for expected, q in queries:
        started = time.perf_counter()
        response = client.get("/api/v1/customers", params={"q": q}, headers=headers)
        samples.append(time.perf_counter() - started)
        response.raise_for_status()
        assert expected in [item["id"] for item in response.json()["items"]], q
    return samples


def plain_rewrite(engine: Engine, batch_size: int) -> int:
    """Rewrite every row holding encrypted values with the values read, in committed batches (no crypto)."""
    columns = [c for cols in rotation.encrypted_tables().values() for c in cols]
    table = Customer.__table__
    raw = [type_coerce(c, Text).label(c.name) for c in columns]
    sets = ", ".join(f"{c.name} = :{c.name}" for c in columns)
    last, rows_done = 0, 0
    while True:
        with engine.begin() as conn:
            rows = conn.execute(
                select(table.c.id, *raw)
                .where(table.c.id > last)
                .where(func.coalesce(*[type_coerce(c, Text) for c in columns]).is_not(None))
                .order_by(table.c.id)
                .limit(batch_size)
            ).all()
            if not rows:
                return rows_done
            conn.execute(
                text(f"UPDATE customers SET {sets} WHERE id = :id"), [dict(row._mapping) for row in rows]
            )
            rows_done += len(rows)
            last = rows[-1].id


def main() -> None:
    """Build or reuse the database, run the three measurements, print figures and ratios."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--lookups", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the database even if it exists")
    parser.add_argument("--pg-server", help="PostgreSQL URL to create the benchmark databases on")
    args = parser.parse_args()
    print(machine())
    key_file = bench_key_ring("bench_keys.json")
    engine, name = demo_database(
        args, "security", orders_per_customer=2, interactions_per_customer=0.5, events_per_customer=0.2
    )
    if args.db == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    pairs = plain_copy(engine)
    rng = random.Random(7)
    sample = [rng.choice(pairs) for _ in range(args.lookups)]
    print(f"{len(pairs):,} customers with an ID number; {args.lookups} lookups each")

    time_direct(engine, sample[:20])  # warm-up
    encrypted, plain = time_direct(engine, sample)
    results: list[tuple[str, list[float], list[float]]] = [
        ("direct (SQL + HMAC + decrypt)", encrypted, plain)
    ]

    with make_session_factory(engine)() as session:
        mobiles = {
            i: m
            for i, m in session.execute(
                select(Customer.id, Customer.mobile).where(Customer.id.in_([i for i, _ in sample]))
            )
        }
    mobile_queries = [(i, m) for i, m in mobiles.items() if m]
    with serving(engine, args.db, name) as base, httpx.Client(base_url=base, timeout=120) as client:
        token = client.post(
            "/api/v1/auth/token", data={"username": "admin", "password": DEFAULT_DEMO_PASSWORD}
        )
        token.raise_for_status()
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        time_api(client, headers, sample[:20])
        api_encrypted = time_api(client, headers, sample)
        api_plain = time_api(client, headers, (mobile_queries * 3)[: len(sample)])
    results.append(("API GET /customers?q=", api_encrypted, api_plain))

    print(
        f"\n{'lookup':32} {'enc p50':>8} {'enc p99':>8} {'plain p50':>9} {'plain p99':>9} {'p50 ×':>6} {'p99 ×':>6}"
    )
    for label, enc, pl in results:
        e50, e99, p50, p99 = (
            percentile(enc, 0.5),
            percentile(enc, 0.99),
            percentile(pl, 0.5),
            percentile(pl, 0.99),
        )
        print(f"{label:32} {e50:8.2f} {e99:8.2f} {p50:9.2f} {p99:9.2f} {e50 / p50:6.2f} {e99 / p99:6.2f}")
    print("(ms; peer: direct = plain indexed id_number copy; API = ?q=<mobile>, plain indexed exact match)")

    rotator = crypto.KeyRing.load(key_file)
    rotator.add_key()
    rotator.save()
    started = time.perf_counter()
    report = rotation.reencrypt(engine, rotator, args.batch_size)
    rotate_seconds = time.perf_counter() - started
    started = time.perf_counter()
    rewritten = plain_rewrite(engine, args.batch_size)
    plain_seconds = time.perf_counter() - started
    rotate_rate, plain_rate = report.rows / rotate_seconds, rewritten / plain_seconds
    print(
        f"\nkey rotation: {report.rows:,} rows ({report.values:,} values) in {rotate_seconds:.1f} s = "
        f"{rotate_rate:,.0f} rows/s; plain rewrite of {rewritten:,} rows in {plain_seconds:.1f} s = "
        f"{plain_rate:,.0f} rows/s; ratio {plain_rate / rotate_rate:.2f}× slower with crypto"
    )
    engine.dispose()


if __name__ == "__main__":
    main()
