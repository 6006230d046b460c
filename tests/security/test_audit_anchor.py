"""Tamper detection with the keyed MAC chain and the anchor file: one test per detected case, one per
documented case that is not detected (docs/security.md lists both), and migration 0010's re-sealing."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from click.testing import Result
from sqlalchemy import insert, select, text, update
from sqlalchemy.engine import Connection, Engine
from tests.security.test_audit import _drop_triggers
from typer.testing import CliRunner

from custinfo.audit import anchor, chain
from custinfo.audit.models import AuditChainHead, AuditEntry
from custinfo.cli.main import app as cli
from custinfo.core.db import make_session_factory, utcnow
from custinfo.core.schema import alembic_config
from custinfo.core.uow import Actor, record, unit_of_work
from custinfo.protection.events import SensitiveFieldRead
from custinfo.security import crypto

Sealer = Callable[[dict[str, Any], str], str]


def _read(customer_id: int) -> SensitiveFieldRead:
    return SensitiveFieldRead(customer_id=customer_id, fields=("address",), level="L3", purpose="view")


@pytest.fixture
def anchor_file(own_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings of the CLI point at the private database; commits here append to a private anchor file."""
    path = tmp_path / "audit-anchor.jsonl"
    monkeypatch.setenv("CUSTINFO_DATABASE_URL", own_engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("CUSTINFO_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CUSTINFO_AUDIT_ANCHOR_FILE")
    monkeypatch.setattr(anchor, "_path", path)
    return path


@pytest.fixture
def four_entries(own_engine: Engine, anchor_file: Path) -> Iterator[Engine]:
    """Four entries in two commits: the anchor file's last record is entry 4."""
    factory = make_session_factory(own_engine)
    with unit_of_work(factory, Actor("admin", role="admin")) as session:
        for i in range(3):
            record(session, _read(i + 1))
    with unit_of_work(factory, Actor("sales_east1", role="sales")) as session:
        record(session, _read(4))
    assert anchor.latest(anchor_file) == anchor.Anchor(4, _hash_of(own_engine, 4))
    yield own_engine


def _hash_of(engine: Engine, seq: int) -> str:
    with engine.connect() as conn:
        return str(conn.scalar(select(AuditEntry.hash).where(AuditEntry.seq == seq)))


def _verify() -> Result:
    return CliRunner().invoke(cli, ["audit", "verify"])


def _tampered(result: Result, reason: str) -> None:
    assert result.exit_code == 1, result.output
    assert "audit log tampered" in result.output and reason in result.output, result.output


def _reseal(conn: Connection, from_seq: int, seal: Sealer) -> str:
    """What an attacker does after an edit: recompute the chain from `from_seq` on and fix the head."""
    prev = conn.scalar(select(AuditEntry.hash).where(AuditEntry.seq == from_seq - 1)) or chain.GENESIS
    columns = [getattr(AuditEntry, name) for name in chain.HASHED]
    rows = conn.execute(select(*columns).where(AuditEntry.seq >= from_seq).order_by(AuditEntry.seq)).all()
    for row in rows:
        mac = seal({name: getattr(row, name) for name in chain.HASHED}, prev)
        conn.execute(update(AuditEntry).where(AuditEntry.seq == row.seq).values(prev_hash=prev, hash=mac))
        prev = mac
    conn.execute(update(AuditChainHead).values(seq=rows[-1].seq if rows else from_seq - 1, hash=prev))
    return prev


def _attack(engine: Engine, *statements: str) -> Connection:
    conn = engine.connect()
    conn.begin()
    _drop_triggers(conn)
    for statement in statements:
        conn.execute(text(statement))
    return conn


def test_a_clean_anchored_log_verifies(four_entries: Engine) -> None:
    result = _verify()
    assert result.exit_code == 0, result.output
    assert "4 entries verified (anchored at entry 4" in result.output


# Detected -----------------------------------------------------------------------------------------


def test_whole_log_deleted_with_its_head_is_detected(four_entries: Engine) -> None:
    with _attack(four_entries, "DELETE FROM audit_log") as conn:
        conn.execute(update(AuditChainHead).values(seq=0, hash=chain.GENESIS))
        conn.commit()
    _tampered(_verify(), "entry 1 and every later one up to 4 were deleted")


def test_tail_deleted_and_head_fixed_is_detected(four_entries: Engine) -> None:
    second = _hash_of(four_entries, 2)
    with _attack(four_entries, "DELETE FROM audit_log WHERE seq > 2") as conn:
        conn.execute(update(AuditChainHead).values(seq=2, hash=second))
        conn.commit()
    _tampered(_verify(), "entry 3 and every later one up to 4 were deleted")


def test_edit_resealed_without_the_key_is_detected(four_entries: Engine) -> None:
    with _attack(four_entries, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2") as conn:
        _reseal(conn, 2, chain.legacy_hash)  # the old keyless scheme, or any key but the real one
        conn.commit()
    _tampered(_verify(), "entry 2 was altered (MAC mismatch)")


def test_edit_resealed_with_the_key_but_not_the_anchor_is_detected(four_entries: Engine) -> None:
    with _attack(four_entries, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2") as conn:
        _reseal(conn, 2, chain.entry_mac)
        conn.commit()
    _tampered(_verify(), "entry 4 does not match the anchor file")


def test_anchor_file_deleted_is_detected(four_entries: Engine, anchor_file: Path) -> None:
    anchor_file.unlink()
    _tampered(_verify(), "the anchor file has no record of the chain's 4 entries")


# Not detected (documented) ------------------------------------------------------------------------


def test_not_detected_attacker_with_the_key_and_the_anchor_file(
    four_entries: Engine, anchor_file: Path
) -> None:
    with _attack(four_entries, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2") as conn:
        head = _reseal(conn, 2, chain.entry_mac)
        conn.commit()
    anchor.append(anchor_file, anchor.Anchor(4, head))
    assert _verify().exit_code == 0


def test_not_detected_log_and_anchor_file_deleted_together(four_entries: Engine, anchor_file: Path) -> None:
    with _attack(four_entries, "DELETE FROM audit_log") as conn:
        conn.execute(update(AuditChainHead).values(seq=0, hash=chain.GENESIS))
        conn.commit()
    anchor_file.unlink()
    result = _verify()
    assert result.exit_code == 0 and "0 entries verified" in result.output  # looks like a fresh install


def test_not_detected_tail_whose_anchor_write_failed(
    four_entries: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(anchor, "_path", tmp_path)  # a directory: the append fails and is logged
    with unit_of_work(make_session_factory(four_entries), Actor("admin", role="admin")) as session:
        record(session, _read(5))
    fourth = _hash_of(four_entries, 4)
    with _attack(four_entries, "DELETE FROM audit_log WHERE seq = 5") as conn:
        conn.execute(update(AuditChainHead).values(seq=4, hash=fourth))
        conn.commit()
    assert _verify().exit_code == 0


# Anchoring by hand --------------------------------------------------------------------------------


def test_audit_anchor_command_anchors_an_unanchored_log(own_engine: Engine, anchor_file: Path) -> None:
    with unit_of_work(make_session_factory(own_engine), Actor("admin", role="admin")) as session:
        record(session, _read(1))
    anchor_file.unlink()  # as after upgrading to 0010: entries, but no anchor record yet
    _tampered(_verify(), "run `custinfo audit anchor` once after upgrading")
    anchored = CliRunner().invoke(cli, ["audit", "anchor"])
    assert anchored.exit_code == 0 and "at entry 1" in anchored.output, anchored.output
    assert _verify().exit_code == 0
    again = CliRunner().invoke(cli, ["audit", "anchor"])
    assert again.exit_code == 0 and "Nothing to anchor" in again.output


def test_audit_anchor_command_refuses_a_broken_chain(four_entries: Engine) -> None:
    third = _hash_of(four_entries, 3)
    with _attack(four_entries, "DELETE FROM audit_log WHERE seq = 4") as conn:
        conn.execute(update(AuditChainHead).values(seq=3, hash=third))
        conn.commit()
    _tampered(CliRunner().invoke(cli, ["audit", "anchor"]), "entry 4 and every later one up to 4")


# Migration 0010 -----------------------------------------------------------------------------------


def _legacy_chain(conn: Connection, n: int, break_at: int | None = None) -> None:
    prev = chain.GENESIS
    for seq in range(1, n + 1):
        fields = chain.storable_fields(seq, actor=f"user{seq}", role="sales", action="sensitive_read")
        fields["occurred_at"] = utcnow()
        digest = chain.legacy_hash(fields, prev)
        stored = dict(fields, actor="mallory") if seq == break_at else fields
        conn.execute(insert(AuditEntry).values(**stored, prev_hash=prev, hash=digest))
        prev = digest
    conn.execute(update(AuditChainHead).values(seq=n, hash=prev))


@pytest.mark.parametrize(
    ("break_at", "finding"), [(None, "intact"), (2, "entry 2 was altered (hash mismatch)")]
)
def test_migration_reseals_a_legacy_chain(own_engine: Engine, break_at: int | None, finding: str) -> None:
    config = alembic_config()
    with own_engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0009")  # 0010 changes no table: this only moves the revision back
        _legacy_chain(conn, 3, break_at)
    with own_engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    with own_engine.connect() as conn:
        result = chain.verify(conn)
        last = conn.execute(
            select(AuditEntry.action, AuditEntry.details).order_by(AuditEntry.seq.desc()).limit(1)
        ).one()
        actors = list(conn.scalars(select(AuditEntry.actor).order_by(AuditEntry.seq)))
    assert result.ok and result.checked == 4, result.reason
    assert last.action == "audit.resealed"
    assert last.details == {"scheme": "hmac-sha256", "entries": 3, "legacy_check": finding}
    assert actors[:3] == ["user1", "mallory" if break_at else "user2", "user3"]  # what entries say is kept


def test_a_key_file_from_before_the_audit_key_gets_one_once(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    old = crypto.KeyRing.generate(path)
    old.save()
    data = json.loads(path.read_text())
    del data["audit_key"]
    path.write_text(json.dumps(data))
    first = crypto.KeyRing.load(path)
    second = crypto.KeyRing.load(path)
    assert len(first.audit_key) == crypto.KEY_BYTES and first.audit_key == second.audit_key
    assert first.keys == old.keys and first.index_key == old.index_key  # the field keys are untouched
    assert json.loads(path.read_text())["audit_key"]
