"""Key ring, AES-GCM envelope and blind index: pure tests, no database."""

from __future__ import annotations

import stat
from datetime import date
from pathlib import Path

import pytest

from custinfo.security import crypto
from custinfo.security.crypto import KeyRing, KeyRingError, ensure_key_file, prefix
from custinfo.security.encrypted import EncryptedDate, EncryptedText


def test_round_trip_and_fresh_nonce_per_value() -> None:
    ring = KeyRing.generate()
    first = ring.encrypt("11010519491231002X", "customers.id_number")
    second = ring.encrypt("11010519491231002X", "customers.id_number")
    assert first != second
    assert "11010519491231002X" not in first
    assert ring.decrypt(first, "customers.id_number") == "11010519491231002X"
    assert ring.decrypt(
        ring.encrypt("上海市浦东新区世纪大道100号", "customers.address"), "customers.address"
    ) == ("上海市浦东新区世纪大道100号")


def test_ciphertext_carries_version_and_key_id() -> None:
    ring = KeyRing.generate()
    sealed = ring.encrypt("x", "t.c")
    assert sealed.startswith(prefix(1)) and ring.key_id_of(sealed) == 1
    ring.add_key()
    assert ring.encrypt("x", "t.c").startswith(prefix(2))
    assert ring.decrypt(sealed, "t.c") == "x"  # older keys still open older values


def test_associated_data_binds_value_to_its_column() -> None:
    ring = KeyRing.generate()
    sealed = ring.encrypt("11010519491231002X", "customers.id_number")
    with pytest.raises(KeyRingError, match="moved from another column") as error:
        ring.decrypt(sealed, "customers.bank_account")
    assert "11010519491231002X" not in str(error.value)


def test_unknown_key_id_is_a_clear_error() -> None:
    writer = KeyRing.generate()
    writer.add_key()
    sealed = writer.encrypt("secret", "t.c")
    reader = KeyRing.generate()
    with pytest.raises(KeyRingError, match="key id 2, which the key ring lacks"):
        reader.decrypt(sealed, "t.c")


def test_wrong_key_with_same_id_fails_authentication() -> None:
    sealed = KeyRing.generate().encrypt("secret", "t.c")
    with pytest.raises(KeyRingError, match="does not authenticate under key id 1"):
        KeyRing.generate().decrypt(sealed, "t.c")


def test_garbage_is_not_taken_for_ciphertext() -> None:
    ring = KeyRing.generate()
    for junk in ("11010519491231002X", "AQAB", "!!!"):
        with pytest.raises(KeyRingError):
            ring.decrypt(junk, "t.c")


def test_key_file_is_private_and_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "ring.json"
    assert ensure_key_file(path) is True
    assert ensure_key_file(path) is False
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    ring = KeyRing.load(path)
    sealed = ring.encrypt("v", "t.c")
    assert KeyRing.load(path).decrypt(sealed, "t.c") == "v"


def test_missing_or_malformed_key_file(tmp_path: Path) -> None:
    with pytest.raises(KeyRingError, match="not found"):
        KeyRing.load(tmp_path / "absent.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"current": 1, "keys": {}}')
    with pytest.raises(KeyRingError, match="malformed"):
        KeyRing.load(bad)


def test_a_running_process_picks_up_a_key_added_elsewhere(tmp_path: Path) -> None:
    path = tmp_path / "ring.json"
    ensure_key_file(path)
    running = KeyRing.load(path)
    rotator = KeyRing.load(path)
    rotator.add_key()
    rotator.save()
    sealed = rotator.encrypt("v", "t.c")
    assert running.decrypt(sealed, "t.c") == "v"  # unknown key id → re-read the file
    assert running.current == 2


def test_blind_index_is_keyed_deterministic_and_per_column() -> None:
    ring = KeyRing.generate()
    a = ring.blind_index("11010519491231002X", "customers.id_number")
    assert a == ring.blind_index("11010519491231002X", "customers.id_number")
    assert a != ring.blind_index("11010519491231002X", "customers.bank_account")
    assert a != KeyRing.generate().blind_index("11010519491231002X", "customers.id_number")
    assert len(a) == 64


def test_column_types_encrypt_on_bind_and_decrypt_on_result() -> None:
    ring = KeyRing.generate()
    with crypto.using(ring):
        text_type = EncryptedText("customers.address")
        stored = text_type.process_bind_param("上海市", None)  # type: ignore[arg-type]
        assert stored is not None and "上海" not in stored
        assert text_type.process_result_value(stored, None) == "上海市"  # type: ignore[arg-type]
        date_type = EncryptedDate("customers.birth_date")
        for given in (date(1990, 5, 17), "1990-05-17"):
            sealed = date_type.process_bind_param(given, None)  # type: ignore[arg-type]
            assert date_type.process_result_value(sealed, None) == date(1990, 5, 17)  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            date_type.process_bind_param("not a date", None)  # type: ignore[arg-type]


def test_production_refuses_to_start_without_its_key_file(tmp_path: Path) -> None:
    from custinfo.app import create_app
    from custinfo.config import Settings

    settings = Settings(
        environment="production",
        secret_key="x" * 40,
        data_dir=tmp_path,
        database_url="sqlite://",
        key_file=tmp_path / "absent.json",
    )
    with pytest.raises(KeyRingError, match="refusing to start"):
        create_app(settings)
    assert not (tmp_path / "absent.json").exists()
