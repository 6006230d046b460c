"""Domain events of the product category vocabulary (audited)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from custinfo.core.uow import DomainEvent


@dataclass(frozen=True)
class ProductCategoryChanged(DomainEvent):
    """A category was created, changed (names, mapped raw values), retired, or categories were seeded."""

    name: ClassVar[str] = "product_category"
    action: str  # created | updated | retired | seeded
    category: str  # the category's Chinese name ("" for a seed that created none)
    version: int  # the vocabulary's version after the change
    changes: dict[str, list[Any]] = field(default_factory=dict)

    def audit_action(self) -> str:
        """e.g. product_category.created."""
        return f"product_category.{self.action}"

    def audit_target(self) -> tuple[str | None, Any]:
        """The category, by its name."""
        return "product_category", self.category or None
