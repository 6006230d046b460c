"""Identifier validation and input standardisation (pure, no database)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from stdnum.cn import uscc
from stdnum.iso7064 import mod_11_2

from custinfo.core import clock
from custinfo.customers.identifiers import (
    CREDIT_CODE_ALPHABET,
    MONEY_MAX,
    PROVINCE_CODES,
    InvalidValue,
    birth_date_from_id_number,
    gender_from_id_number,
    make_credit_code,
    make_id_number,
    normalize_email,
    normalize_mobile,
    normalize_text,
    parse_iso_date,
    parse_money,
    validate_credit_code,
    validate_id_number,
)


def rule_of(function: Callable[[Any], object], value: object) -> str:
    with pytest.raises(InvalidValue) as caught:
        function(value)
    return caught.value.rule


# --- normalize_text ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  ＡＢＣ　１２３  ", "ABC 123"),
        ("王\t\n  小明", "王 小明"),
        ("制造业", "制造业"),
        ("（有限公司）", "(有限公司)"),
        ("", ""),
        ("　", ""),
    ],
)
def test_normalize_text_examples(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


@given(st.text())
def test_normalize_text_is_idempotent(value: str) -> None:
    once = normalize_text(value)
    assert normalize_text(once) == once
    assert once == once.strip()
    assert "  " not in once


@given(st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E)))
def test_full_width_ascii_becomes_half_width(ascii_text: str) -> None:
    full_width = "".join(chr(ord(char) + 0xFEE0) for char in ascii_text)
    assert normalize_text(full_width) == ascii_text
    assert normalize_text("\u3000" + full_width + "\u3000\u3000x") == (ascii_text + " x").strip()


# --- resident ID number -----------------------------------------------------------------------------

STANDARD_EXAMPLE = "11010519491231002X"  # the worked example of GB 11643-1999


def id_body_with_check(body17: str) -> str:
    return body17 + mod_11_2.calc_check_digit(body17)


def test_id_number_standard_example_with_x_check_digit() -> None:
    assert validate_id_number(STANDARD_EXAMPLE) == STANDARD_EXAMPLE
    assert validate_id_number(STANDARD_EXAMPLE.lower()) == STANDARD_EXAMPLE
    assert birth_date_from_id_number(STANDARD_EXAMPLE) == date(1949, 12, 31)
    assert gender_from_id_number(STANDARD_EXAMPLE) == "female"


@pytest.mark.parametrize(
    "written",
    [
        "11010519491231002x",
        " 110105 19491231 002X ",
        "110105-19491231-002X",
        "１１０１０５１９４９１２３１００２Ｘ",
    ],
)
def test_id_number_spacing_case_and_full_width_are_normalised(written: str) -> None:
    assert validate_id_number(written) == STANDARD_EXAMPLE


def test_digits_of_other_scripts_are_not_digits() -> None:
    arabic_indic = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
    assert rule_of(validate_id_number, STANDARD_EXAMPLE.translate(arabic_indic)) == "id_number.format"
    assert rule_of(validate_credit_code, "91110000600037341L".translate(arabic_indic)) == "credit_code.format"
    assert rule_of(normalize_mobile, "13800138000".translate(arabic_indic)) == "mobile.invalid"
    assert rule_of(parse_iso_date, "2024-03-05".translate(arabic_indic)) == "date.format"
    assert rule_of(parse_money, "12.50".translate(arabic_indic)) == "money.format"


def test_id_number_from_newer_district_is_accepted() -> None:
    # 440309 (Longhua District, Shenzhen) dates from 2016; people born in the 1960s are re-registered under it.
    number = make_id_number("440309", date(1965, 3, 12), 123)
    assert number == "440309196503121238"
    assert validate_id_number(number) == number
    assert gender_from_id_number(number) == "male"
    assert birth_date_from_id_number(number) == date(1965, 3, 12)


def test_id_number_area_code_outside_any_table_is_accepted() -> None:
    number = make_id_number("119999", date(1990, 1, 1), 1)
    assert validate_id_number(number) == number


@pytest.mark.parametrize(
    "value",
    [
        "",
        "11010519491231002",  # 17 characters
        "11010519491231002X1",  # 19 characters
        "1101051949123100XX",  # X not in last place
        "11010519491231002Y",
        "A1010519491231002X",
        "110105194912310",  # the old 15-digit form is not accepted
    ],
)
def test_id_number_format_rule(value: str) -> None:
    assert rule_of(validate_id_number, value) == "id_number.format"


@pytest.mark.parametrize(
    "province",
    [
        "00",
        "10",
        "16",
        "20",
        "24",
        "30",
        "38",
        "40",
        "47",
        "49",
        "55",
        "60",
        "66",
        "70",
        "72",
        "80",
        "84",
        "99",
    ],
)
def test_id_number_region_rule(province: str) -> None:
    number = make_id_number(province + "0101", date(1990, 1, 1), 10)
    assert rule_of(validate_id_number, number) == "id_number.region"


@pytest.mark.parametrize("province", sorted(PROVINCE_CODES))
def test_every_province_code_is_accepted(province: str) -> None:
    number = make_id_number(province + "0000", date(1990, 6, 15), 42)
    assert validate_id_number(number) == number


@pytest.mark.parametrize(
    "birth",
    ["19900230", "19901301", "19900001", "19900100", "19000229", "20230229", "18991231", "18800101"],
)
def test_id_number_birth_date_rule(birth: str) -> None:
    number = id_body_with_check(f"110105{birth}001")
    assert rule_of(validate_id_number, number) == "id_number.birth_date"


def test_id_number_birth_date_in_the_future_is_rejected() -> None:
    # "the future" starts tomorrow in the configured zone, not by the server's (UTC) calendar
    number = make_id_number("110105", clock.today() + timedelta(days=1), 1)
    assert rule_of(validate_id_number, number) == "id_number.birth_date"


def test_id_number_birth_date_boundaries_are_accepted() -> None:
    for birth in (date(1900, 1, 1), date(2000, 2, 29), date.today()):
        number = make_id_number("310101", birth, 7)
        assert birth_date_from_id_number(number) == birth


def test_id_number_check_digit_rule() -> None:
    assert rule_of(validate_id_number, "110105194912310021") == "id_number.check_digit"
    assert rule_of(validate_id_number, "440309196503121230") == "id_number.check_digit"


def test_id_number_gender_from_17th_digit() -> None:
    assert gender_from_id_number(make_id_number("110105", date(1980, 1, 1), 1)) == "male"
    assert gender_from_id_number(make_id_number("110105", date(1980, 1, 1), 2)) == "female"


def test_make_id_number_refuses_bad_parts() -> None:
    with pytest.raises(ValueError):
        make_id_number("11010", date(1980, 1, 1), 1)
    with pytest.raises(ValueError):
        make_id_number("110105", date(1980, 1, 1), 1000)


regions = st.builds(
    lambda province, rest: province + rest,
    st.sampled_from(sorted(PROVINCE_CODES)),
    st.text(alphabet="0123456789", min_size=4, max_size=4),
)
births = st.dates(min_value=date(1900, 1, 1), max_value=date.today())
sequences = st.integers(min_value=0, max_value=999)


@given(regions, births, sequences)
def test_make_id_number_round_trips(region: str, birth: date, seq: int) -> None:
    number = make_id_number(region, birth, seq)
    assert validate_id_number(number) == number
    assert birth_date_from_id_number(number) == birth
    assert gender_from_id_number(number) == ("male" if seq % 2 else "female")


@given(regions, births, sequences, st.integers(min_value=0, max_value=17), st.sampled_from("0123456789X"))
def test_id_number_single_substitution_is_rejected(
    region: str, birth: date, seq: int, position: int, replacement: str
) -> None:
    number = make_id_number(region, birth, seq)
    assume(number[position] != replacement)
    with pytest.raises(InvalidValue):
        validate_id_number(number[:position] + replacement + number[position + 1 :])


def test_id_number_every_single_digit_substitution_changes_check() -> None:
    # MOD 11-2 weights are all non-zero modulo the prime 11, so any one substituted digit breaks the check.
    for position in range(17):
        for digit in "0123456789":
            if digit == STANDARD_EXAMPLE[position]:
                continue
            body = STANDARD_EXAMPLE[:position] + digit + STANDARD_EXAMPLE[position + 1 : 17]
            assert mod_11_2.calc_check_digit(body) != "X"


# --- unified social credit code ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "91350100M000100Y43",
        "91110000600037341L",
        "91440300MA5FUYRT33",
        "53100000500021676K",
    ],
)
def test_credit_code_known_valid(code: str) -> None:
    assert validate_credit_code(code) == code
    assert validate_credit_code(code.lower()) == code
    assert validate_credit_code(f" {code[:2]} {code[2:8]} {code[8:17]} {code[17]} ") == code


def test_credit_code_check_character_worked_by_hand() -> None:
    body = "A1110000MA0000001"
    # alphabet indexes: A=10, 1, 1, 1, 0, 0, 0, 0, M=21, A=10, 0, 0, 0, 0, 0, 0, 1
    # weights 3^(i-1) mod 31: 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28
    total = 10 * 1 + 1 * 3 + 1 * 9 + 1 * 27 + 21 * 20 + 10 * 29 + 1 * 28
    assert total == 787
    assert (31 - total % 31) % 31 == 19  # index 19 is "K" (I and O are skipped)
    assert make_credit_code(body) == "A1110000MA0000001K"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("A1110000MA0000001", "A1110000MA0000001K"),
        ("N2110105MF1234567", "N2110105MF1234567G"),
        ("Y1440300MA5DXXXX1", "Y1440300MA5DXXXX14"),
        ("91440300MA5FUYRT3", "91440300MA5FUYRT33"),
    ],
)
def test_letter_led_credit_codes_are_accepted(body: str, code: str) -> None:
    assert make_credit_code(body) == code
    assert make_credit_code(body.lower()) == code
    assert validate_credit_code(code) == code


def test_stdnum_rejects_letter_led_codes_that_we_accept() -> None:
    code = make_credit_code("N2110105MF1234567")
    assert not uscc.is_valid(code)
    assert validate_credit_code(code) == code


@pytest.mark.parametrize(
    "value",
    [
        "",
        "91350100M000100Y4",  # 17 characters
        "91350100M000100Y431",  # 19 characters
        "91350100M000100I43",  # I is not in the alphabet
        "91350100O000100Y43",
        "91350100S000100Y43",
        "91350100V000100Y43",
        "91350100Z000100Y43",
        "9135A100M000100Y43",  # positions 3–8 must be digits
        "91350100M000100Y4Z",
        "91350100M000100Y4*",
    ],
)
def test_credit_code_format_rule(value: str) -> None:
    assert rule_of(validate_credit_code, value) == "credit_code.format"


@pytest.mark.parametrize("value", ["91350100M000100Y44", "91110000600037341M", "A1110000MA00000010"])
def test_credit_code_check_char_rule(value: str) -> None:
    assert rule_of(validate_credit_code, value) == "credit_code.check_char"


def test_make_credit_code_refuses_bad_bodies() -> None:
    for body in ("9135010", "9135A100M000100Y4", "91350100M000100I4", "91350100M000100Y43"):
        with pytest.raises(ValueError):
            make_credit_code(body)


alphabet_chars = st.sampled_from(CREDIT_CODE_ALPHABET)
digit_led_bodies = st.builds(
    lambda digits, rest: digits + rest,
    st.text(alphabet="0123456789", min_size=8, max_size=8),
    st.text(alphabet=CREDIT_CODE_ALPHABET, min_size=9, max_size=9),
)
any_bodies = st.builds(
    lambda head, digits, rest: head + digits + rest,
    st.text(alphabet=CREDIT_CODE_ALPHABET, min_size=2, max_size=2),
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    st.text(alphabet=CREDIT_CODE_ALPHABET, min_size=9, max_size=9),
)


@given(digit_led_bodies, alphabet_chars, st.booleans())
def test_credit_code_agrees_with_stdnum_on_digit_led_codes(
    body: str, last: str, use_right_check: bool
) -> None:
    code = make_credit_code(body) if use_right_check else body + last
    try:
        ours = validate_credit_code(code) == code
    except InvalidValue:
        ours = False
    assert ours == uscc.is_valid(code)


@given(any_bodies)
def test_make_credit_code_matches_stdnum_check_character(body: str) -> None:
    code = make_credit_code(body)
    assert code[-1] == uscc.calc_check_digit(body)
    assert validate_credit_code(code) == code


@given(any_bodies, st.integers(min_value=0, max_value=17), alphabet_chars)
def test_credit_code_single_substitution_is_rejected(body: str, position: int, replacement: str) -> None:
    code = make_credit_code(body)
    assume(code[position] != replacement)
    with pytest.raises(InvalidValue):
        validate_credit_code(code[:position] + replacement + code[position + 1 :])


# --- mobile -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "13800138000",
        "+86 138 0013 8000",
        "+86-138-0013-8000",
        "138-0013-8000",
        "138 0013 8000",
        "(+86) 13800138000",
        "8613800138000",
        "0086 138 0013 8000",
        "１３８００１３８０００",
        "＋８６　１３８－００１３－８０００",
        "  13800138000  ",
    ],
)
def test_mobile_variants_normalise_to_eleven_digits(written: str) -> None:
    assert normalize_mobile(written) == "13800138000"


def test_mobile_from_a_spreadsheet_integer() -> None:
    assert normalize_mobile(13800138000) == "13800138000"


@pytest.mark.parametrize(
    ("function", "rule"),
    [
        (validate_id_number, "id_number.format"),
        (validate_credit_code, "credit_code.format"),
        (normalize_mobile, "mobile.invalid"),
        (normalize_email, "email.invalid"),
    ],
)
def test_non_text_input_breaks_the_format_rule(function: Callable[[Any], object], rule: str) -> None:
    for value in (None, 1.5, b"13800138000", True):
        assert rule_of(function, value) == rule


@pytest.mark.parametrize("number", ["19912345678", "16612345678", "17012345678", "15012345678"])
def test_mobile_other_prefixes(number: str) -> None:
    assert normalize_mobile(number) == number


@pytest.mark.parametrize(
    "value",
    [
        "",
        "138001380001",  # 12 digits
        "1380013800",  # 10 digits
        "12345678901",  # no such mobile prefix
        "010-12345678",  # Beijing landline
        "01012345678",
        "0755-8888 8888",  # Shenzhen landline
        "+86 10 1234 5678",
        "+852 9123 4567",  # Hong Kong mobile
        "+1 650 253 0000",
        "138abcd8000",
        "13800138000 ext 12",
        "10086",
    ],
)
def test_mobile_rejections(value: str) -> None:
    assert rule_of(normalize_mobile, value) == "mobile.invalid"


# --- email ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("zhang.san@example.com", "zhang.san@example.com"),
        ("  Zhang.San@Example.COM ", "Zhang.San@example.com"),
        ("ｌｉ＠ｅｘａｍｐｌｅ．ｃｎ", "li@example.cn"),
        ("wang+crm@Mail.Example.com.cn", "wang+crm@mail.example.com.cn"),
    ],
)
def test_email_normalised(written: str, expected: str) -> None:
    assert normalize_email(written) == expected


@pytest.mark.parametrize(
    "value", ["", "zhang", "zhang@", "@example.com", "zhang san@example.com", "zhang@example", "a@@b.com"]
)
def test_email_rejections(value: str) -> None:
    assert rule_of(normalize_email, value) == "email.invalid"


# --- dates ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "2024-03-05",
        "2024-3-5",
        "2024/03/05",
        "2024/3/5",
        "2024.03.05",
        "2024.3.5",
        "2024年3月5日",
        "2024年03月05日",
        " ２０２４－０３－０５ ",
    ],
)
def test_date_formats(written: str) -> None:
    assert parse_iso_date(written) == date(2024, 3, 5)


@pytest.mark.parametrize(
    ("written", "expected"), [("2024-02-29", date(2024, 2, 29)), ("2000-02-29", date(2000, 2, 29))]
)
def test_date_leap_day_in_leap_years(written: str, expected: date) -> None:
    assert parse_iso_date(written) == expected


@pytest.mark.parametrize("written", ["2023-02-29", "1900-02-29", "2100/02/29", "2023年2月29日"])
def test_date_leap_day_in_common_years_is_rejected(written: str) -> None:
    # well formed but no such day: the message names the real rule (日期不存在), not the format
    assert rule_of(parse_iso_date, written) == "date.nonexistent"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "24-01-01",
        "20240101",
        "2024-01-01T00:00",
        "2024-01/01",
        "01/02/2024",
        "明天",
    ],
)
def test_date_rejections(value: str) -> None:
    assert rule_of(parse_iso_date, value) == "date.format"


@pytest.mark.parametrize("value", ["2024-13-01", "2024-00-10", "2024-04-31", "2026-02-30", "2026年2月30日"])
def test_dates_that_do_not_exist_are_named_so(value: str) -> None:
    assert rule_of(parse_iso_date, value) == "date.nonexistent"


def test_date_objects_pass_through() -> None:
    assert parse_iso_date(date(2024, 3, 5)) == date(2024, 3, 5)
    assert parse_iso_date(datetime(2024, 3, 5, 10, 30)) == date(2024, 3, 5)
    assert type(parse_iso_date(datetime(2024, 3, 5, 10, 30))) is date


def test_date_refuses_other_types() -> None:
    assert rule_of(parse_iso_date, 20240305) == "date.format"


# --- money ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("1,234.50", "1234.50"),
        ("12,345.60", "12345.60"),
        ("¥12,345.60", "12345.60"),
        ("￥ 100", "100.00"),
        ("１２３．４", "123.40"),
        ("0", "0.00"),
        ("0.01", "0.01"),
        (".5", "0.50"),
        ("12.500", "12.50"),  # trailing zeros lose nothing
        ("-0.00", "0.00"),
        ("+8", "8.00"),
        (15, "15.00"),
        (Decimal("7.1"), "7.10"),
        ("9,999,999,999,999,999.99", "9999999999999999.99"),
    ],
)
def test_money_accepted(written: str | int | Decimal, expected: str) -> None:
    parsed = parse_money(written)
    assert parsed == Decimal(expected)
    assert str(parsed) == expected


def test_money_rejects_floats() -> None:
    assert rule_of(parse_money, 12.5) == "money.float"
    assert rule_of(parse_money, 0.0) == "money.float"


@pytest.mark.parametrize("value", ["0.005", "1.001", "12,345.678", Decimal("0.001")])
def test_money_precision_rule(value: str | Decimal) -> None:
    assert rule_of(parse_money, value) == "money.precision"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "abc",
        "1,23.00",
        "1,2345",
        "12,34",
        "1.2.3",
        "1e5",
        "NaN",
        "¥",
        "--1",
        "-¥-1",
        "1 000 元",
        Decimal("NaN"),
        Decimal("Infinity"),
        True,
    ],
)
def test_money_format_rule(value: str | Decimal | bool) -> None:
    assert rule_of(parse_money, value) == "money.format"


@pytest.mark.parametrize("value", ["-1", "-0.01", "¥-5", "-¥5", -3, Decimal("-0.01")])
def test_money_negative_rule(value: str | int | Decimal) -> None:
    assert rule_of(parse_money, value) == "money.negative"


@pytest.mark.parametrize(
    "value", ["10,000,000,000,000,000.00", "10000000000000000", 10**17, MONEY_MAX + Decimal("0.01")]
)
def test_money_range_rule(value: str | int | Decimal) -> None:
    assert rule_of(parse_money, value) == "money.range"


@given(st.decimals(min_value=0, max_value=MONEY_MAX, places=2, allow_nan=False, allow_infinity=False))
def test_money_round_trips(amount: Decimal) -> None:
    for written in (amount, str(amount), f"{amount:,}", f"¥{amount:,.2f}"):
        parsed = parse_money(written)
        assert parsed == amount
        assert parsed.as_tuple().exponent == -2
