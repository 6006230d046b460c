"""Argon2id password hashing and the password policy."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
MIN_LENGTH = 10


def hash_password(password: str) -> str:
    """Argon2id hash of a password."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches; never raises on a malformed hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_problems(password: str) -> list[str]:
    """Rule keys the password breaks (length, and at least letters and digits)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append("password.too_short")
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        problems.append("password.letters_and_digits")
    return problems


# A hash to verify against when the user does not exist, so timing does not reveal it.
DUMMY_HASH = _hasher.hash("not-a-real-password-0")
