"""Classification speed: the engine's full and incremental runs against a pandas script and DuckDB SQL.

Data: the demo generator (`--customers N`, 10 orders and 2 interactions per customer by default),
as of 2026-06-30. The engine runs twice: a cold run (every assignment inserted) and a steady-state
re-run (nothing changed, so only the evaluation and the diff). The two peers compute the §2.1a
tags with exact definitions — value tier, purchase frequency, purchase amount (individuals),
lifecycle (individuals) and cooperation stage (companies) — from the same rows, read from the
same database; each peer's tags are compared customer by customer with the engine's, and every
disagreement is reported. Peak memory is this process's peak RSS (the database server's memory
is not included; on PostgreSQL see its own shared_buffers/work_mem).

    .venv/bin/python bench/bench_classification.py --customers 100000 --db sqlite
    .venv/bin/python bench/bench_classification.py --customers 100000 --db postgresql

`--reuse` keeps an already generated database (brought to the newest schema first), `--cold-only`
stops after the cold run, `--skip-cold` measures only the re-run, incremental runs and peers over the
assignments of the last run, `--profile` prints every statement of the engine runs that took 0.5 s or more.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import resource
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
from sqlalchemy import event, select, text
from sqlalchemy.engine import Engine

from _common import OUT, database_url, exists, fresh, machine
from custinfo.classification import service
from custinfo.classification.models import TagAssignment
from custinfo.core.db import make_engine, make_session_factory
from custinfo.core.schema import upgrade
from custinfo.core.uow import Actor, unit_of_work
from custinfo.demo.generator import DEFAULT_DEMO_PASSWORD, generate
from custinfo.security.crypto import ensure_key_file

os.environ.setdefault("CUSTINFO_KEY_FILE", str(OUT / "keys.json"))  # the demo data encrypts L3 fields

AS_OF = date(2026, 6, 30)
DIMENSIONS = {
    "value": ("value_high", "value_potential", "value_ordinary"),
    "frequency": ("frequency_high", "frequency_medium", "frequency_low"),
    "amount": ("amount_high", "amount_medium", "amount_low"),
    "life": ("life_potential", "life_new", "life_active", "life_dormant", "life_churned"),
    "stage": ("stage_potential", "stage_intent", "stage_active", "stage_churned"),
}
ZONE = ZoneInfo("Asia/Shanghai")


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _generate(db: str, customers: int, orders: float, interactions: float, pg_server: str | None) -> None:
    engine = fresh(db, f"cls_{customers}", pg_server)
    summary = generate(
        engine, customers, 42, DEFAULT_DEMO_PASSWORD, orders_per_customer=orders,
        interactions_per_customer=interactions, as_of=AS_OF,
    )  # fmt: skip
    print(
        f"generated: {', '.join(f'{n:,} {t}' for t, n in summary.rows.items())} in {summary.elapsed_seconds:.0f} s"
    )
    engine.dispose()


# --- the engine ----------------------------------------------------------------------------------------


def profile_statements(engine: Engine, threshold: float = 0.5) -> None:
    """Print each statement that takes `threshold` seconds or more (its first line and its time)."""

    @event.listens_for(engine, "before_cursor_execute")
    def _started(conn: Any, _cursor: Any, _statement: str, _params: Any, _context: Any, _many: bool) -> None:
        conn.info["bench_started"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _done(conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool) -> None:
        took = time.perf_counter() - conn.info.pop("bench_started", time.perf_counter())
        if took >= threshold:
            print(f"    {took:6.1f} s  {' '.join(statement.split())[:150]}")


def cpu_seconds(pid: int | None = None) -> float:
    """CPU seconds (user + system) used so far by this process, or by process `pid` (a database backend)."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def engine_full(engine: Engine) -> tuple[float, float, Any]:
    """One full run in its own transaction: wall seconds, CPU seconds (this process + the PostgreSQL backend), the run.

    On a shared machine the wall time depends on the neighbours; the CPU time is what the run itself
    used (I/O waits excluded), close to its wall time on an otherwise idle machine.
    """
    started, cpu = time.perf_counter(), cpu_seconds()
    with unit_of_work(make_session_factory(engine), Actor.system("bench")) as session:
        backend = (
            session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
            if engine.dialect.name == "postgresql"
            else None
        )
        server = cpu_seconds(backend) if backend else 0.0
        run = service.run_full(session, as_of=AS_OF, trigger="cli", actor="bench")
    wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    if backend:
        cpu += cpu_seconds(backend) - server  # the backend lives on in the pool after the commit
    return wall, cpu, run


def engine_incremental(engine: Engine, customers: list[int]) -> list[float]:
    """Milliseconds per incremental run (run + commit), one transaction each."""
    factory = make_session_factory(engine)
    times = []
    for cid in customers:
        started = time.perf_counter()
        with unit_of_work(factory, Actor.system("bench")) as session:
            service.run_incremental(session, cid, trigger="cli", as_of=AS_OF, actor="bench")
        times.append((time.perf_counter() - started) * 1000)
    return times


def engine_tags(engine: Engine) -> dict[str, dict[int, str]]:
    """The engine's open tags of the compared dimensions: dimension → customer → tag."""
    wanted = {tag: dim for dim, tags in DIMENSIONS.items() for tag in tags}
    out: dict[str, dict[int, str]] = {dim: {} for dim in DIMENSIONS}
    with engine.connect() as conn:
        rows = conn.execute(
            select(TagAssignment.customer_id, TagAssignment.tag_code).where(
                TagAssignment.valid_to.is_(None), TagAssignment.tag_code.in_(list(wanted))
            )
        )
        for cid, tag in rows:
            out[wanted[tag]][cid] = tag
    return out


# --- the peers: the same rows, read the way an analyst would -------------------------------------------


def load_frames(engine: Engine) -> tuple[dict[str, pd.DataFrame], float]:
    """customers, orders, contracts, interactions as DataFrames (money in fen, dates as dates); backend CPU s."""
    with engine.connect() as conn:
        backend = (
            conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            if engine.dialect.name == "postgresql"
            else None
        )
        server = cpu_seconds(backend) if backend else 0.0
        frames = {
            "customers": pd.read_sql(text("SELECT id, kind FROM customers"), conn),
            "orders": pd.read_sql(text("SELECT customer_id, ordered_on, amount FROM orders"), conn),
            "contracts": pd.read_sql(
                text("SELECT customer_id, status, signed_on, ends_on, terminated_on FROM contracts"), conn
            ),
            "interactions": pd.read_sql(
                text("SELECT customer_id, kind, occurred_at FROM interactions"), conn
            ),
        }
        server = cpu_seconds(backend) - server if backend else 0.0
    for name, columns in (
        ("orders", ["ordered_on"]),
        ("contracts", ["signed_on", "ends_on", "terminated_on"]),
    ):
        for column in columns:
            frames[name][column] = pd.to_datetime(frames[name][column]).astype("datetime64[s]")
    stamps = pd.to_datetime(frames["interactions"]["occurred_at"], utc=True)
    frames["interactions"]["occurred_at"] = stamps.dt.tz_localize(None).astype("datetime64[us]")
    return frames, server


def _instant(day: date) -> pd.Timestamp:
    """Local midnight of `day` as naive UTC."""
    return pd.Timestamp(
        datetime.combine(day, datetime.min.time(), tzinfo=ZONE).astimezone(UTC).replace(tzinfo=None)
    )


def pandas_tags(f: dict[str, pd.DataFrame]) -> dict[str, dict[int, str]]:
    """§2.1a in pandas: group by, then vectorised selects."""
    as_of = pd.Timestamp(AS_OF)
    o = f["orders"][f["orders"]["ordered_on"] <= as_of].copy()
    o["days"] = (as_of - o["ordered_on"]).dt.days
    o["annual"] = o["amount"].where(o["days"] < 365, 0)
    o["recent"] = o["amount"].where(o["days"] < 183, 0)
    o["earlier"] = o["amount"].where((o["days"] >= 183) & (o["days"] <= 365), 0)
    o["n30"] = (o["days"] < 30).astype(int)
    o["n90"] = (o["days"] < 90).astype(int)
    agg = o.groupby("customer_id").agg(
        annual=("annual", "sum"), recent=("recent", "sum"), earlier=("earlier", "sum"),
        n30=("n30", "sum"), n90=("n90", "sum"), last=("days", "min"), first=("days", "max"),
    )  # fmt: skip
    c = f["customers"].set_index("id").join(agg)
    for column in ("annual", "recent", "earlier", "n30", "n90"):
        c[column] = c[column].fillna(0)
    growth = ((c["earlier"] == 0) & (c["recent"] > 0)) | (
        (c["earlier"] > 0) & (c["recent"] * 5 >= c["earlier"] * 6)
    )
    value = pd.Series("value_ordinary", index=c.index)
    value[(c["annual"] >= 10_000_000) & growth] = "value_potential"
    value[c["annual"] >= 50_000_000] = "value_high"
    freq = pd.Series("frequency_low", index=c.index)
    freq[(c["n30"] >= 1) | (c["n90"] >= 2)] = "frequency_medium"
    freq[c["n30"] >= 3] = "frequency_high"
    ind = c["kind"] == "individual"
    amount = pd.Series("amount_low", index=c.index)
    amount[c["annual"] >= 3_000_000] = "amount_medium"
    amount[c["annual"] >= 10_000_000] = "amount_high"
    life = pd.Series("life_potential", index=c.index)
    life[c["last"] > 180] = "life_churned"
    life[c["last"] <= 180] = "life_dormant"
    life[c["last"] <= 90] = "life_active"
    life[c["first"] <= 90] = "life_new"

    k = f["contracts"]
    running = (
        k["status"].isin(["active", "renewed"])
        & (k["ends_on"].isna() | (k["ends_on"] >= as_of))
        & (k["signed_on"].isna() | (k["signed_on"] <= as_of))
    )
    ended = pd.Series(pd.NaT, index=k.index, dtype="datetime64[s]")
    terminated = k["status"] == "terminated"
    ended[terminated] = k["terminated_on"].fillna(k["ends_on"])[terminated]
    lapsed = k["status"].isin(["active", "renewed"]) & (k["ends_on"] < as_of)
    ended[lapsed] = k["ends_on"][lapsed]
    ended = ended.where(ended <= as_of)
    kk = pd.DataFrame(
        {"customer_id": k["customer_id"], "active": running.astype(int),
         "negotiating": (k["status"] == "negotiating").astype(int), "ended": ended}
    ).groupby("customer_id").agg(active=("active", "sum"), negotiating=("negotiating", "sum"), ended=("ended", "max"))  # fmt: skip
    i = f["interactions"]
    since, end = _instant(AS_OF - timedelta(days=89)), _instant(AS_OF + timedelta(days=1))
    recent_contacts = i[
        i["kind"].isin(["visit", "consultation"]) & (i["occurred_at"] >= since) & (i["occurred_at"] < end)
    ]
    contacts = recent_contacts.groupby("customer_id").size().rename("contacts")
    c = c.join(kk).join(contacts)
    for column in ("active", "negotiating", "contacts"):
        c[column] = c[column].fillna(0)
    ended_days = (as_of - c["ended"]).dt.days
    stage = pd.Series("stage_potential", index=c.index)
    stage[(c["negotiating"] >= 1) | (c["contacts"] >= 1)] = "stage_intent"
    stage[(c["active"] == 0) & (ended_days > 90)] = "stage_churned"
    stage[c["active"] >= 1] = "stage_active"
    company = ~ind
    return {
        "value": value.to_dict(),
        "frequency": freq.to_dict(),
        "amount": amount[ind].to_dict(),
        "life": life[ind].to_dict(),
        "stage": stage[company].to_dict(),
    }


DUCK_SQL = """
WITH o AS (
  SELECT customer_id,
    sum(CASE WHEN d < 365 THEN amount ELSE 0 END) AS annual,
    sum(CASE WHEN d < 183 THEN amount ELSE 0 END) AS recent,
    sum(CASE WHEN d BETWEEN 183 AND 365 THEN amount ELSE 0 END) AS earlier,
    count(*) FILTER (WHERE d < 30) AS n30, count(*) FILTER (WHERE d < 90) AS n90,
    min(d) AS last, max(d) AS first
  FROM (SELECT customer_id, amount, date_diff('day', ordered_on, $as_of::DATE) AS d FROM orders
        WHERE ordered_on <= $as_of::DATE)
  GROUP BY customer_id),
k AS (
  SELECT customer_id,
    count(*) FILTER (WHERE status IN ('active','renewed') AND (ends_on IS NULL OR ends_on >= $as_of::DATE)
                      AND (signed_on IS NULL OR signed_on <= $as_of::DATE)) AS active,
    count(*) FILTER (WHERE status = 'negotiating') AS negotiating,
    max(CASE WHEN e <= $as_of::DATE THEN e END) AS ended
  FROM (SELECT *, CASE WHEN status = 'terminated' THEN coalesce(terminated_on, ends_on)
                       WHEN status IN ('active','renewed') AND ends_on < $as_of::DATE THEN ends_on END AS e
        FROM contracts)
  GROUP BY customer_id),
i AS (
  SELECT customer_id, count(*) AS contacts FROM interactions
  WHERE kind IN ('visit','consultation') AND occurred_at >= $since AND occurred_at < $end GROUP BY customer_id)
SELECT c.id, c.kind,
  CASE WHEN coalesce(annual,0) >= 50000000 THEN 'value_high'
       WHEN coalesce(annual,0) >= 10000000 AND ((coalesce(earlier,0) = 0 AND coalesce(recent,0) > 0)
            OR (earlier > 0 AND recent * 5 >= earlier * 6)) THEN 'value_potential'
       ELSE 'value_ordinary' END AS value,
  CASE WHEN coalesce(n30,0) >= 3 THEN 'frequency_high'
       WHEN coalesce(n30,0) >= 1 OR coalesce(n90,0) >= 2 THEN 'frequency_medium' ELSE 'frequency_low' END AS frequency,
  CASE WHEN c.kind <> 'individual' THEN NULL WHEN coalesce(annual,0) >= 10000000 THEN 'amount_high'
       WHEN coalesce(annual,0) >= 3000000 THEN 'amount_medium' ELSE 'amount_low' END AS amount,
  CASE WHEN c.kind <> 'individual' THEN NULL WHEN first <= 90 THEN 'life_new' WHEN last <= 90 THEN 'life_active'
       WHEN last <= 180 THEN 'life_dormant' WHEN last > 180 THEN 'life_churned' ELSE 'life_potential' END AS life,
  CASE WHEN c.kind <> 'company' THEN NULL WHEN coalesce(k.active,0) >= 1 THEN 'stage_active'
       WHEN coalesce(k.active,0) = 0 AND date_diff('day', k.ended, $as_of::DATE) > 90 THEN 'stage_churned'
       WHEN coalesce(k.negotiating,0) >= 1 OR coalesce(i.contacts,0) >= 1 THEN 'stage_intent'
       ELSE 'stage_potential' END AS stage
FROM customers c LEFT JOIN o ON o.customer_id = c.id LEFT JOIN k ON k.customer_id = c.id
LEFT JOIN i ON i.customer_id = c.id
"""


def duckdb_tags(f: dict[str, pd.DataFrame]) -> dict[str, dict[int, str]]:
    """§2.1a as one DuckDB SQL statement over the same frames."""
    con = duckdb.connect()
    for name, frame in f.items():
        con.register(name, frame)
    params = {
        "as_of": AS_OF.isoformat(),
        "since": _instant(AS_OF - timedelta(days=89)).to_pydatetime(),
        "end": _instant(AS_OF + timedelta(days=1)).to_pydatetime(),
    }
    result = con.execute(DUCK_SQL, params).fetchall()
    con.close()
    out: dict[str, dict[int, str]] = {dim: {} for dim in DIMENSIONS}
    for cid, _kind, *tags in result:
        for dim, tag in zip(DIMENSIONS, tags, strict=True):
            if tag is not None:
                out[dim][cid] = tag
    return out


def disagreements(name: str, ours: dict[str, dict[int, str]], theirs: dict[str, dict[int, str]]) -> int:
    """Print and count customers whose tag differs in any compared dimension."""
    total = 0
    for dim in DIMENSIONS:
        a, b = ours[dim], theirs[dim]
        differ = [cid for cid in set(a) | set(b) if a.get(cid) != b.get(cid)]
        total += len(differ)
        for cid in sorted(differ)[:5]:
            print(f"  {name} disagrees on customer {cid} ({dim}): engine {a.get(cid)}, {name} {b.get(cid)}")
    return total


def main() -> None:
    """Generate (or reuse) the data, run engine and peers, print times, ratios, memory and agreement."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--orders-per-customer", type=float, default=10)
    parser.add_argument("--interactions-per-customer", type=float, default=2)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-server", help="PostgreSQL URL to create the benchmark databases on")
    parser.add_argument("--reuse", action="store_true", help="reuse the generated database if present")
    parser.add_argument("--incremental", type=int, default=300, help="incremental runs to time")
    parser.add_argument("--cold-only", action="store_true", help="stop after the cold run")
    parser.add_argument(
        "--skip-cold",
        action="store_true",
        help="keep the last run's assignments and skip the cold run (re-run, incremental and peers only)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="print the engine's statements of 0.5 s or more"
    )
    args = parser.parse_args()

    print(f"machine: {machine()}")
    print(f"database: {args.db}; {args.customers:,} customers")
    OUT.mkdir(parents=True, exist_ok=True)
    ensure_key_file(Path(os.environ["CUSTINFO_KEY_FILE"]))
    name = f"cls_{args.customers}"
    if not (args.reuse and exists(args.db, name, args.pg_server)):
        child = multiprocessing.get_context("spawn").Process(
            target=_generate,
            args=(
                args.db,
                args.customers,
                args.orders_per_customer,
                args.interactions_per_customer,
                args.pg_server,
            ),
        )
        child.start()
        child.join()
        if child.exitcode:
            raise SystemExit("generation failed")
    engine = make_engine(database_url(args.db, name, args.pg_server))
    upgrade(engine)  # a reused database may predate the newest migration
    with engine.begin() as conn:  # a clean slate for the cold run
        empty = "TRUNCATE {}" if engine.dialect.name == "postgresql" else "DELETE FROM {}"
        if not args.skip_cold:
            conn.execute(text(empty.format("tag_assignments")))
            conn.execute(text(empty.format("classification_states")))
        counts = {
            t: conn.scalar(text(f"SELECT count(*) FROM {t}")) for t in ("customers", "orders", "interactions")
        }
    print("rows: " + ", ".join(f"{n:,} {t}" for t, n in counts.items()))
    if args.profile:
        profile_statements(engine)

    cold = cold_cpu = float("nan")
    if not args.skip_cold:
        cold, cold_cpu, run = engine_full(engine)
        print(
            f"engine full run, cold:   {cold:7.1f} s, CPU {cold_cpu:6.1f} s  ({run.added:,} assignments written)"
        )
    if args.cold_only:
        return
    warm, warm_cpu, run = engine_full(engine)
    print(
        f"engine full run, re-run: {warm:7.1f} s, CPU {warm_cpu:6.1f} s  "
        f"({run.added:,} added, {run.removed:,} closed)"
    )
    rss_engine = peak_rss_mib()
    print(f"peak RSS after the engine runs: {rss_engine:,.0f} MiB")

    with engine.connect() as conn:
        ids = [r[0] for r in conn.execute(text("SELECT id FROM customers"))]
    sample = random.Random(7).sample(ids, min(args.incremental, len(ids)))
    times = engine_incremental(engine, sample)
    p50 = statistics.median(times)
    p99 = statistics.quantiles(times, n=100)[98] if len(times) >= 100 else max(times)
    print(f"incremental run (run + commit), {len(times)} customers: p50 {p50:.1f} ms, p99 {p99:.1f} ms")

    ours = engine_tags(engine)
    started, cpu = time.perf_counter(), cpu_seconds()
    frames, server = load_frames(engine)
    load, load_cpu = time.perf_counter() - started, cpu_seconds() - cpu + server
    print(f"peers: reading the rows into pandas: {load:7.1f} s, CPU {load_cpu:6.1f} s")
    started, cpu = time.perf_counter(), cpu_seconds()
    by_pandas = pandas_tags(frames)
    t_pandas, pandas_cpu = time.perf_counter() - started, cpu_seconds() - cpu
    started, cpu = time.perf_counter(), cpu_seconds()
    by_duck = duckdb_tags(frames)
    t_duck, duck_cpu = time.perf_counter() - started, cpu_seconds() - cpu
    print(f"pandas script:  {t_pandas:7.1f} s compute, {t_pandas + load:7.1f} s with the read")
    print(f"DuckDB SQL:     {t_duck:7.1f} s compute, {t_duck + load:7.1f} s with the read")
    print(
        f"CPU with the read: pandas {pandas_cpu + load_cpu:.1f} s, duckdb {duck_cpu + load_cpu:.1f} s "
        f"(DuckDB computes on several threads: its CPU time exceeds its wall time on an idle machine)"
    )
    print(f"peak RSS after the peers: {peak_rss_mib():,.0f} MiB")
    bad_pandas = disagreements("pandas", ours, by_pandas)
    bad_duck = disagreements("duckdb", ours, by_duck)
    print(f"disagreements: pandas {bad_pandas}, duckdb {bad_duck} (customer × dimension)")
    for label, seconds, used in (("cold run", cold, cold_cpu), ("re-run", warm, warm_cpu)):
        print(
            f"ratio engine {label} / peer incl. read: pandas {seconds / (t_pandas + load):.2f}, "
            f"duckdb {seconds / (t_duck + load):.2f}; by CPU time: pandas {used / (pandas_cpu + load_cpu):.2f}, "
            f"duckdb {used / (duck_cpu + load_cpu):.2f}"
        )
    print(
        f"summary: cold {cold:.1f} s (CPU {cold_cpu:.1f} s), re-run {warm:.1f} s (CPU {warm_cpu:.1f} s), incremental p50 {p50:.1f} ms / p99 {p99:.1f} ms; "
        f"pandas {t_pandas + load:.1f} s, duckdb {t_duck + load:.1f} s (incl. read {load:.1f} s)"
    )
    engine.dispose()


if __name__ == "__main__":
    main()
