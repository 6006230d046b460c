"""Consistent copies of the database and the facts a manifest records about them (and a restore checks).

SQLite: the online backup API copies every page in one step, inside one read transaction, while the
system runs. PostgreSQL: a REPEATABLE READ transaction exports its snapshot; the row counts and the
audit head are read in it and `pg_dump -Fc --snapshot` dumps exactly that state. Restoring goes the
other way: a scratch database first (verify), and the configured database only in one transaction
(SQLite: the backup API into the live file; PostgreSQL: the dump's SQL piped into one psql transaction).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Connection, Engine, desc, inspect, select, text

from custinfo.audit import chain
from custinfo.audit.anchor import Anchor
from custinfo.audit.models import AuditEntry
from custinfo.backup.errors import BackupFailure
from custinfo.core.db import make_engine

SQLITE_PART = "database.sqlite"
POSTGRESQL_PART = "database.dump"
TOOL_TIMEOUT = 24 * 3600
COPY_BLOCK = 1 << 20


@dataclass(frozen=True)
class Facts:
    """What a database holds: the schema revision, rows per table, and the audit chain's head."""

    schema_revision: str
    tables: dict[str, int]
    audit_head: Anchor | None

    def manifest(self) -> dict[str, Any]:
        """The manifest's part of these facts."""
        return {
            "schema_revision": self.schema_revision,
            "tables": self.tables,
            "total_rows": sum(self.tables.values()),
            "audit_head": {"seq": self.audit_head.seq, "mac": self.audit_head.mac}
            if self.audit_head
            else None,
        }


def audit_head(connection: Connection) -> Anchor | None:
    """The last audit entry's sequence number and MAC, if the log has any."""
    row = connection.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(desc(AuditEntry.seq)).limit(1)
    ).first()
    return Anchor(int(row.seq), str(row.hash)) if row is not None else None


def facts(connection: Connection) -> Facts:
    """Count every table's rows and read the schema revision and the audit head, in the connection's snapshot."""
    names = sorted(inspect(connection).get_table_names())
    preparer = connection.dialect.identifier_preparer
    tables = {
        name: int(connection.execute(text(f"SELECT count(*) FROM {preparer.quote(name)}")).scalar_one())
        for name in names
    }
    revision = ""
    if "alembic_version" in names:
        revision = str(connection.execute(text("SELECT version_num FROM alembic_version")).scalar() or "")
    head = audit_head(connection) if "audit_log" in names else None
    return Facts(schema_revision=revision, tables=tables, audit_head=head)


def check(connection: Connection, expected: dict[str, Any]) -> int:
    """Check a restored database against its manifest: revision, every table's rows, the audit chain.

    Returns the number of audit entries verified; BackupFailure names the first difference.
    """
    found = facts(connection)
    if found.schema_revision != expected.get("schema_revision"):
        raise BackupFailure("backup.failure.revision", found=found.schema_revision)
    wanted: dict[str, int] = expected.get("tables") or {}
    for name in sorted(set(wanted) | set(found.tables)):
        if wanted.get(name) != found.tables.get(name):
            raise BackupFailure(
                "backup.failure.row_counts",
                table=name,
                expected=wanted.get(name, 0),
                found=found.tables.get(name, 0),
            )
    head = expected.get("audit_head")
    anchor = Anchor(int(head["seq"]), str(head["mac"])) if head else None
    result = chain.verify(connection, anchor=anchor)
    if not result.ok:
        raise BackupFailure("backup.failure.audit", seq=result.bad_seq or 0)
    return result.checked


# SQLite -------------------------------------------------------------------------------------------


def sqlite_path(engine: Engine) -> Path:
    """The file of an SQLite engine (BackupFailure for an in-memory database)."""
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupFailure("backup.failure.memory_database")
    return Path(database)


def sqlite_copy(source: Path, target: Path) -> None:
    """Copy a live SQLite database page by page in one step (one read transaction: a consistent state)."""
    with sqlite3.connect(source) as live, sqlite3.connect(target) as copy:
        live.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")
    live.close()
    copy.close()


def sqlite_integrity(path: Path) -> None:
    """SQLite's own integrity and foreign-key checks on a restored file."""
    with sqlite3.connect(path) as connection:
        result = [row[0] for row in connection.execute("PRAGMA integrity_check")]
        broken = connection.execute("PRAGMA foreign_key_check").fetchone()
    connection.close()
    if result != ["ok"]:
        raise BackupFailure("backup.failure.integrity")
    if broken is not None:
        raise BackupFailure("backup.failure.foreign_keys", table=str(broken[0]))


@contextmanager
def sqlite_engine(path: Path) -> Iterator[Engine]:
    """An engine over an SQLite file, disposed afterwards."""
    engine = make_engine(f"sqlite:///{path}")
    try:
        yield engine
    finally:
        engine.dispose()


def sqlite_replace(source: Path, target: Path) -> None:
    """Make the live database at `target` the copy at `source`, in one write transaction (backup API)."""
    with sqlite3.connect(source) as copy, sqlite3.connect(target, timeout=60) as live:
        copy.backup(live)
    copy.close()
    live.close()


# PostgreSQL ---------------------------------------------------------------------------------------


def _libpq_env(url: URL) -> dict[str, str]:
    """The libpq environment for a URL: the password travels in the environment, never in argv."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    mapping = {
        "PGHOST": url.host,
        "PGPORT": str(url.port) if url.port else None,
        "PGUSER": url.username,
        "PGPASSWORD": url.password,
        "PGDATABASE": url.database,
        "PGSSLMODE": url.query.get("sslmode") if isinstance(url.query.get("sslmode"), str) else None,
    }
    env.update({k: str(v) for k, v in mapping.items() if v})
    return env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupFailure("backup.failure.tool_missing", tool=name)
    return path


QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'|\([^)]*\)")


def tool_reason(stderr: bytes) -> str:
    """The first line a tool printed, with quoted and parenthesised parts (they may hold values) blanked."""
    first = next((ln for ln in stderr.decode(errors="replace").splitlines() if ln.strip()), "")
    return QUOTED.sub("…", first.strip())[:160]


def _run(args: list[str], env: dict[str, str], tool: str, **kwargs: Any) -> None:
    result = subprocess.run(args, env=env, capture_output=True, timeout=TOOL_TIMEOUT, check=False, **kwargs)
    if result.returncode != 0:
        raise BackupFailure("backup.failure.tool", tool=tool, reason=tool_reason(result.stderr))


def pg_dump(connection: Connection, target: Path) -> None:
    """Dump the database of `connection` as of its exported snapshot (-Fc) into `target`."""
    snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
    url = connection.engine.url
    _run(
        [_tool("pg_dump"), "-Fc", f"--snapshot={snapshot}", "-f", str(target)],
        _libpq_env(url),
        "pg_dump",
    )


@contextmanager
def postgresql_snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection in one REPEATABLE READ transaction: what it reads is what pg_dump in it dumps."""
    with (
        engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection,
        connection.begin(),
    ):
        yield connection


@contextmanager
def postgresql_scratch(engine: Engine) -> Iterator[Engine]:
    """A new, empty database on the same server, dropped afterwards (needs CREATEDB)."""
    url = engine.url
    name = f"{(url.database or 'custinfo')[:40]}_verify_{uuid.uuid4().hex[:8]}"
    server = make_engine(url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        server.dispose()
        raise BackupFailure("backup.failure.scratch", reason=type(error).__name__) from None
    scratch = make_engine(url.set(database=name).render_as_string(hide_password=False))
    try:
        yield scratch
    finally:
        scratch.dispose()
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def pg_restore_into(engine: Engine, dump: Path) -> None:
    """Restore a dump into an empty database, all or nothing."""
    _run(
        [
            _tool("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            "-d",
            str(engine.url.database),
            str(dump),
        ],
        _libpq_env(engine.url),
        "pg_restore",
    )


def pg_replace(engine: Engine, dump: Path) -> None:
    """Replace everything in the configured database's public schema by the dump, in one transaction.

    pg_restore writes the dump's SQL into a pipe that psql runs after a DROP/CREATE of the schema, all
    in one --single-transaction. Should pg_restore stop early, a failing statement is sent last, so psql
    rolls back instead of committing half a database: the database is either the dump or as it was.
    """
    env = _libpq_env(engine.url)
    with tempfile.TemporaryFile() as errors:
        consumer = subprocess.Popen(
            [
                _tool("psql"),
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "--single-transaction",
                "-c",
                "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;",
                "-f",
                "-",
                "-d",
                str(engine.url.database),
            ],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
        producer = subprocess.Popen(
            [_tool("pg_restore"), "--no-owner", "--no-privileges", "-f", "-", str(dump)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert consumer.stdin is not None and producer.stdout is not None
        try:
            while block := producer.stdout.read(COPY_BLOCK):
                consumer.stdin.write(block)
            complete = producer.wait(timeout=TOOL_TIMEOUT) == 0
            if not complete:
                consumer.stdin.write(b"\n;\nSELECT custinfo_restore_was_cut_short();\n")
            consumer.stdin.close()
        except BrokenPipeError:  # psql stopped at an error; its exit status says so
            complete = producer.wait(timeout=TOOL_TIMEOUT) == 0
        status = consumer.wait(timeout=TOOL_TIMEOUT)
        if not complete:
            raise BackupFailure("backup.failure.tool", tool="pg_restore", reason="")
        if status != 0:
            errors.seek(0)
            raise BackupFailure("backup.failure.tool", tool="psql", reason=tool_reason(errors.read()))
