"""The archive format without a database: round trip, and every kind of damage or wrong key refused by name."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from custinfo.backup import archive, keys
from custinfo.backup.errors import BackupFailure

HEADER = archive.Header(
    kind="daily",
    made_at="2026-12-08T01:30:00+00:00",
    dialect="sqlite",
    schema_revision="0017_backups",
    custinfo_version="0.1.0",
    key_id="",
    compression="zlib",
)


def _archive(tmp_path: Path, size: int, compression: str = "zlib") -> tuple[Path, bytes, keys.BackupKeys]:
    backup_keys = keys.ensure(tmp_path / "backup-key.json")
    # Half random (incompressible), half text: the archive spans several chunks either way.
    payload = secrets.token_bytes(size // 2) + b"custinfo " * (size // 18)
    part = tmp_path / "database.sqlite"
    part.write_bytes(payload)
    path = tmp_path / "a.cibackup"
    header = archive.Header(**{**HEADER.__dict__, "compression": compression})
    with path.open("wb") as out:
        writer = archive.ArchiveWriter(out, header, backup_keys)
        entry = writer.add_file(part.name, part)
        writer.close({"tables": {"customers": 3}, "parts": [entry]})
    return path, payload, backup_keys


def _extract(path: Path, backup_keys: keys.BackupKeys, tmp_path: Path) -> tuple[dict, bytes]:  # type: ignore[type-arg]
    into = tmp_path / f"out-{secrets.token_hex(3)}"
    into.mkdir()
    _header, manifest, parts = archive.extract(path, backup_keys, into)
    return manifest, parts["database.sqlite"].read_bytes()


@pytest.mark.parametrize("compression", ["zlib", "none"])
@pytest.mark.parametrize("size", [0, 1000, archive.CHUNK * 2 + 123])
def test_round_trip(tmp_path: Path, size: int, compression: str) -> None:
    path, payload, backup_keys = _archive(tmp_path, size, compression)
    manifest, restored = _extract(path, backup_keys, tmp_path)
    assert restored == payload
    assert manifest["tables"] == {"customers": 3}
    assert manifest["parts"][0]["size"] == len(payload)
    header = archive.read_header(path)
    assert (header.kind, header.dialect, header.key_id) == ("daily", "sqlite", backup_keys.current)


def test_the_payload_is_not_in_the_file(tmp_path: Path) -> None:
    path, payload, _ = _archive(tmp_path, 100_000, "none")
    blob = path.read_bytes()
    assert payload[:64] not in blob and b"custinfo custinfo" not in blob


def _flip(path: Path, position: int) -> None:
    data = bytearray(path.read_bytes())
    data[position] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_flipped_byte_anywhere_is_refused(tmp_path: Path) -> None:
    path, _payload, backup_keys = _archive(tmp_path, archive.CHUNK + 5000)
    original = path.read_bytes()
    size = len(original)
    positions = [0, 20, 40, 100] + [size * n // 37 for n in range(1, 37)] + [size - 1]
    for position in positions:
        path.write_bytes(original)
        _flip(path, position)
        with pytest.raises(BackupFailure) as failure:
            _extract(path, backup_keys, tmp_path)
        assert failure.value.detail_key.startswith("backup.failure."), position


@pytest.mark.parametrize("cut", ["chunk boundary", "mid chunk", "one byte", "all but header"])
def test_a_file_cut_short_is_refused(tmp_path: Path, cut: str) -> None:
    path, _payload, backup_keys = _archive(tmp_path, archive.CHUNK * 3)
    data = path.read_bytes()
    header_end = len(archive.MAGIC) + 4 + int.from_bytes(data[16:20], "big")
    first_record = header_end + 4 + int.from_bytes(data[header_end : header_end + 4], "big")
    keep = {
        "chunk boundary": first_record,
        "mid chunk": first_record + 1000,
        "one byte": len(data) - 1,
        "all but header": header_end,
    }[cut]
    path.write_bytes(data[:keep])
    with pytest.raises(BackupFailure) as failure:
        _extract(path, backup_keys, tmp_path)
    assert failure.value.detail_key == "backup.failure.damaged"


def test_bytes_appended_are_refused(tmp_path: Path) -> None:
    path, _payload, backup_keys = _archive(tmp_path, 5000)
    path.write_bytes(path.read_bytes() + b"\x00\x00\x00\x10" + b"x" * 16)
    with pytest.raises(BackupFailure) as failure:
        _extract(path, backup_keys, tmp_path)
    assert failure.value.detail_key == "backup.failure.damaged"


def test_another_key_file_is_named_not_called_damage(tmp_path: Path) -> None:
    path, _payload, backup_keys = _archive(tmp_path, 5000)
    other = keys.ensure(tmp_path / "other" / "backup-key.json")
    with pytest.raises(BackupFailure) as failure:
        _extract(path, other, tmp_path)
    assert failure.value.detail_key == "backup.failure.unknown_key"
    assert failure.value.params == {"key_id": backup_keys.current}
    same_id_other_key = keys.BackupKeys(
        keys={backup_keys.current: secrets.token_bytes(32)}, current=backup_keys.current, path=other.path
    )
    with pytest.raises(BackupFailure) as failure:
        _extract(path, same_id_other_key, tmp_path)
    assert failure.value.detail_key == "backup.failure.wrong_key"


def test_not_an_archive(tmp_path: Path) -> None:
    path = tmp_path / "x.cibackup"
    for content in (b"", b"SQLite format 3\x00" + b"\x00" * 100, archive.MAGIC + b"\xff\xff\xff\xff"):
        path.write_bytes(content)
        with pytest.raises(BackupFailure) as failure:
            archive.read_header(path)
        assert failure.value.detail_key == "backup.failure.not_an_archive"


def test_a_key_file_is_made_private_once_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "k" / "backup-key.json"
    made = keys.ensure(path)
    assert path.stat().st_mode & 0o077 == 0
    assert keys.ensure(path) == keys.load(path) == made
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(keys.BackupKeyError, match="unreadable or malformed"):
        keys.load(path)
    with pytest.raises(keys.BackupKeyError, match="not found"):
        keys.load(tmp_path / "absent.json")
