"""The tabs of the customer 360 page: each domain's web module declares its own, web.pages registers them.

The customers page draws whatever is registered, in `order`, so a new domain
adds a tab without the customers domain knowing of it. A tab's template is
`customers/tabs/<name>.html`; its `context` function supplies what the
template needs beyond the customer itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from custinfo.auth.policy import Principal


@dataclass(frozen=True)
class TabRequest:
    """What a tab's context function is given: the request, the caller and the customer row shown."""

    request: Request
    session: Session
    principal: Principal
    row: Any  # customers.service.CustomerRow, with values as the field view shows them
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CustomerTab:
    """One tab of the 360 page: its name (and template), place, when it shows and its context."""

    name: str
    order: int
    context: Callable[[TabRequest], dict[str, Any]]
    shown_for: Callable[[Any], bool] = lambda _customer: True


TAB_TARGET = "tab-pane"  # the element an HTMX tab request swaps: such a request gets only the pane
_registry: dict[str, CustomerTab] = {}


def register_tabs(*tabs: CustomerTab) -> None:
    """Add (or replace) tabs of the 360 page."""
    for tab in tabs:
        _registry[tab.name] = tab


def tabs_for(customer: Any) -> list[str]:
    """Names of the tabs this customer's page shows, in order."""
    return [t.name for t in sorted(_registry.values(), key=lambda t: t.order) if t.shown_for(customer)]


def tab_context(name: str, tab_request: TabRequest) -> dict[str, Any]:
    """The template context of one registered tab."""
    return _registry[name].context(tab_request)
