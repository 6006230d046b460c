"""Backups: custinfo's encrypted archive (create, verify, restore) against the database's own backup tool.

Data: the demo generator (`--customers N`, 10 orders and 2 interactions per customer by default, seed
42), in `bench/out/backup_N.db` (SQLite) or the database `custinfo_bench_backup_N` (PostgreSQL, on the
server of CUSTINFO_BENCH_DATABASE_URL / CUSTINFO_TEST_DATABASE_URL); `--reuse` keeps one built
before (generation takes minutes at a million customers). The audit log is topped up to
`--audit-entries` sealed entries (a backup counts them, its verification re-computes every MAC). The
L3 columns are encrypted with the benchmarks' key ring `bench/out/keys.json`; archives with
`bench/out/backup-key.json`.

Measured in the same run, on the same database (the peer first, after one read of the source):

- peer: SQLite — the `sqlite3` shell's `.backup` (the online backup API, an uncompressed copy), its
  `PRAGMA integrity_check` on the copy as the peer of verify, `.restore` into a new file;
  PostgreSQL — `pg_dump -Fc` (compressed custom format), `pg_restore` into a new empty database
  (the peer of both verify and restore: a test restore is what verify does too);
- custinfo: `make_archive` (snapshot, row counts, zlib, AES-GCM) — time and archive size;
  `verify_archive` (decrypt, checksums, restore into a scratch database, integrity, row counts,
  audit chain); `restore_archive` (which verifies first, then replaces) into a second, empty
  database — never the source.

Each step prints wall time, CPU time (user + system of its processes; the PostgreSQL server's own
CPU is not included) and peak RSS (GNU time), and for custinfo where the time went.

    .venv/bin/python bench/bench_backup.py --customers 1000000 --db sqlite --reuse
    .venv/bin/python bench/bench_backup.py --customers 1000000 --db postgresql --reuse
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.engine import make_url

from _common import OUT, bench_key_ring, database_url, exists, fresh, machine, server_url
from custinfo import bootstrap
from custinfo.audit import anchor as audit_anchor
from custinfo.audit import chain
from custinfo.audit.models import AuditChainHead, AuditEntry
from custinfo.backup import archive, snapshot
from custinfo.backup import service as backup
from custinfo.config import Settings
from custinfo.core.db import make_engine
from custinfo.customers.models import Customer
from custinfo.demo.generator import DEFAULT_DEMO_PASSWORD, demo_data_present, generate
from custinfo.security import crypto

MIB = 1024 * 1024


@dataclass
class Step:
    """One measured step: wall seconds, CPU seconds (user + system), peak RSS in MiB, load afterwards."""

    wall: float
    cpu: float
    rss_mib: float
    # The 1-minute load average when the step ended: on a shared machine, wall time well above CPU time
    # with a load over the CPU count means the step waited for the CPU.
    load: float = field(default_factory=lambda: os.getloadavg()[0])


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


def audit_top_up(url: str, entries: int) -> int:
    """Append audit entries (sensitive reads) until the log holds `entries`; returns the log's length.

    The demo generator writes next to no audit entries, while a year of use writes millions; a backup
    counts them and its verification re-computes every MAC. Each entry is sealed by the chain's own
    code (`storable_fields`, `entry_mac`); only the insert is batched (one `chain.append` per entry
    runs at ~130 entries/s on this machine).
    """
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            head = conn.execute(select(AuditChainHead.seq, AuditChainHead.hash)).first()
            customers = conn.scalar(select(func.max(Customer.id))) or 1
        seq, mac = (int(head.seq), str(head.hash)) if head else (0, chain.GENESIS)
        draw = random.Random(seq)
        while seq < entries:
            rows = []
            for _ in range(min(10_000, entries - seq)):
                seq += 1
                customer = draw.randint(1, customers)
                fields = chain.storable_fields(
                    seq,
                    actor="sales_east1",
                    role="sales",
                    action="sensitive_read",
                    target_type="customer",
                    target_id=customer,
                    customer_id=customer,
                    details={"fields": ["mobile", "email"], "level": "L2", "purpose": "view"},
                    address="10.0.8.21",
                )
                rows.append({**fields, "prev_hash": mac, "hash": (mac := chain.entry_mac(fields, mac))})
            with engine.begin() as conn:
                conn.execute(insert(AuditEntry), rows)
                if head is None:
                    conn.execute(insert(AuditChainHead).values(id=chain.HEAD_ID, seq=seq, hash=mac))
                    head = True
                else:
                    conn.execute(update(AuditChainHead).values(seq=seq, hash=mac))
        return seq
    finally:
        engine.dispose()


def row_counts(url: str) -> dict[str, int]:
    """Rows of the big tables (a quick check that a restored copy holds the same data)."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t: conn.scalar(text(f"SELECT count(*) FROM {t}")) or 0
                for t in ("customers", "contacts", "orders", "interactions")
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


def work_dir(args: argparse.Namespace) -> Path:
    """Where this run's archives, dumps and restored copies go (removed at the end unless --keep)."""
    return OUT / f"backup_{args.db}_{args.customers}"


def settings_for(args: argparse.Namespace, url: str) -> Settings:
    """Settings naming `url` as the database, the run's archive directory and the bench keys."""
    work = work_dir(args)
    return Settings(
        database_url=url,
        data_dir=work,
        backup_dir=work / "archives",
        backup_key_file=OUT / "backup-key.json",
        key_file=Path(os.environ["CUSTINFO_KEY_FILE"]),
        audit_anchor_file=work / "audit-anchor.jsonl",
    )


def restore_target(args: argparse.Namespace) -> str:
    """URL of the second database custinfo restores into (the source is never restored over)."""
    if args.db == "sqlite":
        return f"sqlite:///{work_dir(args) / 'restored.db'}"
    source = database_url(args.db, f"backup_{args.customers}", args.pg_server)
    return make_url(source).set(database=f"{make_url(source).database}_restored").render_as_string(False)


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and of its waited-for children (pg_dump, pg_restore)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


# The core's parts whose time the breakdown shows (called through their modules, so a wrapper sees them).
TIMED = (
    (snapshot, "sqlite_copy"),
    (snapshot, "pg_dump"),
    (snapshot, "facts"),
    (archive, "extract"),
    (snapshot, "sqlite_integrity"),
    (snapshot, "pg_restore_into"),
    (snapshot, "check"),
    (chain, "verify"),
    (snapshot, "sqlite_replace"),
    (snapshot, "pg_replace"),
)


def time_parts(spent: dict[str, float]) -> None:
    """Wrap the core's parts in TIMED so that each call adds its seconds to `spent` (nested calls overlap)."""
    for module, name in TIMED:
        original = getattr(module, name)

        def timed(*args: Any, _original: Any = original, _name: str = name, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return _original(*args, **kwargs)
            finally:
                spent[_name] = spent.get(_name, 0.0) + time.perf_counter() - started

        setattr(module, name, timed)


def custinfo_step(args: argparse.Namespace) -> None:
    """Child process: one custinfo step (create, verify or restore); writes its figures as JSON to --result."""
    crypto.install_from(Path(os.environ["CUSTINFO_KEY_FILE"]))
    bootstrap.wire()  # as the CLI does: the restore's own audit entry is written
    source = database_url(args.db, f"backup_{args.customers}", args.pg_server)
    url = restore_target(args) if args.step == "restore" else source
    engine = make_engine(url)
    settings = settings_for(args, url)
    audit_anchor.configure(settings)  # a restore appends its anchor record there (as the CLI does)
    notes: list[tuple[str, float]] = []
    spent: dict[str, float] = {}
    time_parts(spent)

    def progress(note: str) -> None:
        notes.append((note, time.perf_counter()))

    started, cpu = time.perf_counter(), cpu_seconds()
    result: dict[str, Any] = {}
    if args.step == "create":
        made = backup.make_archive(engine, settings, "daily", progress=progress)
        result = {"path": str(made.path), "size": made.size_bytes}
    elif args.step == "verify":
        backup.verify_archive(engine, settings, Path(args.archive), progress=progress)
    else:
        backup.restore_archive(engine, settings, Path(args.archive), "bench", progress=progress)
    ended = time.perf_counter()
    result |= {
        "wall": ended - started,
        "cpu": cpu_seconds() - cpu,
        # Each progress note's phase: from the note to the next one (or to the end).
        "phases": [
            (note, (notes[k + 1][1] if k + 1 < len(notes) else ended) - at)
            for k, (note, at) in enumerate(notes)
        ],
        "parts": spent,
    }
    engine.dispose()
    Path(args.result).write_text(json.dumps(result))


def run_custinfo(args: argparse.Namespace, step: str, archive: str = "") -> tuple[Step, dict[str, Any]]:
    """One custinfo step in a child process under GNU time; its figures (wall and CPU measured inside it).

    Wall and CPU time are the child's own (Python start-up and imports excluded); the peak RSS is GNU
    time's, the child's or its children's (pg_dump, pg_restore).
    """
    result = work_dir(args) / f"{step}.json"
    command = [sys.executable, str(Path(__file__).resolve()), "--step", step, "--result", str(result)]
    command += ["--db", args.db, "--customers", str(args.customers), "--archive", archive]
    if args.pg_server:
        command += ["--pg-server", args.pg_server]
    outer = run(command)
    figures: dict[str, Any] = json.loads(result.read_text())
    return Step(figures["wall"], figures["cpu"], outer.rss_mib), figures


def report(tool: str, peer: dict[str, Step], peer_size: int, ours: dict[str, Step], size: int) -> None:
    """The table of both sides and the ratios custinfo / peer."""
    print(f"{'':<26}{'custinfo':>12}{'peer':>12}{'ratio':>8}    peer = {tool}")
    for label in ("create", "verify", "restore"):
        for kind, ours_value, peer_value in (
            ("time s", ours[label].wall, peer[label].wall),
            ("CPU s", ours[label].cpu, peer[label].cpu),
        ):
            ratio = ours_value / peer_value if peer_value else float("nan")
            print(f"{label + ' ' + kind:<26}{ours_value:>12.1f}{peer_value:>12.1f}{ratio:>8.2f}")
    print(f"{'archive size MiB':<26}{size / MIB:>12,.1f}{peer_size / MIB:>12,.1f}{size / peer_size:>8.2f}")
    for label, steps in (("create+verify", ("create", "verify")), ("restore", ("restore",))):
        mine = max(ours[s].rss_mib for s in steps)
        theirs = max(peer[s].rss_mib for s in steps)
        print(f"{'peak RSS ' + label + ' MiB':<26}{mine:>12,.0f}{theirs:>12,.0f}{mine / theirs:>8.2f}")


def print_breakdown(step: str, figures: dict[str, Any]) -> None:
    """Where a custinfo step's time went: its progress phases, then the core's timed parts."""
    phases = ", ".join(f"{note.removeprefix('backup.note.')} {sec:.1f} s" for note, sec in figures["phases"])
    parts = ", ".join(f"{name} {sec:.1f} s" for name, sec in figures["parts"].items())
    print(f"    {step:<8} phases: {phases}")
    print(f"    {'':<8} parts:  {parts}")


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
    parser.add_argument(
        "--audit-entries", type=int, default=100_000, help="audit log length to top the source up to"
    )
    parser.add_argument("--reuse", action="store_true", help="reuse the generated database if present")
    parser.add_argument("--generate-only", action="store_true", help="build the database and stop")
    parser.add_argument("--keep", action="store_true", help="keep the archives, dumps and restored copies")
    parser.add_argument("--peer-only", action="store_true", help="measure the peer only")
    # A custinfo step run in a child process by this script itself.
    parser.add_argument("--step", choices=("create", "verify", "restore"), help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    parser.add_argument("--archive", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        custinfo_step(args)
        return

    print(f"machine: {machine()}")
    print(f"database: {args.db}; {args.customers:,} customers x {args.orders_per_customer:g} orders")
    print(f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    bench_key_ring()
    url = prepare(args)
    if args.generate_only:
        return
    entries = audit_top_up(url, args.audit_entries)
    counts = row_counts(url)
    print(f"audit log: {entries:,} entries")
    print("rows: " + ", ".join(f"{n:,} {t}" for t, n in counts.items()))
    if args.db == "sqlite":
        print(f"source: {sqlite_path(url).stat().st_size / MIB:,.0f} MiB")
    work = work_dir(args)
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
        print(
            f"  {label:<8} {step.wall:8.1f} s  CPU {step.cpu:7.1f} s  peak RSS {step.rss_mib:7,.0f} MiB"
            f"  load {step.load:.1f}"
        )
    print(f"  size     {peer_size / MIB:8,.1f} MiB")

    if not args.peer_only:
        target = restore_target(args)
        if args.db == "postgresql":
            recreate_pg(make_url(target).database or "", args.pg_server)
        ours: dict[str, Step] = {}
        ours["create"], made = run_custinfo(args, "create")
        ours["verify"], verified = run_custinfo(args, "verify", made["path"])
        ours["restore"], restored = run_custinfo(args, "restore", made["path"])
        restored_counts = row_counts(target)
        if restored_counts != counts:
            raise SystemExit(f"custinfo's restored copy differs: {restored_counts} != {counts}")
        print("custinfo (make_archive / verify_archive / restore_archive into a second database):")
        for label, step in ours.items():
            print(
                f"  {label:<8} {step.wall:8.1f} s  CPU {step.cpu:7.1f} s  peak RSS {step.rss_mib:7,.0f} MiB"
                f"  load {step.load:.1f}"
            )
        print(f"  size     {made['size'] / MIB:8,.1f} MiB")
        print("  where the time went (check includes facts and the audit chain verify):")
        for step_name, figures in (("create", made), ("verify", verified), ("restore", restored)):
            print_breakdown(step_name, figures)
        report(tool, peer, peer_size, ours, made["size"])
        if args.db == "postgresql" and not args.keep:
            drop_pg(make_url(target).database or "", args.pg_server)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
