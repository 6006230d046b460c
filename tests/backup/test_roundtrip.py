"""Create → change → restore on both databases: the data equals the state at backup time, row by row, and the
audit chain verifies; verify refuses damage and a wrong key; no clear ID number anywhere in the archive;
rotation keeps the configured numbers; an older schema is migrated, a newer one refused."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import Engine
from tests.backup.conftest import Live, running
from tests.databases import private_database
from tests.factories import make_customer, make_order, make_user

from custinfo.audit import anchor as audit_anchor
from custinfo.audit import chain
from custinfo.auth.policy import Principal
from custinfo.backup import archive, keys, service, snapshot
from custinfo.backup.errors import BackupFailure
from custinfo.backup.policy import change_policy
from custinfo.config import Settings
from custinfo.core.db import make_session_factory
from custinfo.core.uow import Actor, unit_of_work
from custinfo.customers.identifiers import make_id_number
from custinfo.customers.models import Customer
from custinfo.jobs import runner
from custinfo.security import crypto

ID_NUMBERS = [make_id_number("110105", date(1980 + n, 3, 9), 20 + n) for n in range(5)]
ADMIN = Principal(user_id=0, username="admin", role="admin", department_id=None)


def _populate(engine: Engine) -> None:
    with unit_of_work(make_session_factory(engine), Actor.system("test")) as session:
        sales = make_user(session, "sales_b", "sales", "华东销售部")
        for n, number in enumerate(ID_NUMBERS):
            customer = make_customer(
                session,
                sales,
                kind="individual",
                name=f"备份客户{n}",
                id_number=number,
                mobile=f"1380013800{n}",
            )
            make_order(session, customer)
        make_customer(session, sales, name="备份测试公司")


def _rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows as stored (ciphertext as ciphertext), in primary-key order."""
    with engine.connect() as connection:
        inspector = inspect(connection)
        quote = connection.dialect.identifier_preparer.quote
        rows = {}
        for name in sorted(inspector.get_table_names()):
            keys_ = inspector.get_pk_constraint(name)["constrained_columns"] or [
                c["name"] for c in inspector.get_columns(name)
            ]
            order = ", ".join(quote(k) for k in keys_)
            rows[name] = [
                tuple(r) for r in connection.execute(text(f"SELECT * FROM {quote(name)} ORDER BY {order}"))
            ]
    return rows


def _change_everything(engine: Engine) -> None:
    with unit_of_work(make_session_factory(engine), Actor.system("test")) as session:
        first = session.scalars(select(Customer).order_by(Customer.id)).first()
        assert first is not None
        first.name = "改过的名字"
        make_customer(session, None, name="备份之后的新客户")
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM orders"))


def test_restore_brings_back_the_state_at_backup_time_exactly(live: Live) -> None:
    _populate(live.engine)
    made = service.make_archive(live.engine, live.settings, "daily")
    before = _rows(live.engine)
    assert made.manifest["tables"]["customers"] == 6
    assert made.manifest["audit_head"]["seq"] == len(before["audit_log"]) > 0
    _change_everything(live.engine)
    assert _rows(live.engine) != before

    restored = service.restore_archive(live.engine, live.settings, made.path, "admin")

    after = _rows(live.engine)
    assert restored.rows == sum(len(v) for v in before.values()) and not restored.migrated
    for name in before:
        if name not in ("audit_log", "audit_chain_head"):
            assert after[name] == before[name], name
    # The log is the backup's, plus the restore's own entry.
    assert after["audit_log"][: len(before["audit_log"])] == before["audit_log"]
    assert len(after["audit_log"]) == len(before["audit_log"]) + 1
    with live.engine.connect() as connection:
        last = connection.execute(text("SELECT action, actor FROM audit_log ORDER BY seq DESC")).first()
        assert tuple(last) == ("backup.restored", "admin")  # type: ignore[arg-type]
        latest = audit_anchor.latest(live.settings.effective_audit_anchor_file)
        assert chain.verify(connection, anchor=latest, anchored=True).ok
    # Same key ids: every sealed value opens with today's ring, and the system writes on.
    with unit_of_work(make_session_factory(live.engine), Actor.system("test")) as session:
        numbers = sorted(n for n in session.scalars(select(Customer.id_number)) if n)
        assert numbers == sorted(ID_NUMBERS)
        make_customer(session, None, name="恢复之后的新客户")


def test_verify_passes_and_refuses_damage_and_a_wrong_key(live: Live, tmp_path: Path) -> None:
    _populate(live.engine)
    made = service.make_archive(live.engine, live.settings, "weekly")
    verified = service.verify_archive(live.engine, live.settings, made.path)
    assert verified.rows == made.manifest["total_rows"] and verified.audit_entries > 0

    flipped = tmp_path / "flipped.cibackup"
    data = bytearray(made.path.read_bytes())
    data[len(data) // 2] ^= 0x40
    flipped.write_bytes(bytes(data))
    with pytest.raises(BackupFailure) as failure:
        service.verify_archive(live.engine, live.settings, flipped)
    assert failure.value.detail_key == "backup.failure.damaged"

    cut = tmp_path / "cut.cibackup"
    cut.write_bytes(made.path.read_bytes()[:-100])
    with pytest.raises(BackupFailure, match="damaged"):
        service.verify_archive(live.engine, live.settings, cut)

    other_key = Settings(**{**live.settings.model_dump(), "backup_key_file": tmp_path / "other-key.json"})
    keys.ensure(other_key.effective_backup_key_file)
    with pytest.raises(BackupFailure) as failure:
        service.verify_archive(live.engine, other_key, made.path)
    assert failure.value.detail_key == "backup.failure.unknown_key"


def test_the_archive_holds_no_clear_id_number(live: Live, tmp_path: Path) -> None:
    _populate(live.engine)
    made = service.make_archive(live.engine, live.settings, "daily")
    blob = made.path.read_bytes()
    assert [n for n in ID_NUMBERS if n.encode() in blob] == []
    # Decrypted, the database inside holds the L3 columns sealed still.
    into = tmp_path / "inside"
    into.mkdir()
    _header, _manifest, parts = archive.extract(
        made.path, keys.load(live.settings.effective_backup_key_file), into
    )
    (part,) = parts.values()
    if part.name == snapshot.POSTGRESQL_PART:
        inside = subprocess.run(["pg_restore", "-f", "-", str(part)], capture_output=True, check=True).stdout
    else:
        inside = part.read_bytes()
    assert len(inside) > 10_000
    assert "备份客户0".encode() in inside  # the search can find clear text (L2 names are clear)
    assert [n for n in ID_NUMBERS if n.encode() in inside] == []
    assert [n[6:14] for n in ID_NUMBERS if n[6:14].encode() in inside] == []


def test_rotation_keeps_the_configured_number_of_each_kind(live: Live) -> None:
    factory = make_session_factory(live.engine)
    with unit_of_work(factory, Actor.system("test")) as session:
        change_policy(session, ADMIN, keep_daily=2, keep_weekly=1, keep_monthly=3, run_at="02:15")
    for _ in range(4):
        run = runner.run_now(factory, "backup", {"kind": "daily", "verify": False}, "cli")
        assert run.status == "succeeded", run.error
    run = runner.run_now(factory, "backup", {"kind": "weekly"}, "cli")
    assert run.status == "succeeded" and run.result and run.result["verified"] is True
    with unit_of_work(factory, Actor.system("test")) as session:
        views = service.backups(session, live.settings)
    assert [v.kind for v in views].count("daily") == 2
    assert [v.kind for v in views].count("weekly") == 1
    # The newest two dailies are kept: the fourth and third made.
    assert sorted(p.name for p in live.settings.effective_backup_dir.glob("*-daily.cibackup")) == sorted(
        v.file_name for v in views if v.kind == "daily"
    )
    assert views[0].kind == "weekly" and views[0].status == "passed"
    assert all(v.status == "never" for v in views if v.kind == "daily")


def test_the_calendar_picks_the_kind(live: Live) -> None:
    factory = make_session_factory(live.engine)
    kinds = []
    for _ in range(3):
        run = runner.run_now(factory, "backup", {"verify": False}, "cli")
        assert run.status == "succeeded", run.error
        kinds.append(run.result["kind"] if run.result else None)
    assert kinds == ["monthly", "weekly", "daily"]


def test_an_older_schema_is_migrated_and_a_newer_one_refused(
    live: Live, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    backend = live.engine.dialect.name
    with private_database(backend, tmp_path, revision="0016_product_categories") as old:
        made = service.make_archive(old, live.settings, "monthly")
    assert made.manifest["schema_revision"] == "0016_product_categories"
    restored = service.restore_archive(live.engine, live.settings, made.path, "admin")
    assert restored.migrated and restored.from_revision == "0016_product_categories"
    with live.engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0017_backups"

    newer = tmp_path / "newer.cibackup"
    header = archive.Header(**{**archive.read_header(made.path).__dict__, "schema_revision": "9999_future"})
    with newer.open("wb") as out:
        archive.ArchiveWriter(out, header, keys.load(live.settings.effective_backup_key_file)).close({})
    with pytest.raises(BackupFailure) as failure:
        service.restore_archive(live.engine, live.settings, newer, "admin")
    assert failure.value.detail_key == "backup.failure.schema_newer"


def test_a_backup_of_another_database_kind_or_missing_field_keys_is_refused(
    live: Live, tmp_path: Path
) -> None:
    _populate(live.engine)
    made = service.make_archive(live.engine, live.settings, "daily")
    other = "postgresql" if live.engine.dialect.name == "sqlite" else "sqlite"
    with private_database(other, tmp_path) as elsewhere, pytest.raises(BackupFailure) as failure:
        service.restore_archive(elsewhere, live.settings, made.path, "admin")
    assert failure.value.detail_key == "backup.failure.dialect_mismatch"

    ring_file = tmp_path / "new-ring.json"
    crypto.ensure_key_file(ring_file)
    with crypto.using(crypto.KeyRing.load(ring_file)) as ring:
        ring.keys = {2: ring.keys[1]}
        ring.current = 2
        with pytest.raises(BackupFailure) as failure:
            service.verify_archive(live.engine, live.settings, made.path)
    assert failure.value.detail_key == "backup.failure.field_keys"
    assert failure.value.params == {"ids": "1"}


def test_pg_tools_missing_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = shutil.which
    monkeypatch.setattr(snapshot.shutil, "which", lambda name: None if name == "pg_dump" else real(name))
    with private_database("postgresql", tmp_path) as engine:
        live = running(engine, tmp_path)
        with pytest.raises(BackupFailure) as failure:
            service.make_archive(live.engine, live.settings, "daily")
    assert failure.value.detail_key == "backup.failure.tool_missing"
    assert list(live.settings.effective_backup_dir.glob("*")) == []
