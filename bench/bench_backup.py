"""Backups: custinfo's encrypted archive (create, verify, restore) against the database's own backup tool.

Data: the demo generator (`--customers N`, 10 orders and 2 interactions per customer by default, seed
42), in `bench/out/backup_N.db` (SQLite) or the database `custinfo_bench_backup_N` (PostgreSQL, on the
server of CUSTINFO_BENCH_DATABASE_URL / CUSTINFO_TEST_DATABASE_URL); `--reuse` keeps one built
before (generation takes minutes at a million customers). The L3 columns are encrypted with the
benchmarks' key ring `bench/out/keys.json`; archives are encrypted with `bench/out/backup-key.json`.

Measured in the same run, on the same database:

- peer: SQLite — the `sqlite3` shell's `.backup` (the online backup API, an uncompressed copy), its
  `PRAGMA integrity_check` on the copy as the peer of verify, `.restore` into a new file;
  PostgreSQL — `pg_dump -Fc` (compressed custom format), `pg_restore` into a new empty database
  (the peer of both verify and restore: a test restore is what verify does too);
- custinfo: `make_archive` (snapshot, row counts, zlib, AES-GCM) — time and archive size;
  `verify_archive` (decrypt, checksums, restore into a scratch database, integrity, row counts,
  audit chain); `restore_archive` into a second database (never the source).

Each step prints wall time and CPU time (user + system of this side's processes; the PostgreSQL
server's own CPU is not included) and peak RSS. The source database is never written.

    .venv/bin/python bench/bench_backup.py --customers 1000000 --db sqlite --reuse
    .venv/bin/python bench/bench_backup.py --customers 1000000 --db postgresql --reuse
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from _common import OUT, bench_key_ring, database_url, exists, fresh, machine, server_url
from custinfo.core.db import make_engine
from custinfo.customers.models import Customer
from custinfo.demo.generator import DEFAULT_DEMO_PASSWORD, demo_data_present, generate
from custinfo.security import crypto

MIB = 1024 * 1024


@dataclass
class Step:
    """One measured step: wall seconds, CPU seconds (user + system), peak RSS in MiB."""

    wall: float
    cpu: float
    rss_mib: float


def _generate(db: str, customers: int, orders: float, interactions: float, pg_server: str | None) -> None:
    crypto.install_from(Path(os.environ["CUSTINFO_KEY_FILE"]))
    engine = fresh(db, f"backup_{customers}", pg_server)
    summary = generate(
        engine, customers, 42, DEFAULT_DEMO_PASSWORD, orders_per_customer=orders,
        interactions_per_customer=interactions,
    )  # fmt: skip
    print(
        f"generated: {', '.join(f'{n:,} {t}' for t, n in summary.rows.items())} in {summary.elapsed_seconds:.0f} s"
    )
    engine.dispose()


def prepare(args: argparse.Namespace) -> str:
    """URL of the source database: the one built before (with --reuse, if complete) or a new one."""
    name = f"backup_{args.customers}"
    if args.reuse and exists(args.db, name, args.pg_server):
        engine = make_engine(database_url(args.db, name, args.pg_server))
        with engine.connect() as conn:
            ready = demo_data_present(conn) and conn.scalar(select(func.count()).select_from(Customer))
        engine.dispose()
        if ready == args.customers:
            print(f"reusing {name}")
            return database_url(args.db, name, args.pg_server)
    # In a child process, so that the generator's memory is not this process's peak.
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
    return database_url(args.db, name, args.pg_server)


def row_counts(url: str) -> dict[str, int]:
    """Rows of the big tables (a quick check that a restored copy holds the same data)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t: conn.scalar(text(f"SELECT count(*) FROM {t}")) or 0
                for t in ("customers", "orders", "interactions", "audit_log")
            }
    finally:
        engine.dispose()


def run(command: list[str]) -> Step:
    """Run a command to its end under GNU time: wall time, CPU time (user + system) and peak RSS.

    The peak is the largest resident set of the command or any of its children (GNU time's %M); an
    rusage taken by this process itself would start from this process's own size, inherited at fork.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        started = time.perf_counter()
        done = subprocess.run(
            ["/usr/bin/time", "-f", "%M %U %S", "-o", report.name, *command],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        wall = time.perf_counter() - started
        if done.returncode:
            raise SystemExit(f"{command[0]} failed ({done.returncode}): {done.stderr.strip()}")
        kib, user, system = report.read().split()[-3:]
    return Step(wall, float(user) + float(system), int(kib) / 1024)


def libpq_url(url: str, database: str | None = None) -> str:
    """The SQLAlchemy URL as libpq (pg_dump, pg_restore) wants it."""
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def recreate_pg(name: str, pg_server: str | None) -> None:
    """An empty PostgreSQL database `name` (dropped first if there)."""
    server = make_engine(server_url(pg_server), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()


def drop_pg(name: str, pg_server: str | None) -> None:
    """Drop the PostgreSQL database `name` if it is there."""
    server = make_engine(server_url(pg_server), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()


def sqlite_path(url: str) -> Path:
    """The file of a sqlite:/// URL."""
    return Path(make_url(url).database or "")


def warm(url: str) -> None:
    """Read the source once so that neither side pays for a cold page cache (the peer runs first)."""
    if url.startswith("sqlite"):
        with sqlite_path(url).open("rb") as source:
            while source.read(16 * MIB):
                pass
        return
    engine = make_engine(url)
    with engine.connect() as conn:
        tables = conn.scalars(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).all()
        for table in tables:
            conn.execute(text(f'SELECT count(*) FROM "{table}"'))
    engine.dispose()


def peer_sqlite(url: str, work: Path) -> tuple[dict[str, Step], int, dict[str, int]]:
    """sqlite3 shell: .backup, integrity_check of the copy, .restore into a new file; steps, copy size, counts."""
    source = sqlite_path(url)
    copy, restored = work / "peer.db", work / "peer-restored.db"
    for path in (copy, restored):
        path.unlink(missing_ok=True)
    steps = {
        "create": run(["sqlite3", str(source), f".backup '{copy}'"]),
        "verify": run(["sqlite3", str(copy), "PRAGMA integrity_check"]),
        "restore": run(["sqlite3", str(restored), f".restore '{copy}'"]),
    }
    return steps, copy.stat().st_size, row_counts(f"sqlite:///{restored}")


def peer_postgresql(
    url: str, work: Path, pg_server: str | None
) -> tuple[dict[str, Step], int, dict[str, int]]:
    """pg_dump -Fc, pg_restore into a new database (verify's peer too); steps, dump size, counts."""
    dump = work / "peer.dump"
    dump.unlink(missing_ok=True)
    target = f"{make_url(url).database}_peer"
    create = run(["pg_dump", "-Fc", "-f", str(dump), "-d", libpq_url(url)])
    recreate_pg(target, pg_server)
    restore = run(["pg_restore", "--no-owner", "-d", libpq_url(url, target), str(dump)])
    counts = row_counts(make_url(url).set(database=target).render_as_string(hide_password=False))
    drop_pg(target, pg_server)
    return {"create": create, "verify": restore, "restore": restore}, dump.stat().st_size, counts


def main() -> None:
    """Build or reuse the data, run the peer and custinfo's backup, print the table and the ratios."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders-per-customer", type=float, default=10)
    parser.add_argument("--interactions-per-customer", type=float, default=2)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-server", help="PostgreSQL URL to create the benchmark databases on")
    parser.add_argument("--reuse", action="store_true", help="reuse the generated database if present")
    parser.add_argument("--generate-only", action="store_true", help="build the database and stop")
    parser.add_argument("--keep", action="store_true", help="keep the archives, dumps and restored copies")
    args = parser.parse_args()

    print(f"machine: {machine()}")
    print(f"database: {args.db}; {args.customers:,} customers x {args.orders_per_customer:g} orders")
    bench_key_ring()
    url = prepare(args)
    if args.generate_only:
        return
    counts = row_counts(url)
    print("rows: " + ", ".join(f"{n:,} {t}" for t, n in counts.items()))
    if args.db == "sqlite":
        print(f"source: {sqlite_path(url).stat().st_size / MIB:,.0f} MiB")
    work = OUT / f"backup_{args.db}_{args.customers}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    warm(url)

    if args.db == "sqlite":
        tool = "sqlite3 shell .backup / integrity_check / .restore"
        peer, peer_size, peer_counts = peer_sqlite(url, work)
    else:
        tool = "pg_dump -Fc / pg_restore"
        peer, peer_size, peer_counts = peer_postgresql(url, work, args.pg_server)
    if peer_counts != counts:
        raise SystemExit(f"the peer's restored copy differs: {peer_counts} != {counts}")
    print(f"peer ({tool}):")
    for label, step in peer.items():
        print(f"  {label:<8} {step.wall:8.1f} s  CPU {step.cpu:7.1f} s  peak RSS {step.rss_mib:7,.0f} MiB")
    print(f"  size     {peer_size / MIB:8,.1f} MiB")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
