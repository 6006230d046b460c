"""Per-database settings for the span of a full run (an adapter: the SQL itself stays portable).

A full run reads every order, interaction and engagement event once and, on a first run, writes
and indexes millions of assignments. The connection's defaults are sized for requests (SQLite
keeps a 2 MiB page cache; PostgreSQL sorts and hashes in 4 MiB before spilling to disk), so the
run raises them for itself and puts them back afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

SQLITE_CACHE_KIB = 512 * 1024
SQLITE_SCHEMAS = ("main", "temp")
PG_SETTINGS = {
    "work_mem": "256MB",  # the feature GROUP BYs and the signature join hash in memory
    "maintenance_work_mem": "512MB",  # index builds after a bulk write sort in memory
    # a run is recomputed from the data if the server crashes before the WAL reaches the disk,
    # so its commit need not wait for the flush (it cannot corrupt anything, only lose the run)
    "synchronous_commit": "off",
}


@contextmanager
def tuned_for_run(conn: Any) -> Iterator[None]:
    """Raise the connection's memory for sorts, hashes and pages while the block runs."""
    if conn.dialect.name == "postgresql":
        for name, value in PG_SETTINGS.items():
            # SET LOCAL ends with the transaction, which the caller owns
            conn.exec_driver_sql(f"SET LOCAL {name} = '{value}'")
        yield
        return
    if conn.dialect.name != "sqlite":
        yield
        return
    previous = {
        schema: conn.exec_driver_sql(f"PRAGMA {schema}.cache_size").scalar() for schema in SQLITE_SCHEMAS
    }
    for schema in SQLITE_SCHEMAS:
        conn.exec_driver_sql(f"PRAGMA {schema}.cache_size = -{SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        for schema, size in previous.items():
            conn.exec_driver_sql(f"PRAGMA {schema}.cache_size = {int(size)}")
