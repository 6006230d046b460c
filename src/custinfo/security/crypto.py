"""Field encryption: a key ring kept outside the database, AES-256-GCM and keyed blind indexes.

Ciphertext layout (stored base64 in a text column)::

    version (1 byte = 0x01) | key id (2 bytes, big endian) | nonce (12 bytes) | ciphertext + GCM tag

The 3-byte header encodes to exactly 4 base64 characters, so the key that
sealed a value can be read from the column in SQL (`substr(col, 1, 4)`), which
is how `custinfo keys status` counts and `custinfo keys rotate` finds rows not
yet on the current key. The associated data binds a value to its table and
column ("customers.id_number"), so a ciphertext copied into another column does
not decrypt. The blind-index key is separate from the encryption keys and is
never rotated by `keys rotate` (rotating it would mean recomputing every index).
The audit key seals the audit log's chain (HMAC-SHA256); it is never rotated either,
and a key file written before it existed gets one the first time it is loaded.

Key ring file (JSON, mode 0600)::

    {"format": 1, "current": 2, "keys": {"1": {"key": "<b64 32 bytes>", "created": "..."}, ...},
     "index_key": "<b64 32 bytes>", "audit_key": "<b64 32 bytes>"}
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from custinfo.config import Settings

VERSION = 1
HEADER_BYTES = 3
NONCE_BYTES = 12
KEY_BYTES = 32
FORMAT = 1
# How often a running process looks at the key file for a key added by `keys rotate` elsewhere.
RELOAD_SECONDS = 1.0


class KeyRingError(Exception):
    """The key ring is missing, malformed, or does not hold the key a value needs."""


def header(key_id: int) -> bytes:
    """The version byte and key id that start every ciphertext."""
    return bytes([VERSION]) + key_id.to_bytes(2, "big")


def prefix(key_id: int) -> str:
    """The 4 base64 characters every stored ciphertext sealed with `key_id` starts with."""
    return base64.b64encode(header(key_id)).decode()


@dataclass
class KeyRing:
    """Encryption keys by id (one current), and the blind-index key; reloads itself when the file changes."""

    keys: dict[int, bytes]
    current: int
    index_key: bytes
    audit_key: bytes = b""
    path: Path | None = None
    created: dict[int, str] = field(default_factory=dict)
    _stamp: tuple[int, int] | None = None
    _checked: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def generate(cls, path: Path | None = None) -> KeyRing:
        """A new ring with one encryption key and one blind-index key."""
        return cls(
            keys={1: secrets.token_bytes(KEY_BYTES)},
            current=1,
            index_key=secrets.token_bytes(KEY_BYTES),
            audit_key=secrets.token_bytes(KEY_BYTES),
            path=path,
            created={1: _now()},
        )

    @classmethod
    def load(cls, path: Path) -> KeyRing:
        """Read a key ring file (KeyRingError when it is absent or malformed)."""
        ring = cls(keys={}, current=0, index_key=b"", path=path)
        ring._read()
        if not ring.audit_key:
            ring._add_audit_key()
        return ring

    def _add_audit_key(self) -> None:
        """Give a key file from before the audit key one, under a lock so concurrent starts agree on it."""
        assert self.path is not None
        lock_path = self.path.with_name(f".{self.path.name}.lock")
        try:
            descriptor = os.open(lock_path, os.O_WRONLY | os.O_CREAT, 0o600)
            with os.fdopen(descriptor, "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                self._read()
                if not self.audit_key:
                    self.audit_key = secrets.token_bytes(KEY_BYTES)
                    self.save()
        except OSError as error:
            raise KeyRingError(
                f"key file {self.path} has no audit key and one cannot be added: {error.strerror}"
            ) from None

    def _read(self) -> None:
        assert self.path is not None
        try:
            stat = self.path.stat()
            data = json.loads(self.path.read_text(encoding="utf-8"))
            keys = {int(kid): base64.b64decode(entry["key"]) for kid, entry in data["keys"].items()}
            created = {int(kid): str(entry.get("created", "")) for kid, entry in data["keys"].items()}
            current = int(data["current"])
            index_key = base64.b64decode(data["index_key"])
            audit_key = base64.b64decode(data["audit_key"]) if "audit_key" in data else b""
        except FileNotFoundError:
            raise KeyRingError(
                f"key file {self.path} not found (create it with `custinfo init`, or set CUSTINFO_KEY_FILE)"
            ) from None
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise KeyRingError(f"key file {self.path} is unreadable or malformed: {error}") from None
        if (
            current not in keys
            or any(len(k) != KEY_BYTES for k in keys.values())
            or len(index_key) != KEY_BYTES
            or len(audit_key) not in (0, KEY_BYTES)
        ):
            raise KeyRingError(f"key file {self.path} is malformed: bad key length or current key id")
        self.keys, self.created, self.current, self.index_key = keys, created, current, index_key
        self.audit_key = audit_key
        self._stamp = (stat.st_mtime_ns, stat.st_size)

    def save(self) -> None:
        """Write the ring atomically with owner-only permissions."""
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "format": FORMAT,
            "current": self.current,
            "keys": {
                str(kid): {"key": base64.b64encode(key).decode(), "created": self.created.get(kid, "")}
                for kid, key in sorted(self.keys.items())
            },
            "index_key": base64.b64encode(self.index_key).decode(),
            "audit_key": base64.b64encode(self.audit_key).decode(),
        }
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.path)
        stat = self.path.stat()
        self._stamp = (stat.st_mtime_ns, stat.st_size)

    def add_key(self) -> int:
        """Add a new encryption key and make it current; returns its id (caller saves)."""
        key_id = max(self.keys) + 1
        if key_id > 0xFFFF:
            raise KeyRingError("key ids are exhausted")
        self.keys[key_id] = secrets.token_bytes(KEY_BYTES)
        self.created[key_id] = _now()
        self.current = key_id
        return key_id

    def refresh(self, force: bool = False) -> None:
        """Re-read the file if another process (keys rotate) changed it."""
        if self.path is None:
            return
        now = time.monotonic()
        if not force and now - self._checked < RELOAD_SECONDS:
            return
        with self._lock:
            self._checked = now
            try:
                stat = self.path.stat()
            except OSError:
                return
            if (stat.st_mtime_ns, stat.st_size) != self._stamp:
                self._read()

    def encrypt(self, plaintext: str, context: str) -> str:
        """Seal `plaintext` with the current key, bound to `context` ("table.column")."""
        self.refresh()
        key_id = self.current
        head = header(key_id)
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = AESGCM(self.keys[key_id]).encrypt(nonce, plaintext.encode("utf-8"), head + context.encode())
        return base64.b64encode(head + nonce + sealed).decode("ascii")

    def key_id_of(self, stored: str) -> int:
        """The key id a stored ciphertext was sealed with."""
        raw = _decode(stored)
        return int.from_bytes(raw[1:HEADER_BYTES], "big")

    def decrypt(self, stored: str, context: str) -> str:
        """Open a stored ciphertext; KeyRingError names the problem (never the value)."""
        raw = _decode(stored)
        key_id = int.from_bytes(raw[1:HEADER_BYTES], "big")
        key = self.keys.get(key_id)
        if key is None:
            self.refresh(force=True)
            key = self.keys.get(key_id)
            if key is None:
                raise KeyRingError(f"{context}: value sealed with key id {key_id}, which the key ring lacks")
        nonce = raw[HEADER_BYTES : HEADER_BYTES + NONCE_BYTES]
        try:
            plain = AESGCM(key).decrypt(
                nonce, raw[HEADER_BYTES + NONCE_BYTES :], raw[:HEADER_BYTES] + context.encode()
            )
        except InvalidTag:
            raise KeyRingError(
                f"{context}: value does not authenticate under key id {key_id} (wrong key, or moved from another column)"
            ) from None
        return plain.decode("utf-8")

    def blind_index(self, value: str, context: str) -> str:
        """Keyed HMAC-SHA256 of a normalised value, for exact lookups and uniqueness (hex)."""
        message = context.encode() + b"\x00" + value.encode("utf-8")
        return hmac.new(self.index_key, message, hashlib.sha256).hexdigest()

    def audit_mac(self, message: bytes) -> str:
        """Keyed HMAC-SHA256 (hex) that seals one audit-log entry."""
        if len(self.audit_key) != KEY_BYTES:
            raise KeyRingError("the key ring holds no audit key (load it from its file)")
        return hmac.new(self.audit_key, message, hashlib.sha256).hexdigest()


def _decode(stored: str) -> bytes:
    try:
        raw = base64.b64decode(stored, validate=True)
    except (ValueError, TypeError):
        raise KeyRingError("stored value is not a ciphertext (not base64)") from None
    if len(raw) < HEADER_BYTES + NONCE_BYTES + 16 or raw[0] != VERSION:
        raise KeyRingError("stored value is not a ciphertext of a known version")
    return raw


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def ensure_key_file(path: Path) -> bool:
    """Create a new key ring file (mode 0600) if it is missing; True when created."""
    if path.exists():
        return False
    KeyRing.generate(path).save()
    return True


_active: KeyRing | None = None
_active_lock = threading.Lock()


def install(ring: KeyRing | None) -> None:
    """Make `ring` the process-wide key ring used by encrypted columns."""
    global _active
    with _active_lock:
        _active = ring


def install_from(path: Path) -> KeyRing:
    """Load the key ring at `path` and make it the process-wide ring."""
    ring = KeyRing.load(path)
    install(ring)
    return ring


def active() -> KeyRing:
    """The process-wide key ring; loaded from the configured key file on first use."""
    global _active
    if _active is None:
        with _active_lock:
            if _active is None:
                _active = KeyRing.load(Settings().effective_key_file)
    return _active


@contextmanager
def using(ring: KeyRing) -> Iterator[KeyRing]:
    """Temporarily make `ring` the process-wide ring (tests, tools)."""
    global _active
    previous = _active
    install(ring)
    try:
        yield ring
    finally:
        install(previous)


def configure(settings: Settings, create: bool = False) -> KeyRing:
    """Load the configured key ring and make it process-wide.

    `create` (init, demo) makes a missing file; otherwise a missing file is created only outside
    production — in production the process refuses to start without its key ring.
    """
    path = settings.effective_key_file
    if not path.exists():
        if settings.environment == "production" and not create:
            raise KeyRingError(f"refusing to start: key file {path} not found (CUSTINFO_KEY_FILE)")
        ensure_key_file(path)
    return install_from(path)
