"""Tag quality page speed: the set-based quality report against a pandas script over the same rows.

Data: a copy of the classified demo database that bench_classification.py leaves in bench/out
(`cls_N.db`; generated and classified here if missing), plus a second full run one year later
so that memberships move. The pandas peer loads the assignment history and computes the same
per-tag figures (size, population, entered, left); every figure is compared tag by tag.

    .venv/bin/python bench/bench_tag_quality.py --customers 20000
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

import pandas as pd
from sqlalchemy import text

from _common import OUT, machine
from custinfo.auth.policy import Principal
from custinfo.classification import service as classification
from custinfo.classification.tag_quality import service as quality
from custinfo.core.db import make_engine, make_session_factory
from custinfo.core.uow import Actor, unit_of_work
from custinfo.security.crypto import ensure_key_file

STEWARD = Principal(0, "bench", "data_steward", None)
os.environ.setdefault("CUSTINFO_KEY_FILE", str(OUT / "keys.json"))  # the demo data encrypts L3 fields


def prepare(customers: int) -> Path:
    """A private copy of the classified demo database, with a second, later full run."""
    source = OUT / f"cls_{customers}.db"
    if not source.exists():
        raise SystemExit(
            f"{source} is missing: run bench/bench_classification.py --customers {customers} first"
        )
    target = OUT / f"govq_{customers}.db"
    for suffix in ("", "-wal", "-shm"):
        (OUT / f"govq_{customers}.db{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source, target)
    engine = make_engine(f"sqlite:///{target}")
    with unit_of_work(make_session_factory(engine), Actor.system("bench")) as session:
        if not session.scalar(text("SELECT count(*) FROM tag_assignments")):
            classification.run_full(session, as_of=date(2026, 6, 30), trigger="cli", actor="bench")
        classification.run_full(session, as_of=date(2027, 6, 30), trigger="cli", actor="bench")
    engine.dispose()
    return target


def ours(path: Path, repeat: int) -> tuple[list[float], dict[str, tuple[int, int, int, int]]]:
    engine = make_engine(f"sqlite:///{path}")
    session = make_session_factory(engine)()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        report = quality.quality_report(session, STEWARD)
        times.append(time.perf_counter() - started)
    session.close()
    engine.dispose()
    return times, {t.code: (t.size, t.population, t.entered, t.left) for t in report.tags}


def pandas_peer(path: Path, window_days: int) -> tuple[float, dict[str, tuple[int, int, int, int]]]:
    """The same figures as an analyst would compute them from the raw rows."""
    started = time.perf_counter()
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        a = pd.read_sql(
            "SELECT customer_id, tag_code, valid_from, valid_to, run_id FROM tag_assignments", conn
        )
        tags = pd.read_sql("SELECT code, dimension FROM tags", conn)
        everyone = conn.scalar(text("SELECT count(*) FROM customers")) or 0
        baseline = conn.scalar(text("SELECT min(id) FROM classification_runs WHERE mode = 'full'"))
    engine.dispose()
    today = date.today()
    start = pd.Timestamp(datetime.combine(today - timedelta(days=window_days), dtime.min, tzinfo=UTC))
    end = pd.Timestamp(datetime.combine(today + timedelta(days=1), dtime.min, tzinfo=UTC))
    a["valid_from"] = pd.to_datetime(a["valid_from"], utc=True, format="mixed")
    a["valid_to"] = pd.to_datetime(a["valid_to"], utc=True, format="mixed")
    current = a[(a.valid_from < end) & (a.valid_to.isna() | (a.valid_to > end))]
    sizes = current.groupby("tag_code").size()
    dims = current.merge(tags, left_on="tag_code", right_on="code")
    populations = dims[dims.dimension.notna()].groupby("dimension").customer_id.nunique()
    came = a[(a.valid_from >= start) & (a.valid_from < end) & (a.run_id.isna() | (a.run_id != baseline))]
    went = a[a.valid_to.notna() & (a.valid_to >= start) & (a.valid_to < end)]
    entered, left = came.groupby("tag_code").size(), went.groupby("tag_code").size()
    figures = {}
    for code, dimension in tags.itertuples(index=False):
        population = int(populations.get(dimension, 0)) if isinstance(dimension, str) else int(everyone)
        figures[code] = (
            int(sizes.get(code, 0)),
            population,
            int(entered.get(code, 0)),
            int(left.get(code, 0)),
        )
    return time.perf_counter() - started, figures


def main() -> None:
    """Prepare the data, time both, check agreement, print the ratio."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    ensure_key_file(Path(os.environ["CUSTINFO_KEY_FILE"]))
    path = prepare(args.customers)
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        rows = conn.scalar(text("SELECT count(*) FROM tag_assignments"))
    engine.dispose()
    print(
        f"database: sqlite; {args.customers:,} customers, {rows:,} tag assignments (two full runs a year apart)"
    )
    times, mine = ours(path, args.repeat)
    window = 91
    peer_seconds, theirs = pandas_peer(path, window)
    median = statistics.median(times)
    print(f"quality report (SQL):  median {median * 1000:8.0f} ms over {args.repeat} runs")
    print(f"pandas script:                {peer_seconds * 1000:8.0f} ms")
    print(f"ratio pandas / custinfo: {peer_seconds / median:.1f}×")
    wrong = [code for code in theirs if mine.get(code) != theirs[code]]
    print(f"disagreements: {len(wrong)} of {len(theirs)} tags" + (f" — {wrong[:10]}" if wrong else ""))


if __name__ == "__main__":
    main()
