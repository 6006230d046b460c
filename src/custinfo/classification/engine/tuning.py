"""PostgreSQL settings for the span of a full run (an adapter: the SQL itself stays portable).

A full run hashes a million customers' feature aggregates and, on a first run, writes and indexes
millions of assignments. PostgreSQL's defaults are sized for requests (4 MiB to sort or hash
before spilling to disk), so the run raises them for its own transaction.

SQLite gets nothing: a 512 MiB page cache for the run was measured (docs/performance.md) to raise
the peak memory of a million-customer run from 0.24 to 1.47 GB without a measurable gain.
"""

from __future__ import annotations

from typing import Any

PG_SETTINGS = {
    "work_mem": "256MB",  # the feature GROUP BYs and the signature join hash in memory
    "maintenance_work_mem": "512MB",  # index builds after a bulk write sort in memory
    # a run is recomputed from the data if the server crashes before the WAL reaches the disk,
    # so its commit need not wait for the flush (it cannot corrupt anything, only lose the run)
    "synchronous_commit": "off",
}


def tune_for_run(conn: Any) -> None:
    """On PostgreSQL, raise sort/hash memory and skip the commit's WAL flush until the transaction ends."""
    if conn.dialect.name != "postgresql":
        return
    for name, value in PG_SETTINGS.items():
        # SET LOCAL ends with the transaction, which the caller owns
        conn.exec_driver_sql(f"SET LOCAL {name} = '{value}'")
