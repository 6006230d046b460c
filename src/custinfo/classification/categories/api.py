"""JSON routes of the product category vocabulary: list, create, change, retire, seed from the orders."""

from __future__ import annotations

from fastapi import APIRouter

from custinfo.auth.deps import ApiPrincipal, DbSession
from custinfo.classification.categories import service
from custinfo.classification.categories.repository import CategoryRow
from custinfo.classification.categories.schemas import (
    CategoryChange,
    CategoryIn,
    CategoryOut,
    SeedOut,
    UnmappedOut,
    VersionIn,
    VocabularyOut,
)

router = APIRouter(prefix="/product-categories", tags=["product categories"])


def _out(row: CategoryRow) -> CategoryOut:
    return CategoryOut(
        id=row.id,
        name_zh=row.name_zh,
        name_en=row.name_en,
        active=row.active,
        values=row.values,
        orders=row.orders,
        tag=row.tag_code,
        version=row.version,
    )


@router.get("", response_model=VocabularyOut)
def list_categories(session: DbSession, principal: ApiPrincipal) -> VocabularyOut:
    """Every category with its raw values and order counts, and the raw values no category counts yet."""
    found = service.vocabulary(session, principal)
    return VocabularyOut(
        items=[_out(c) for c in found.categories],
        unmapped=[UnmappedOut(value=v, orders=n) for v, n in found.unmapped],
        version=found.version,
    )


@router.post("", response_model=CategoryOut, status_code=201)
def create_category(body: CategoryIn, session: DbSession, principal: ApiPrincipal) -> CategoryOut:
    """Steward/admin: add a category (and its preference tag), mapping the given raw values to it."""
    return _out(service.create(session, principal, body.model_dump()))


@router.get("/{category_id}", response_model=CategoryOut)
def get_category(category_id: int, session: DbSession, principal: ApiPrincipal) -> CategoryOut:
    """One category."""
    return _out(service.get(session, principal, category_id))


@router.patch("/{category_id}", response_model=CategoryOut)
def update_category(
    category_id: int, body: CategoryChange, session: DbSession, principal: ApiPrincipal
) -> CategoryOut:
    """Steward/admin: rename, or set the raw values it counts; send the `version` you read."""
    data = {k: v for k, v in body.model_dump(exclude_unset=True).items() if v is not None or k == "version"}
    version = data.pop("version", None)
    return _out(service.update(session, principal, category_id, version, data))


@router.post("/{category_id}/retire", response_model=CategoryOut)
def retire_category(
    category_id: int, body: VersionIn, session: DbSession, principal: ApiPrincipal
) -> CategoryOut:
    """Steward/admin: retire a category; the next classification run ends its preference tag."""
    return _out(service.retire(session, principal, category_id, body.version))


@router.post("/seed", response_model=SeedOut)
def seed_categories(session: DbSession, principal: ApiPrincipal) -> SeedOut:
    """Steward/admin: a category for every raw order category that no category counts yet."""
    created = service.seed(session, principal)
    return SeedOut(created=created, version=service.vocabulary(session, principal).version)
