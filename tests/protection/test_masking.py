"""Masking rules as properties (pure, no database)."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from custinfo.protection.catalogue import default_document
from custinfo.protection.masking import mask, mask_field

MASKS = default_document()["masks"]
digits = st.text(alphabet=string.digits, min_size=1, max_size=30)


def test_documented_examples() -> None:
    assert mask_field("13812345678", "mobile", MASKS) == "138****5678"
    assert mask_field("110105199001011232", "id_number", MASKS) == "110105********1232"
    assert mask_field("6222020200112233", "bank_account", MASKS) == "************2233"
    assert mask_field("王小明", "name", MASKS) == "王*"
    assert mask_field("上海市浦东新区张江路123号", "address", MASKS) == "上海市浦东新区****"
    assert mask_field("广东省深圳市南山区科技园1栋", "address", MASKS) == "广东省深圳市南山区****"
    assert mask_field("wang.xm@example.com", "email", MASKS) == "w***@example.com"
    assert mask_field("1990-05-17", "birth_date", MASKS) == "1990-**-**"
    assert mask_field(None, "mobile", MASKS) is None


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_mobile_keeps_first_three_and_last_four(mobile: str) -> None:
    masked = mask_field(mobile, "mobile", MASKS)
    assert masked == mobile[:3] + "****" + mobile[-4:]


@given(st.from_regex(r"[0-9]{17}[0-9X]", fullmatch=True))
def test_id_number_keeps_first_six_and_last_four(id_number: str) -> None:
    masked = mask_field(id_number, "id_number", MASKS)
    assert masked is not None
    assert masked[:6] == id_number[:6] and masked[-4:] == id_number[-4:] and masked[6:-4] == "*" * 8


@given(digits, st.integers(0, 8), st.integers(0, 8))
def test_a_mask_never_shows_more_than_it_keeps_and_always_hides_something(
    value: str, first: int, last: int
) -> None:
    masked = mask(value, {"keep_first": first, "keep_last": last, "fill": "*"})
    assert masked is not None and masked != value
    shown = [ch for ch in masked if ch != "*"]
    assert len(shown) <= min(first + last, len(value) - 1)
    assert "*" in masked


@given(st.text(min_size=1, max_size=40), st.sampled_from(sorted(MASKS)))
def test_every_default_rule_hides_something(value: str, kind: str) -> None:
    masked = mask_field(value, kind, MASKS)
    assert (masked is not None and masked != value) or value == "*" * len(value)


@given(st.emails())
def test_email_keeps_only_the_domain_and_one_character(email: str) -> None:
    masked = mask_field(email, "email", MASKS)
    local, _, domain = email.partition("@")
    kept = local[:1] if len(local) > 1 else ""  # a one-character local part is hidden entirely
    assert masked == kept + "***@" + domain
