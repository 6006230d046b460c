"""Controlled vocabularies: canonical codes, labels, synonyms (pure, no database)."""

from __future__ import annotations

import pytest

from custinfo.customers.identifiers import InvalidValue
from custinfo.customers.vocabulary import (
    Term,
    Vocabulary,
    company_size_band,
    load_default_vocabularies,
    vocabularies_from_mapping,
)

FIELDS = (
    "industry",
    "occupation",
    "gender",
    "customer_type",
    "source_channel",
    "purpose",
    "core_need",
    "urgency",
    "company_size",
    "revenue_band",
    "interaction_kind",
    "interaction_channel",
    "contract_status",
    "provided_by",
)


def vocabulary(field: str) -> Vocabulary:
    return load_default_vocabularies()[field]


def test_every_field_has_a_vocabulary() -> None:
    assert set(load_default_vocabularies()) == set(FIELDS)


def test_defaults_are_loaded_once() -> None:
    assert load_default_vocabularies() is load_default_vocabularies()


@pytest.mark.parametrize("field", FIELDS)
def test_codes_and_labels_are_unique(field: str) -> None:
    terms = vocabulary(field).terms
    assert terms
    for attribute in ("code", "zh", "en"):
        values = [getattr(term, attribute) for term in terms]
        assert len(values) == len(set(values)), attribute
        assert all(value and value == value.strip() for value in values)


@pytest.mark.parametrize("field", FIELDS)
def test_every_synonym_maps_to_an_existing_code(field: str) -> None:
    vocab = vocabulary(field)
    codes = set(vocab.codes)
    for synonym, code in vocab.synonyms.items():
        assert code in codes, synonym
        assert vocab.canonical(synonym) == code, synonym


@pytest.mark.parametrize("field", FIELDS)
def test_codes_and_both_labels_map_to_the_code(field: str) -> None:
    vocab = vocabulary(field)
    for term in vocab.terms:
        assert vocab.canonical(term.code) == term.code
        assert vocab.canonical(term.zh) == term.code
        assert vocab.canonical(term.en) == term.code
        assert vocab.canonical(term.en.upper()) == term.code
        assert vocab.canonical(f"  {term.en.lower()}  ") == term.code


@pytest.mark.parametrize(
    ("synonym", "code"),
    [
        ("生产业", "制造业"),
        ("加工业", "制造业"),
        ("制造", "制造业"),
        ("工业制造", "制造业"),
        ("软件业", "信息传输、软件和信息技术服务业"),
        ("IT", "信息传输、软件和信息技术服务业"),
        ("it", "信息传输、软件和信息技术服务业"),
        ("互联网", "信息传输、软件和信息技术服务业"),
        ("信息技术", "信息传输、软件和信息技术服务业"),
        ("零售", "批发和零售业"),
        ("批发", "批发和零售业"),
        ("商贸", "批发和零售业"),
        ("贸易", "批发和零售业"),
        ("餐饮", "住宿和餐饮业"),
        ("酒店", "住宿和餐饮业"),
        ("物流", "交通运输、仓储和邮政业"),
        ("运输", "交通运输、仓储和邮政业"),
        ("银行", "金融业"),
        ("保险", "金融业"),
        ("证券", "金融业"),
        ("房地产", "房地产业"),
        ("建筑", "建筑业"),
        ("施工", "建筑业"),
        ("医疗", "卫生和社会工作"),
        ("医院", "卫生和社会工作"),
        ("培训", "教育"),
        ("农业", "农、林、牧、渔业"),
        ("农林牧渔业", "农、林、牧、渔业"),  # enumeration commas left out
        ("信息传输，软件和信息技术服务业", "信息传输、软件和信息技术服务业"),
        ("C", "制造业"),  # GB/T 4754 section letter
        ("Manufacturing", "制造业"),
        ("manufacturing (c)", "制造业"),
        ("　制造业　", "制造业"),
    ],
)
def test_industry_synonyms(synonym: str, code: str) -> None:
    assert vocabulary("industry").canonical(synonym) == code


def test_industry_stores_the_zh_term_with_the_section_letter_in_english() -> None:
    vocab = vocabulary("industry")
    assert len(vocab.terms) == 20
    assert all(term.code == term.zh for term in vocab.terms)
    letters = [term.en[-2] for term in vocab.terms]
    assert letters == list("ABCDEFGHIJKLMNOPQRST")
    assert vocab.label("制造业", "en") == "Manufacturing (C)"
    assert vocab.label("制造业", "zh_CN") == "制造业"


@pytest.mark.parametrize(
    ("field", "written", "code"),
    [
        ("occupation", "程序员", "professional"),
        ("occupation", "工程师", "professional"),
        ("occupation", "医生", "professional"),
        ("occupation", "教师", "professional"),
        ("occupation", "专业技术人员", "professional"),
        ("occupation", "公务员", "management"),
        ("occupation", "销售员", "commerce_service"),
        ("occupation", "店员", "commerce_service"),
        ("occupation", "工人", "production"),
        ("occupation", "农民", "agriculture"),
        ("occupation", "学生", "student"),
        ("occupation", "退休", "retired"),
        ("occupation", "个体户", "self_employed"),
        ("gender", "先生", "male"),
        ("gender", "女士", "female"),
        ("gender", "M", "male"),
        ("gender", "f", "female"),
        ("gender", "男", "male"),
        ("customer_type", "代理商", "distributor"),
        ("customer_type", "分销商", "distributor"),
        ("customer_type", "终端", "end_customer"),
        ("customer_type", "直客", "end_customer"),
        ("customer_type", "End Customer", "end_customer"),
        ("customer_type", "end-customer", "end_customer"),
        ("source_channel", "纸质表单(签字)", "paper_form"),
        ("source_channel", "纸质表单（签字）", "paper_form"),
        ("source_channel", "纸质表单", "paper_form"),
        ("source_channel", "web form", "web_form"),
        ("company_size", "小型", "small"),
        ("company_size", "中型(50-200人)", "medium"),
        ("company_size", "large", "large"),
        ("revenue_band", "1000万-1亿元", "10m_100m"),
        ("urgency", "紧急", "high"),
        ("interaction_channel", "E-mail", "email"),
        ("contract_status", "履行中", "active"),
        ("provided_by", "系统采集", "system"),
    ],
)
def test_other_vocabularies(field: str, written: str, code: str) -> None:
    assert vocabulary(field).canonical(written) == code


@pytest.mark.parametrize(
    ("language", "label"),
    [("zh_CN", "经销商"), ("zh", "经销商"), ("en", "Distributor"), ("en-GB", "Distributor")],
)
def test_labels_in_both_languages(language: str, label: str) -> None:
    assert vocabulary("customer_type").label("distributor", language) == label


def test_label_of_unknown_code_is_the_code() -> None:
    assert vocabulary("gender").label("legacy", "en") == "legacy"


def test_choices_follow_the_term_order() -> None:
    assert vocabulary("urgency").choices("zh_CN") == [("low", "低"), ("medium", "中"), ("high", "高")]
    assert vocabulary("urgency").choices("en") == [("low", "Low"), ("medium", "Medium"), ("high", "High")]


@pytest.mark.parametrize(
    ("field", "value"), [("industry", "航天"), ("gender", "x"), ("urgency", ""), ("industry", "生产")]
)
def test_unknown_value_is_rejected_with_the_allowed_list(field: str, value: str) -> None:
    vocab = vocabulary(field)
    with pytest.raises(InvalidValue) as caught:
        vocab.canonical(value)
    assert caught.value.rule == "vocabulary.unknown"
    assert caught.value.params == {"allowed": ", ".join(vocab.codes)}


def test_vocabulary_refuses_synonym_to_unknown_code() -> None:
    with pytest.raises(ValueError, match="unknown code"):
        Vocabulary("gender", [Term("male", "男", "Male")], {"先生": "mister"})


def test_vocabulary_refuses_ambiguous_spellings() -> None:
    with pytest.raises(ValueError, match="both"):
        Vocabulary("x", [Term("a", "甲", "A"), Term("b", "乙", "B")], {"甲": "b"})
    with pytest.raises(ValueError, match="duplicate code"):
        Vocabulary("x", [Term("a", "甲", "A"), Term("a", "乙", "B")], {})


def test_vocabularies_from_mapping_is_the_replaceable_source() -> None:
    built = vocabularies_from_mapping(
        {"urgency": {"terms": [{"code": "now", "zh": "立即", "en": "Now"}], "synonyms": {"马上": "now"}}}
    )
    assert built["urgency"].canonical("马上") == "now"


@pytest.mark.parametrize(
    ("count", "band"),
    [
        (None, None),
        (0, "small"),
        (49, "small"),
        (50, "medium"),
        (200, "medium"),
        (201, "large"),
        (10_000, "large"),
    ],
)
def test_company_size_band(count: int | None, band: str | None) -> None:
    assert company_size_band(count) == band
    if band is not None:
        assert band in vocabulary("company_size").codes


def test_company_size_band_refuses_negative_counts() -> None:
    with pytest.raises(ValueError):
        company_size_band(-1)
