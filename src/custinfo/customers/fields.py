"""Field specs of customers, contacts and needs: parsers, kinds, required fields, levels."""

from __future__ import annotations

from datetime import date
from typing import Any

from custinfo.core import clock
from custinfo.core.fields import FieldSpec, Parser, RuleViolation, boolean, external_id, integer, text
from custinfo.customers import identifiers
from custinfo.customers.vocabulary import current_vocabularies

KINDS = ("individual", "company")
INDIVIDUAL = frozenset({"individual"})
COMPANY = frozenset({"company"})
BOTH = frozenset(KINDS)


def vocab(field: str) -> Parser:
    """Parser mapping codes, labels and synonyms onto the field's canonical code."""

    def parse(value: Any) -> str:
        try:
            return current_vocabularies()[field].canonical(str(value))
        except identifiers.InvalidValue as exc:
            raise RuleViolation(exc.rule, **exc.params) from None

    return parse


def _wrap(function: Any) -> Parser:
    def parse(value: Any) -> Any:
        try:
            return function(value)
        except identifiers.InvalidValue as exc:
            raise RuleViolation(exc.rule, **exc.params) from None

    return parse


def past_date(value: Any) -> date:
    """An ISO date that is not in the future."""
    parsed = _wrap(identifiers.parse_iso_date)(value)
    if parsed > clock.today():
        raise RuleViolation("date.future")
    return parsed


mobile = _wrap(identifiers.normalize_mobile)
email = _wrap(identifiers.normalize_email)
iso_date = _wrap(identifiers.parse_iso_date)
money = _wrap(identifiers.parse_money)


def id_number(value: Any) -> str:
    """Resident ID number with check digit and birth date validated."""
    return _wrap(identifiers.validate_id_number)(str(value).upper())


credit_code = _wrap(identifiers.validate_credit_code)


def bank_account(value: Any) -> str:
    """Bank account number: 12–30 digits, spaces and dashes ignored (no Luhn: many accounts have none)."""
    digits = str(value).replace(" ", "").replace("-", "")
    if not digits.isdigit() or not 12 <= len(digits) <= 30:
        raise RuleViolation("bank_account.format", min=12, max=30)
    return digits


CUSTOMER_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("external_id", external_id, in_forms=False),
    FieldSpec("name", text(200), required_for=BOTH),
    FieldSpec("owner", text(64)),
    FieldSpec("source_channel", vocab("source_channel"), required_for=BOTH),
    FieldSpec("purpose", vocab("purpose"), required_for=BOTH),
    FieldSpec("mobile", mobile),
    FieldSpec("email", email),
    FieldSpec("region", text(50)),
    FieldSpec("nickname", text(100), INDIVIDUAL),
    FieldSpec("gender", vocab("gender"), INDIVIDUAL),
    FieldSpec("birth_date", past_date, INDIVIDUAL, level="L3"),
    FieldSpec("id_number", id_number, INDIVIDUAL, level="L3"),
    FieldSpec("address", text(300), INDIVIDUAL, level="L3"),
    FieldSpec("occupation", vocab("occupation"), INDIVIDUAL),
    FieldSpec("credit_code", credit_code, COMPANY),
    FieldSpec("legal_representative", text(100), COMPANY),
    FieldSpec("registered_address", text(300), COMPANY),
    FieldSpec("industry", vocab("industry"), COMPANY),
    FieldSpec("employee_count", integer(0, 10_000_000), COMPANY),
    FieldSpec("revenue_band", vocab("revenue_band"), COMPANY),
    FieldSpec("founded_on", past_date, COMPANY),
    FieldSpec("customer_type", vocab("customer_type"), COMPANY),
    FieldSpec("bank_account", bank_account, level="L3"),
)

CONTACT_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("name", text(100), required_for=frozenset({"*"})),
    FieldSpec("title", text(100)),
    FieldSpec("department", text(100)),
    FieldSpec("mobile", mobile),
    FieldSpec("email", email),
    FieldSpec("in_post", boolean),
    FieldSpec("left_on", past_date),
)

NEED_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("core_need", vocab("core_need"), required_for=frozenset({"*"}), level="L2"),
    FieldSpec("urgency", vocab("urgency"), required_for=frozenset({"*"}), level="L2"),
    FieldSpec("budget_min", money, level="L2"),
    FieldSpec("budget_max", money, level="L2"),
    FieldSpec("description", text(2000), level="L2"),
)
