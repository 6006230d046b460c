"""At rest: after a demo load no ID number is in the database bytes; key rotation online and resumable."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import make_url, select, text
from sqlalchemy.engine import Engine
from tests.factories import DEFAULT_PASSWORD

from custinfo.core.db import make_session_factory
from custinfo.customers.models import Customer
from custinfo.demo.generator import generate
from custinfo.security import crypto, rotation
from custinfo.security.crypto import KeyRing

AS_OF = date(2026, 6, 30)


def _plain_values(engine: Engine) -> tuple[list[str], list[str]]:
    """The demo's ID numbers, and the YYYYMMDD birth dates embedded in them, read through the ORM."""
    with make_session_factory(engine)() as session:
        numbers = [n for n in session.scalars(select(Customer.id_number)) if n]
    return numbers, [n[6:14] for n in numbers]


def _database_bytes(engine: Engine, tmp_path: Path) -> bytes:
    if engine.dialect.name == "sqlite":
        # Outside any transaction: a checkpoint cannot run inside one.
        raw = engine.raw_connection()
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
        engine.dispose()
        database = Path(str(engine.url.database))
        files = [database, Path(f"{database}-wal"), Path(f"{database}-journal")]
        return b"".join(f.read_bytes() for f in files if f.exists())
    if shutil.which("pg_dump") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("pg_dump is required in CI")
        pytest.skip("pg_dump is not installed")
    url = make_url(engine.url.render_as_string(hide_password=False)).set(drivername="postgresql")
    dump = subprocess.run(
        ["pg_dump", "--no-owner", url.render_as_string(hide_password=False)],
        capture_output=True,
        check=True,
        timeout=300,
    )
    return dump.stdout


def test_demo_database_holds_no_clear_id_number(own_engine: Engine, tmp_path: Path) -> None:
    generate(own_engine, 300, seed=11, password=DEFAULT_PASSWORD, as_of=AS_OF, child_process=False)
    numbers, births = _plain_values(own_engine)
    assert len(numbers) > 50
    with own_engine.connect() as conn:
        stored = conn.execute(
            text("SELECT id_number, id_number_bidx FROM customers WHERE id_number IS NOT NULL")
        )
        assert all(row.id_number_bidx for row in stored)
    blob = _database_bytes(own_engine, tmp_path)
    assert len(blob) > 10_000
    leaked = [n for n in numbers if n.encode() in blob]
    assert leaked == []
    leaked_births = [b for b in births if b.encode() in blob]
    assert leaked_births == []


def test_rotation_under_concurrent_reads_and_resume(own_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "ring.json"
    crypto.ensure_key_file(path)
    app_ring = KeyRing.load(path)  # what the running application holds
    with crypto.using(app_ring):
        generate(own_engine, 400, seed=5, password=DEFAULT_PASSWORD, as_of=AS_OF, child_process=False)
        factory = make_session_factory(own_engine)
        columns = (
            Customer.id,
            Customer.id_number,
            Customer.birth_date,
            Customer.address,
            Customer.registered_address,
        )
        with factory() as session:
            before = session.execute(select(*columns).order_by(Customer.id)).all()
        stop = threading.Event()
        errors: list[BaseException] = []
        reads = 0

        def reader() -> None:
            nonlocal reads
            while not stop.is_set():
                try:
                    with factory() as session:
                        assert session.execute(select(*columns).order_by(Customer.id)).all() == before
                    reads += 1
                except BaseException as error:  # reported to the main thread
                    errors.append(error)
                    return

        thread = threading.Thread(target=reader)
        thread.start()
        try:
            rotator = KeyRing.load(path)  # `custinfo keys rotate` is another process with its own ring
            rotator.add_key()
            rotator.save()
            interrupted = RuntimeError("interrupted")

            def crash(_n: int) -> None:
                raise interrupted

            with pytest.raises(RuntimeError):
                rotation.reencrypt(own_engine, rotator, batch_size=50, progress=crash)
            left = rotation.pending(own_engine, rotator)
            assert 0 < left < len(before)  # one batch was committed before the interruption
            report = rotation.reencrypt(own_engine, rotator, batch_size=50)
            assert report.rows == left
            assert rotation.pending(own_engine, rotator) == 0
        finally:
            while reads < 3 and not errors:
                threading.Event().wait(0.05)
            stop.set()
            thread.join()
        assert errors == [] and reads >= 3
        usage = rotation.key_usage(own_engine)
        assert usage["customers.id_number"] and set(usage["customers.id_number"]) == {2}
        assert app_ring.current == 2  # the running process picked up the new key
        with factory() as session:
            assert session.execute(select(*columns).order_by(Customer.id)).all() == before
