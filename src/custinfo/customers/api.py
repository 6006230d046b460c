"""JSON routes for customers, contacts, the needs log and the change history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from custinfo.auth.deps import ApiPrincipal, DbSession
from custinfo.classification import service as classification
from custinfo.customers import service
from custinfo.customers.repository import CustomerFilter, CustomerRow
from custinfo.customers.schemas import (
    ChangeOut,
    ContactIn,
    ContactOut,
    CustomerIn,
    CustomerOut,
    CustomerPage,
    NeedIn,
    NeedOut,
    ReassignIn,
    ReassignOut,
)
from custinfo.idempotent import Once
from custinfo.protection.views import FieldView, present, present_values, view_for

router = APIRouter(tags=["customers"])
# Optional in the schema so that a missing one is the service's 422 naming `version`, like every rule.
VersionQuery = Annotated[int | None, Query(description="The version you read (required; stale → 409)")]


def customer_out(
    row: CustomerRow, view: FieldView, tags: list[str] | None = None, code: str | None = None
) -> CustomerOut:
    """Build the API shape of a customer as the field view lets the caller see it.

    `tags` and `code` are the customer's current tag codes and classification code when the caller
    fetched them in bulk (a list page); otherwise they are looked up here.
    """
    c = row.customer
    if tags is None:
        tags, code = classification.current_class(view.session, c.id)
    values = dict(
        id=c.id,
        external_id=c.external_id,
        kind=c.kind,
        name=c.name,
        owner=row.owner,
        department=row.department,
        source_channel=c.source_channel,
        purpose=c.purpose,
        version=c.version,
        tags=tags,
        classification_code=code,
        mobile=c.mobile,
        email=c.email,
        region=c.region,
        nickname=c.nickname,
        gender=c.gender,
        birth_date=c.birth_date,
        id_number=c.id_number,
        address=c.address,
        occupation=c.occupation,
        credit_code=c.credit_code,
        legal_representative=c.legal_representative,
        registered_address=c.registered_address,
        bank_account=c.bank_account,
        industry=c.industry,
        employee_count=c.employee_count,
        company_size=service.company_size(c),
        revenue_band=c.revenue_band,
        founded_on=c.founded_on,
        customer_type=c.customer_type,
        created_at=c.created_at,
        created_by=c.created_by,
        updated_at=c.updated_at,
        updated_by=c.updated_by,
    )
    result: CustomerOut = present_values(view, "customer", values, CustomerOut, c.id)
    return result


@router.get("/customers", response_model=CustomerPage)
def list_customers(
    session: DbSession,
    principal: ApiPrincipal,
    q: Annotated[
        str | None,
        Query(
            description="Name contains; or mobile, email, credit code; an ID number or bank account "
            "only for roles that may read it in clear (audited, rate-limited)",
            max_length=100,
        ),
    ] = None,
    kind: Annotated[str | None, Query(description="individual / company")] = None,
    tag: Annotated[str | None, Query(description="Only customers carrying this tag")] = None,
    classification_code: Annotated[
        str | None, Query(description="Only customers with this classification code", max_length=300)
    ] = None,
    industry: str | None = None,
    owner: Annotated[str | None, Query(description="Owner username")] = None,
    external_id: Annotated[
        str | None, Query(description="Only the customer with this external id", max_length=100)
    ] = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    size: Annotated[int, Query(ge=1, le=200)] = 20,
    sort: Annotated[
        str | None,
        Query(
            description="Order: name, kind, industry, updated_at or id; a leading '-' sorts descending "
            "(default: newest first); an unknown key is a 422",
            max_length=30,
        ),
    ] = None,
) -> CustomerPage:
    """Customers in the caller's scope, newest first (or by `sort`); `total` is counted up to 100,000."""
    filters = CustomerFilter(q=q, kind=kind, industry=industry, owner=owner, external_id=external_id)
    extra = classification.list_filters(session, tag, classification_code)
    rows, total, capped = service.list_customers(
        session, principal, filters, page, size, extra=extra, sort=sort
    )
    view = view_for(session, principal)
    ids = [r.customer.id for r in rows]
    tags = classification.customer_tag_codes(session, ids)  # one query per page
    codes = classification.codes_of(session, ids)
    return CustomerPage(
        items=[customer_out(r, view, tags[r.customer.id], codes[r.customer.id]) for r in rows],
        page=page,
        size=size,
        total=total,
        total_capped=capped,
    )


@router.post("/customers/reassign", response_model=ReassignOut)
def reassign_customers(body: ReassignIn, session: DbSession, principal: ApiPrincipal) -> ReassignOut:
    """Give many customers to another owner in one transaction (dept_head within their department, admin).

    All or nothing: an absent or out-of-scope id makes the whole request a 404, a stale entry of
    `versions` a 409; each customer's change is audited on its own.
    """
    rows = service.reassign_customers(session, principal, body.customer_ids or [], body.owner, body.versions)
    owner, department = rows[0].owner or "", rows[0].department
    return ReassignOut(
        owner=owner, department=department, customer_ids=[r.customer.id for r in rows], count=len(rows)
    )


@router.post("/customers", response_model=CustomerOut, status_code=201)
def create_customer(body: CustomerIn, session: DbSession, principal: ApiPrincipal, once: Once) -> Any:
    """Create an individual or company customer (once per Idempotency-Key)."""

    def create() -> CustomerOut:
        row = service.create_customer(session, principal, body.model_dump(exclude_unset=True))
        return customer_out(row, view_for(session, principal))

    return once.run(body, create)


@router.get("/customers/{customer_id}", response_model=CustomerOut)
def get_customer(customer_id: int, session: DbSession, principal: ApiPrincipal) -> CustomerOut:
    """One customer (404 if absent or outside the caller's scope)."""
    return customer_out(service.get_customer(session, principal, customer_id), view_for(session, principal))


@router.patch("/customers/{customer_id}", response_model=CustomerOut)
def update_customer(
    customer_id: int, body: CustomerIn, session: DbSession, principal: ApiPrincipal
) -> CustomerOut:
    """Change some fields; send the `version` you read (a stale one is a 409)."""
    data = body.model_dump(exclude_unset=True)
    return customer_out(
        service.update_customer(session, principal, customer_id, data), view_for(session, principal)
    )


@router.delete("/customers/{customer_id}", status_code=204)
def delete_customer(
    customer_id: int, session: DbSession, principal: ApiPrincipal, version: VersionQuery = None
) -> Response:
    """Delete a customer with its contacts, needs and activity; the history is kept."""
    service.delete_customer(session, principal, customer_id, version)
    return Response(status_code=204)


@router.get("/customers/{customer_id}/contacts", response_model=list[ContactOut])
def list_contacts(customer_id: int, session: DbSession, principal: ApiPrincipal) -> list[ContactOut]:
    """Contacts of a company customer, those in post first."""
    view = view_for(session, principal)
    return [
        present(view, "contact", c, ContactOut)
        for c in service.list_contacts(session, principal, customer_id)
    ]


@router.post("/customers/{customer_id}/contacts", response_model=ContactOut, status_code=201)
def add_contact(
    customer_id: int, body: ContactIn, session: DbSession, principal: ApiPrincipal, once: Once
) -> Any:
    """Add a contact person to a company customer (once per Idempotency-Key)."""

    def create() -> ContactOut:
        contact = service.add_contact(session, principal, customer_id, body.model_dump(exclude_unset=True))
        result: ContactOut = present(view_for(session, principal), "contact", contact, ContactOut)
        return result

    return once.run(body, create)


@router.patch("/customers/{customer_id}/contacts/{contact_id}", response_model=ContactOut)
def update_contact(
    customer_id: int, contact_id: int, body: ContactIn, session: DbSession, principal: ApiPrincipal
) -> ContactOut:
    """Change a contact; `in_post: false` marks them as left."""
    data = body.model_dump(exclude_unset=True)
    contact = service.update_contact(session, principal, customer_id, contact_id, data)
    result: ContactOut = present(view_for(session, principal), "contact", contact, ContactOut)
    return result


@router.delete("/customers/{customer_id}/contacts/{contact_id}", status_code=204)
def delete_contact(
    customer_id: int,
    contact_id: int,
    session: DbSession,
    principal: ApiPrincipal,
    version: VersionQuery = None,
) -> Response:
    """Remove a contact entered by mistake; send the `version` you read."""
    service.delete_contact(session, principal, customer_id, contact_id, version)
    return Response(status_code=204)


@router.get("/customers/{customer_id}/needs", response_model=list[NeedOut])
def list_needs(customer_id: int, session: DbSession, principal: ApiPrincipal) -> list[NeedOut]:
    """The needs log (需求动态), newest first."""
    view = view_for(session, principal)
    return [present(view, "need", n, NeedOut) for n in service.list_needs(session, principal, customer_id)]


@router.post("/customers/{customer_id}/needs", response_model=NeedOut, status_code=201)
def add_need(customer_id: int, body: NeedIn, session: DbSession, principal: ApiPrincipal, once: Once) -> Any:
    """Append a need; earlier entries are kept unchanged (once per Idempotency-Key)."""

    def create() -> NeedOut:
        entry = service.add_need(session, principal, customer_id, body.model_dump(exclude_unset=True))
        result: NeedOut = present(view_for(session, principal), "need", entry, NeedOut)
        result.customer_tags, result.customer_classification_code = classification.current_class(
            session, customer_id
        )
        return result

    return once.run(body, create)


@router.get("/customers/{customer_id}/history", response_model=list[ChangeOut])
def history(customer_id: int, session: DbSession, principal: ApiPrincipal) -> list[ChangeOut]:
    """Every recorded change of the customer and its children, newest first."""
    view = view_for(session, principal)
    changes = service.customer_history(session, principal, customer_id)
    return [
        ChangeOut.model_validate(c).model_copy(
            update={"changes": view.shape_changes(c.entity, c.changes, customer_id)}
        )
        for c in changes
    ]
