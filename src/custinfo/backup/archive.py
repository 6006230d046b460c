"""The archive file: a clear, authenticated header, then the parts, compressed and encrypted in chunks.

Layout: MAGIC, a 4-byte length and the header (JSON: kind, time, database, schema revision, key id,
nonce prefix, compression, a key check), then records of `length (4 bytes) + AES-GCM ciphertext`.
Chunk i is sealed with nonce `prefix ‖ i` and associated data `sha256(header) ‖ i ‖ final`: a chunk
moved, dropped, altered or a file cut short fails to open, and so does an altered header. The
plaintext (zlib-compressed unless the parts are compressed already) is a sequence of members
`b"M" + name length (2) + name + size (8) + bytes`, ended by `b"E"`; the manifest is the last member.

Anyone may read the header (`custinfo backup list` does, without the key); everything else needs the
backup key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from custinfo.backup.errors import BackupFailure
from custinfo.backup.keys import BackupKeys

MAGIC = b"CUSTINFO-BACKUP\n"
FORMAT = 1
CHUNK = 4 << 20
MAX_HEADER = 64 << 10
COPY = 1 << 20
MANIFEST = "manifest.json"
_LENGTH = struct.Struct(">I")
_MEMBER = struct.Struct(">HQ")


@dataclass(frozen=True)
class Header:
    """What an archive says about itself in clear (authenticated, not secret)."""

    kind: str
    made_at: str
    dialect: str
    schema_revision: str
    custinfo_version: str
    key_id: str
    compression: str
    nonce_prefix: bytes = b""
    key_check: str = ""
    format: int = FORMAT

    def to_json(self) -> bytes:
        """The header as stored."""
        data = {k: v for k, v in self.__dict__.items() if k != "nonce_prefix"}
        data["nonce_prefix"] = self.nonce_prefix.hex()
        return json.dumps(data, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Header:
        """Parse a stored header (BackupFailure when it is not one)."""
        try:
            data = json.loads(raw)
            data["nonce_prefix"] = bytes.fromhex(data["nonce_prefix"])
            header = cls(**{k: data[k] for k in cls.__dataclass_fields__})
        except (ValueError, KeyError, TypeError):
            raise BackupFailure("backup.failure.not_an_archive") from None
        if len(header.nonce_prefix) != 8:
            raise BackupFailure("backup.failure.not_an_archive")
        return header


def _key_check(key: bytes, nonce_prefix: bytes) -> str:
    return hmac.new(key, b"custinfo-backup-key-check" + nonce_prefix, hashlib.sha256).hexdigest()[:32]


def _associated(header_digest: bytes, index: int, final: bool) -> bytes:
    return header_digest + struct.pack(">QB", index, 1 if final else 0)


def _nonce(prefix: bytes, index: int) -> bytes:
    return prefix + struct.pack(">I", index)


class ArchiveWriter:
    """Write an archive: `add_file` / `add_bytes` each part, then `close(manifest)`."""

    def __init__(self, out: BinaryIO, header: Header, keys: BackupKeys) -> None:
        key = keys.keys[keys.current]
        prefix = secrets.token_bytes(8)
        self.header = Header(
            **{
                **header.__dict__,
                "key_id": keys.current,
                "nonce_prefix": prefix,
                "key_check": _key_check(key, prefix),
            }
        )
        raw = self.header.to_json()
        self._out = out
        self._aead = AESGCM(key)
        self._digest = hashlib.sha256(MAGIC + _LENGTH.pack(len(raw)) + raw).digest()
        self._compressor = zlib.compressobj(1) if header.compression == "zlib" else None
        self._buffer = bytearray()
        self._pending: bytes | None = None
        self._index = 0
        self.parts: list[dict[str, Any]] = []
        out.write(MAGIC + _LENGTH.pack(len(raw)) + raw)

    def _seal(self, chunk: bytes, final: bool) -> None:
        sealed = self._aead.encrypt(
            _nonce(self.header.nonce_prefix, self._index),
            chunk,
            _associated(self._digest, self._index, final),
        )
        self._out.write(_LENGTH.pack(len(sealed)) + sealed)
        self._index += 1

    def _emit(self, final: bool = False) -> None:
        while len(self._buffer) >= CHUNK:
            chunk = bytes(self._buffer[:CHUNK])
            del self._buffer[:CHUNK]
            if self._pending is not None:
                self._seal(self._pending, final=False)
            self._pending = chunk
        if final:
            if self._pending is not None and self._buffer:
                self._seal(self._pending, final=False)
                self._pending = None
            last = bytes(self._buffer) if self._buffer or self._pending is None else self._pending
            self._buffer.clear()
            self._seal(last, final=True)

    def _write(self, data: bytes) -> None:
        self._buffer += self._compressor.compress(data) if self._compressor else data
        if len(self._buffer) >= 2 * CHUNK:
            self._emit()

    def add_file(self, name: str, path: Path) -> dict[str, Any]:
        """Pack one file as a part; returns its manifest entry (name, size, sha256)."""
        size = path.stat().st_size
        encoded = name.encode()
        self._write(b"M" + _MEMBER.pack(len(encoded), size) + encoded)
        digest = hashlib.sha256()
        with path.open("rb") as source:
            while block := source.read(COPY):
                digest.update(block)
                self._write(block)
        entry = {"name": name, "size": size, "sha256": digest.hexdigest()}
        self.parts.append(entry)
        return entry

    def add_bytes(self, name: str, data: bytes) -> None:
        """Pack bytes as a member (the manifest)."""
        encoded = name.encode()
        self._write(b"M" + _MEMBER.pack(len(encoded), len(data)) + encoded + data)

    def close(self, manifest: dict[str, Any]) -> None:
        """Pack the manifest (with every part's checksum), the end mark, and seal the final chunk."""
        manifest = {**manifest, "parts": self.parts}
        self.add_bytes(MANIFEST, json.dumps(manifest, sort_keys=True, ensure_ascii=False).encode())
        self._write(b"E")
        if self._compressor is not None:
            self._buffer += self._compressor.flush()
        self._emit(final=True)
        self._out.flush()


def read_header(path: Path) -> Header:
    """The clear header of an archive (BackupFailure when the file is not a custinfo backup)."""
    with path.open("rb") as source:
        header, _ = _read_header(source)
    return header


def _read_exact(source: BinaryIO, size: int) -> bytes:
    data = source.read(size)
    if len(data) != size:
        raise BackupFailure("backup.failure.damaged")
    return data


def _read_header(source: BinaryIO) -> tuple[Header, bytes]:
    if source.read(len(MAGIC)) != MAGIC:
        raise BackupFailure("backup.failure.not_an_archive")
    length_raw = source.read(_LENGTH.size)
    if len(length_raw) != _LENGTH.size:
        raise BackupFailure("backup.failure.not_an_archive")
    (length,) = _LENGTH.unpack(length_raw)
    if length > MAX_HEADER:
        raise BackupFailure("backup.failure.not_an_archive")
    raw = _read_exact(source, length)
    header = Header.from_json(raw)
    if header.format > FORMAT:
        raise BackupFailure("backup.failure.newer_format", format=header.format)
    return header, hashlib.sha256(MAGIC + length_raw + raw).digest()


class _Plain:
    """The decrypted, decompressed byte stream of an archive, read in order."""

    def __init__(self, source: BinaryIO, header: Header, digest: bytes, key: bytes) -> None:
        self._source = source
        self._header = header
        self._digest = digest
        self._aead = AESGCM(key)
        self._decompressor = zlib.decompressobj() if header.compression == "zlib" else None
        self._buffer = bytearray()
        self._index = 0
        self._ended = False
        self._next = self._record()

    def _record(self) -> bytes | None:
        raw = self._source.read(_LENGTH.size)
        if not raw:
            return None
        if len(raw) != _LENGTH.size:
            raise BackupFailure("backup.failure.damaged")
        (length,) = _LENGTH.unpack(raw)
        if length > CHUNK + 16:
            raise BackupFailure("backup.failure.damaged")
        return _read_exact(self._source, length)

    def _fill(self) -> bool:
        sealed = self._next
        if sealed is None or self._ended:
            return False
        self._next = self._record()
        final = self._next is None
        try:
            chunk = self._aead.decrypt(
                _nonce(self._header.nonce_prefix, self._index),
                sealed,
                _associated(self._digest, self._index, final),
            )
        except InvalidTag:
            raise BackupFailure("backup.failure.damaged") from None
        self._index += 1
        self._ended = final
        if self._decompressor is not None:
            try:
                chunk = self._decompressor.decompress(chunk)
                if final:
                    chunk += self._decompressor.flush()
            except zlib.error:
                raise BackupFailure("backup.failure.damaged") from None
        self._buffer += chunk
        return True

    def read(self, size: int) -> bytes:
        """Up to `size` bytes (fewer only at the end)."""
        while len(self._buffer) < size and self._fill():
            pass
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def exact(self, size: int) -> bytes:
        """Exactly `size` bytes (BackupFailure when the stream ends first)."""
        data = self.read(size)
        if len(data) != size:
            raise BackupFailure("backup.failure.damaged")
        return data

    def at_end(self) -> bool:
        """Whether every chunk was read, the final one included, and nothing is left."""
        while not self._buffer and self._fill():
            pass
        return self._ended and not self._buffer


def _opened(source: BinaryIO, keys: BackupKeys) -> _Plain:
    header, digest = _read_header(source)
    key = keys.key(header.key_id)
    if key is None:
        raise BackupFailure("backup.failure.unknown_key", key_id=header.key_id)
    if not hmac.compare_digest(_key_check(key, header.nonce_prefix), header.key_check):
        raise BackupFailure("backup.failure.wrong_key", key_id=header.key_id)
    return _Plain(source, header, digest, key)


def _members(plain: _Plain) -> Iterator[tuple[str, int]]:
    while True:
        mark = plain.exact(1)
        if mark == b"E":
            if not plain.at_end():
                raise BackupFailure("backup.failure.damaged")
            return
        if mark != b"M":
            raise BackupFailure("backup.failure.damaged")
        name_length, size = _MEMBER.unpack(plain.exact(_MEMBER.size))
        try:
            name = plain.exact(name_length).decode()
        except UnicodeDecodeError:
            raise BackupFailure("backup.failure.damaged") from None
        yield name, size


def extract(path: Path, keys: BackupKeys, into: Path) -> tuple[Header, dict[str, Any], dict[str, Path]]:
    """Decrypt every part into `into`, checking each against the manifest (size and sha256).

    Returns the header, the manifest and the extracted parts by name. Any failure — a wrong key, a
    flipped byte, a file cut short, a part missing or extra — raises BackupFailure naming it.
    """
    found: dict[str, tuple[Path, int, str]] = {}
    manifest: dict[str, Any] | None = None
    with path.open("rb") as source:
        plain = _opened(source, keys)
        header = plain._header
        for name, size in _members(plain):
            if name == MANIFEST:
                try:
                    manifest = json.loads(plain.exact(size))
                except ValueError:
                    raise BackupFailure("backup.failure.manifest") from None
                continue
            if "/" in name or name.startswith(".") or name in found:
                raise BackupFailure("backup.failure.damaged")
            target = into / name
            digest = hashlib.sha256()
            with target.open("wb") as out:
                remaining = size
                while remaining:
                    block = plain.exact(min(COPY, remaining))
                    digest.update(block)
                    out.write(block)
                    remaining -= len(block)
            found[name] = (target, size, digest.hexdigest())
    if not isinstance(manifest, dict) or not isinstance(manifest.get("parts"), list):
        raise BackupFailure("backup.failure.manifest")
    listed = {str(p.get("name")): p for p in manifest["parts"] if isinstance(p, dict)}
    if set(listed) != set(found):
        raise BackupFailure("backup.failure.parts")
    for name, (_target, size, digest_hex) in found.items():
        if listed[name].get("size") != size or listed[name].get("sha256") != digest_hex:
            raise BackupFailure("backup.failure.checksum", part=name)
    return header, manifest, {name: entry[0] for name, entry in found.items()}
