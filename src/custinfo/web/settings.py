"""The settings area's landing page (系统设置): where each kind of configuration is edited."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from custinfo.auth.policy import Permission, Principal, can, require
from custinfo.auth.web import WebUser, web_user
from custinfo.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(web_user)])


@dataclass(frozen=True)
class Area:
    """One card of the landing page."""

    key: str
    href: str
    icon: str
    note: str = ""


def areas_for(principal: Principal) -> list[Area]:
    """The configuration areas this principal may open, in the order people look for them."""
    areas = [Area("vocabularies", "/settings/vocabularies", "bi-journal-text")]
    areas.append(Area("governance", "/classification/settings", "bi-people"))
    areas.append(Area("classification_code", "/settings/classification-code", "bi-diagram-3"))
    if can(principal, Permission.PROPOSAL_CREATE):
        areas.append(Area("rules", "/classification/rules", "bi-sliders"))
    areas.append(Area("versions", "/classification/versions", "bi-clock-history"))
    return areas


@router.get("/settings", response_class=HTMLResponse)
def settings_home(request: Request, principal: WebUser) -> HTMLResponse:
    """The settings landing page (data steward, admin): vocabularies, governance, classification code, rules."""
    require(principal, Permission.SETTINGS_MANAGE)
    return render(request, "settings/index.html", areas=areas_for(principal))
