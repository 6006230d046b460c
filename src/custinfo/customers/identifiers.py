"""Validation and standardisation of identifiers, contact data, dates and money (pure, no database).

Every function returns the normalised value or raises `InvalidValue` naming a
dotted rule (translated elsewhere as ``rule.<name>``) and its parameters.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from stdnum.iso7064 import mod_11_2

from custinfo.core import clock

__all__ = [
    "CREDIT_CODE_ALPHABET",
    "MONEY_MAX",
    "PROVINCE_CODES",
    "InvalidValue",
    "birth_date_from_id_number",
    "gender_from_id_number",
    "make_credit_code",
    "make_id_number",
    "normalize_email",
    "normalize_mobile",
    "normalize_text",
    "parse_iso_date",
    "parse_money",
    "validate_credit_code",
    "validate_id_number",
]


class InvalidValue(ValueError):
    """A value broke a validation rule; `rule` is a dotted name, `params` fill its message."""

    def __init__(self, rule: str, **params: object) -> None:
        super().__init__(rule)
        self.rule: str = rule
        self.params: dict[str, object] = params


def normalize_text(value: str) -> str:
    """NFKC (full-width → half-width), trim, and collapse runs of whitespace to one space."""
    return " ".join(unicodedata.normalize("NFKC", value).split())


def _text(value: object, rule: str) -> str:
    # Parsers also see raw cells from imports and JSON; a non-string is a broken rule, not a crash.
    if not isinstance(value, str):
        raise InvalidValue(rule)
    return normalize_text(value)


def _compact(value: object, rule: str) -> str:
    # Identifiers are often written in groups ("110101 19900307 123X"); separators carry no meaning.
    return re.sub(r"[\s\-]", "", _text(value, rule)).upper()


# --- Resident ID number (GB 11643-1999) -------------------------------------------------------------

PROVINCE_CODES: frozenset[str] = frozenset(
    f"{code:02d}"
    for code in (
        *range(11, 16),
        *range(21, 24),
        *range(31, 38),
        *range(41, 47),
        *range(50, 55),
        *range(61, 66),
        71,
        81,
        82,
        83,
    )
)
_ID_NUMBER = re.compile(r"[0-9]{17}[0-9X]")
_EARLIEST_BIRTH = date(1900, 1, 1)


def validate_id_number(value: str) -> str:
    """Validate a mainland resident ID number (GB 11643-1999) and return it upper-cased."""
    number = _compact(value, "id_number.format")
    if not _ID_NUMBER.fullmatch(number):
        raise InvalidValue("id_number.format")
    # Only the province is checked: the area code of a district created later is still valid for
    # people born before it existed, and no code table is complete or current.
    if number[:2] not in PROVINCE_CODES:
        raise InvalidValue("id_number.region")
    try:
        birth = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidValue("id_number.birth_date") from None
    if not _EARLIEST_BIRTH <= birth <= clock.today():
        raise InvalidValue("id_number.birth_date")
    if mod_11_2.calc_check_digit(number[:17]) != number[17]:
        raise InvalidValue("id_number.check_digit")
    return number


def birth_date_from_id_number(value: str) -> date:
    """The birth date encoded in a valid resident ID number."""
    number = validate_id_number(value)
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def gender_from_id_number(value: str) -> Literal["male", "female"]:
    """The gender encoded in a valid resident ID number (17th digit odd = male)."""
    number = validate_id_number(value)
    return "male" if int(number[16]) % 2 else "female"


def make_id_number(region6: str, birth: date, seq3: int) -> str:
    """Build a resident ID number from area code, birth date and sequence, appending the check digit."""
    if not re.fullmatch(r"[0-9]{6}", region6):
        raise ValueError(f"region6 must be 6 digits, got {region6!r}")
    if not 0 <= seq3 <= 999:
        raise ValueError(f"seq3 must be 0..999, got {seq3}")
    body = f"{region6}{birth:%Y%m%d}{seq3:03d}"
    return body + mod_11_2.calc_check_digit(body)


# --- Unified social credit code (GB 32100-2015) -----------------------------------------------------

CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_INDEX = {char: index for index, char in enumerate(CREDIT_CODE_ALPHABET)}
_CREDIT_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_CREDIT_BODY = re.compile(rf"[{CREDIT_CODE_ALPHABET}]{{2}}[0-9]{{6}}[{CREDIT_CODE_ALPHABET}]{{9}}")


def _credit_check_char(body17: str) -> str:
    total = sum(_CREDIT_INDEX[char] * weight for char, weight in zip(body17, _CREDIT_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> str:
    """Validate a unified social credit code (GB 32100-2015) and return it upper-cased."""
    code = _compact(value, "credit_code.format")
    if len(code) != 18 or not _CREDIT_BODY.fullmatch(code[:17]) or code[17] not in _CREDIT_INDEX:
        raise InvalidValue("credit_code.format")
    if _credit_check_char(code[:17]) != code[17]:
        raise InvalidValue("credit_code.check_char")
    return code


def make_credit_code(body17: str) -> str:
    """Append the GB 32100 check character to the first 17 characters of a credit code."""
    body = body17.upper()
    if not _CREDIT_BODY.fullmatch(body):
        raise ValueError(f"not a credit code body: {body17!r}")
    return body + _credit_check_char(body)


# --- Mobile number and email ------------------------------------------------------------------------

# Letters are refused up front: phonenumbers would read them as a keypad vanity number or an extension.
_PHONE_CHARS = re.compile(r"[+0-9\s\-().]+")
_MOBILE_TYPES = frozenset(
    {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
)


def normalize_mobile(value: str | int) -> str:
    """A mainland China mobile number as its 11 digits (accepts +86/0086/86, spaces, dashes, full-width)."""
    # Spreadsheet cells often hold the number as an integer.
    text = (
        str(value)
        if isinstance(value, int) and not isinstance(value, bool)
        else _text(value, "mobile.invalid")
    )
    if not _PHONE_CHARS.fullmatch(text):
        raise InvalidValue("mobile.invalid")
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        raise InvalidValue("mobile.invalid") from None
    national = str(number.national_number)
    if (
        number.country_code != 86
        or not phonenumbers.is_valid_number(number)
        or phonenumbers.number_type(number) not in _MOBILE_TYPES
        or len(national) != 11
    ):
        raise InvalidValue("mobile.invalid")
    return national


def normalize_email(value: str) -> str:
    """A syntactically valid email address in normalised form, domain lower-cased (no DNS lookup)."""
    try:
        result = validate_email(_text(value, "email.invalid"), check_deliverability=False)
    except EmailNotValidError:
        raise InvalidValue("email.invalid") from None
    return f"{result.local_part}@{result.domain.lower()}"


# --- Dates and money --------------------------------------------------------------------------------

# re.ASCII: a str pattern's \d also matches digits of other scripts, which NFKC leaves alone.
_DATE_FORMS = (
    re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})", re.ASCII),
    re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})", re.ASCII),
    re.compile(r"(\d{4})\.(\d{1,2})\.(\d{1,2})", re.ASCII),
    re.compile(r"(\d{4}) ?年 ?(\d{1,2}) ?月 ?(\d{1,2}) ?日", re.ASCII),
)


def parse_iso_date(value: str | date) -> date:
    """A date from YYYY-MM-DD, or import-style YYYY/MM/DD, YYYY.MM.DD, YYYY年MM月DD日."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        raise InvalidValue("date.format")
    text = normalize_text(value)
    for form in _DATE_FORMS:
        match = form.fullmatch(text)
        if match:
            try:
                return date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                # Well formed but no such day (30 February): say so, not "wrong format".
                raise InvalidValue("date.nonexistent") from None
    raise InvalidValue("date.format")


MONEY_MAX = Decimal("9999999999999999.99")
_CENT = Decimal("0.01")
_MONEY = re.compile(
    r"(?P<sign>[+-]?)¥?(?P<sign2>[+-]?)(?P<number>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)",
    re.ASCII,
)


def parse_money(value: str | int | Decimal) -> Decimal:
    """An amount in yuan as a Decimal with exactly two places; floats are refused."""
    if isinstance(value, float):
        raise InvalidValue("money.float")
    if isinstance(value, bool):
        raise InvalidValue("money.format")
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidValue("money.format")
        amount = value
    elif isinstance(value, str):
        # NFKC turns full-width digits and ￥ into ASCII digits and ¥.
        match = _MONEY.fullmatch(normalize_text(value).replace(" ", ""))
        if not match or (match["sign"] and match["sign2"]):
            raise InvalidValue("money.format")
        amount = Decimal(match["number"].replace(",", ""))
        if "-" in (match["sign"], match["sign2"]):
            amount = -amount
    else:
        raise InvalidValue("money.format")
    if amount < 0:
        raise InvalidValue("money.negative")
    if amount > MONEY_MAX:
        raise InvalidValue("money.range", max="9,999,999,999,999,999.99")
    cents = amount.quantize(_CENT)
    # Trailing zeros ("12.500") are harmless; a third significant decimal place would be lost.
    if cents != amount:
        raise InvalidValue("money.precision")
    return abs(cents)  # abs() turns a "-0.00" into "0.00"
