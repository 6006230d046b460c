"""Argon2id password hashing and the password policy (rules plus a zxcvbn strength estimate)."""

from __future__ import annotations

import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

_hasher = PasswordHasher()
MIN_LENGTH = 10
MAX_LENGTH = 128
# zxcvbn score 3 = about 10^8 guesses or more: "safely unguessable" against online attacks and slow
# hashes such as Argon2id; 0-2 (repeats, keyboard walks, dictionary words with a digit) are refused.
MIN_SCORE = 3
# zxcvbn's run time grows with the length; the first characters decide the estimate anyway.
ESTIMATE_CHARS = 100
# Words an attacker would try first against this product's accounts.
PRODUCT_WORDS = ("custinfo", "customer", "admin")


def hash_password(password: str) -> str:
    """Argon2id hash of a password."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches; never raises on a malformed hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    except UnicodeEncodeError:
        # A lone surrogate cannot be encoded, so no stored password can contain one.
        return False


# Passwords that pass the length and letters+digits rules yet head every leaked-password list.
COMMON_PASSWORDS = frozenset(
    {
        "password1", "password12", "password123", "password1234", "passw0rd123", "p@ssw0rd123",
        "qwerty1234", "qwerty12345", "qwerty123456", "1qaz2wsx3edc", "1q2w3e4r5t", "1q2w3e4r5t6y",
        "abc1234567", "abcd123456", "abcdef1234", "a123456789", "aa123456789", "iloveyou123",
        "welcome123", "admin12345", "admin123456", "administrator1", "letmein123", "changeme123",
        "football123", "monkey12345", "dragon12345", "sunshine123", "princess123", "woaini1314",
        "woaini520520", "zxcvbnm123", "asdfghjkl1", "qazwsxedc123", "test123456", "user123456",
        "custinfo123", "custinfo2026", "root123456", "master12345",
    }
)  # fmt: skip


def password_problems(password: str, username: str | None = None) -> list[str]:
    """Rule keys the password breaks: length, whitespace, characters, letters and digits, username, common, strength."""
    problems = []
    if len(password.strip()) < MIN_LENGTH:
        problems.append("password.too_short")
    if len(password) > MAX_LENGTH:
        problems.append("password.too_long")
    if password != password.strip():
        problems.append("password.whitespace")
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in password):
        problems.append("password.characters")
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        problems.append("password.letters_and_digits")
    lowered = password.lower()
    name = (username or "").strip()
    if name and name.lower() in lowered:
        problems.append("password.contains_username")
    if lowered in COMMON_PASSWORDS:
        problems.append("password.common")
    if not problems and strength(password, name) < MIN_SCORE:
        problems.append("password.weak")
    return problems


def strength(password: str, username: str = "") -> int:
    """zxcvbn's score 0-4 of a password, with the username and the product's words as known guesses."""
    hints = [word for word in (username, *PRODUCT_WORDS) if word]
    return int(zxcvbn(password[:ESTIMATE_CHARS], user_inputs=hints)["score"])


# A hash to verify against when the user does not exist, so timing does not reveal it.
DUMMY_HASH = _hasher.hash("not-a-real-password-0")
