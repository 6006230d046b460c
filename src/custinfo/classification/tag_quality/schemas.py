"""API shape of one tag's quality figures (the service builds it, the report lists it)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class TagQualityOut(BaseModel):
    """Quality figures of one tag."""

    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    name_en: str
    category: str
    size: int
    population: int
    coverage: float
    entered: int
    left: int
    churn: float
    usage: dict[str, int]
    corrections: int
    accepted: int
    open_corrections: int
    error_rate: float
    anomalies: list[str]
