"""Controlled vocabularies of coded fields: terms, labels in both languages, synonyms mapped on entry.

The defaults ship as `custinfo/defaults/vocabulary.json` and seed the database,
where a data steward edits them; every edit is a new version
(custinfo.customers.vocabularies). Validation and rendering read
`current_vocabularies()`: the current versions, cached in the process and
re-installed by `customers.vocabularies.service.refresh` when the stored
versions change. Callers only use `Vocabulary.canonical`, `.label` and `.choices`.
A retired term keeps its label (old records still show it) but is no longer
offered or accepted on entry.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from functools import cache
from typing import Any, Protocol

from custinfo import defaults as shipped
from custinfo.customers.identifiers import InvalidValue, normalize_text

__all__ = [
    "AmbiguousSpelling",
    "DefaultVocabularySource",
    "Term",
    "Vocabulary",
    "VocabularySource",
    "company_size_band",
    "current_vocabularies",
    "forget_installed_vocabularies",
    "install_vocabularies",
    "installed_stamp",
    "load_default_vocabularies",
    "vocabularies_from_mapping",
]

# Spelling noise that never distinguishes two terms: blanks, separators, dash and enumeration-comma variants.
_NOISE = re.compile(r"[\s_\-‐‑–—~、,·・]")
_TRAILING_NOTE = re.compile(r"\s*\([^()]*\)$")


def _key(text: str) -> str:
    return _NOISE.sub("", normalize_text(text).casefold())


class AmbiguousSpelling(ValueError):
    """A spelling (label or synonym) that would map onto two different terms."""

    def __init__(self, field: str, spelling: str, first: str, second: str) -> None:
        super().__init__(f"{field}: {spelling!r} would mean both {first!r} and {second!r}")
        self.spelling, self.first, self.second = spelling, first, second


@dataclass(frozen=True)
class Term:
    """One allowed value: the stored code and its labels."""

    code: str
    zh: str
    en: str
    retired: bool = False


@dataclass(frozen=True)
class Vocabulary:
    """The allowed values of one coded field and the synonyms that map onto them."""

    field: str
    terms: list[Term]
    synonyms: dict[str, str]
    _index: dict[str, str] = dataclass_field(init=False, repr=False, compare=False)
    _terms_by_code: dict[str, Term] = dataclass_field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_code: dict[str, Term] = {}
        for term in self.terms:
            if term.code in by_code:
                raise ValueError(f"{self.field}: duplicate code {term.code!r}")
            by_code[term.code] = term
        index: dict[str, str] = {}

        def add(spelling: str, code: str) -> None:
            key = _key(spelling)
            if index.setdefault(key, code) != code:
                raise AmbiguousSpelling(self.field, spelling, index[key], code)

        for term in self.terms:
            for spelling in (term.code, term.zh, term.en):
                add(spelling, term.code)
        for synonym, code in self.synonyms.items():
            if code not in by_code:
                raise ValueError(f"{self.field}: synonym {synonym!r} maps to unknown code {code!r}")
            add(synonym, code)
        # A label without its trailing note ("小型(<50人)" → "小型", "Manufacturing (C)" → "Manufacturing")
        # is what people type; it yields to any explicit spelling.
        for term in self.terms:
            for label in (term.zh, term.en):
                index.setdefault(_key(_TRAILING_NOTE.sub("", label)), term.code)
        index.pop("", None)
        object.__setattr__(self, "_index", index)
        object.__setattr__(self, "_terms_by_code", by_code)

    @property
    def codes(self) -> list[str]:
        """The codes accepted on entry (retired ones left out), in display order."""
        return [term.code for term in self.terms if not term.retired]

    def canonical(self, value: str) -> str:
        """The stored code for a code, zh/en label (any case) or synonym; InvalidValue otherwise."""
        code = self._index.get(_key(value))
        if code is None:
            raise InvalidValue("vocabulary.unknown", allowed=", ".join(self.codes))
        if self._terms_by_code[code].retired:
            raise InvalidValue("vocabulary.retired", value=self.label(code, "zh"))
        return code

    def label(self, code: str, language: str) -> str:
        """The zh or en label of a code (language "en…" → en, else zh); an unknown code is returned as is."""
        term = self._terms_by_code.get(code)
        if term is None:
            return code
        return term.en if language.lower().startswith("en") else term.zh

    def choices(self, language: str) -> list[tuple[str, str]]:
        """(code, label) pairs for a select list."""
        return [(term.code, self.label(term.code, language)) for term in self.terms if not term.retired]


class VocabularySource(Protocol):
    """Anything that yields the vocabularies by field name (the JSON defaults, a database table)."""

    def load(self) -> dict[str, Vocabulary]:
        """Every vocabulary, keyed by field name."""
        ...


def vocabularies_from_mapping(data: Mapping[str, Any]) -> dict[str, Vocabulary]:
    """Build vocabularies from `{field: {"terms": [{code, zh, en}], "synonyms": {synonym: code}}}`."""
    return {
        name: Vocabulary(
            field=name,
            terms=[
                Term(code=t["code"], zh=t["zh"], en=t["en"], retired=bool(t.get("retired", False)))
                for t in spec["terms"]
            ],
            synonyms=dict(spec.get("synonyms", {})),
        )
        for name, spec in data.items()
    }


class DefaultVocabularySource:
    """The vocabularies shipped in `custinfo/defaults/vocabulary.json`."""

    def load(self) -> dict[str, Vocabulary]:
        """Every default vocabulary, keyed by field name."""
        return vocabularies_from_mapping(shipped.load("vocabulary.json"))


@cache
def load_default_vocabularies() -> dict[str, Vocabulary]:
    """The shipped default vocabularies (parsed once per process)."""
    return DefaultVocabularySource().load()


# The current vocabularies of this process and the stamp of the stored versions they were built from.
_installed: tuple[Any, dict[str, Vocabulary]] | None = None


def install_vocabularies(stamp: Any, stored: Mapping[str, Any]) -> dict[str, Vocabulary]:
    """Make the shipped vocabularies overlaid with the stored current versions the process's current ones."""
    global _installed
    current = {**load_default_vocabularies(), **vocabularies_from_mapping(stored)}
    _installed = (stamp, current)
    return current


def installed_stamp() -> Any:
    """The stamp of the stored versions the current vocabularies were built from (None: the shipped ones)."""
    return None if _installed is None else _installed[0]


def forget_installed_vocabularies() -> None:
    """Fall back to the shipped vocabularies until the next refresh (tests, a restored database)."""
    global _installed
    _installed = None


def current_vocabularies() -> dict[str, Vocabulary]:
    """The vocabularies in force: the current stored versions, else the shipped defaults."""
    return load_default_vocabularies() if _installed is None else _installed[1]


def company_size_band(employee_count: int | None) -> str | None:
    """The company_size code for a head count: <50 small, 50–200 medium, >200 large."""
    if employee_count is None:
        return None
    if employee_count < 0:
        raise ValueError(f"employee_count must not be negative, got {employee_count}")
    if employee_count < 50:
        return "small"
    if employee_count <= 200:
        return "medium"
    return "large"
