"""Activity use-cases: orders, contracts, interactions and engagement events of a customer.

Every record belongs to a customer the caller may see (otherwise 404); every
field and cross-field rule is checked before anything is written; services
only flush, the caller's unit of work commits. Orders, contracts and
interactions are `Tracked`, so their changes land in the customer's history
without any code here; engagement events are append-only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from custinfo.activity import repository
from custinfo.activity.events import ContractRenewed, ContractTerminated, EngagementRecorded
from custinfo.activity.fields import (
    CONTRACT_FIELDS,
    ORDER_FIELDS,
    RENEWAL_FIELDS,
    TERMINATION_FIELDS,
    engagement_fields,
    interaction_fields,
)
from custinfo.activity.models import Contract, ContractRenewal, EngagementEvent, Interaction, Order
from custinfo.activity.repository import ActivityFilter, Row, Summary
from custinfo.auth.policy import Permission, Principal, require
from custinfo.core.errors import Conflict, FieldError, Invalid
from custinfo.core.fields import FieldSpec, RuleViolation, external_id, integer, validate
from custinfo.core.pagination import PageParams, PageRows
from custinfo.core.uow import record
from custinfo.core.versioning import check_version
from custinfo.customers import service as customers
from custinfo.customers.fields import iso_date

__all__ = [
    "create_contract",
    "create_interaction",
    "create_order",
    "delete_contract",
    "delete_interaction",
    "delete_order",
    "get_contract",
    "get_interaction",
    "get_order",
    "list_contracts",
    "list_engagement",
    "list_interactions",
    "list_orders",
    "record_engagement",
    "renew_contract",
    "renewals_of",
    "summary",
    "terminate_contract",
    "update_contract",
    "update_interaction",
    "update_order",
]

MAX_SIZE = 200
Tracked = TypeVar("Tracked", Order, Contract, Interaction)
MAX_ID = 2**63 - 1
# Engagement events are the customer's contacts through digital channels, so whoever may record an
# interaction may record them (they are append-only); no separate permission exists in the policy.
ENGAGEMENT_WRITE = Permission.INTERACTION_CREATE
SIGNED_STATUSES = frozenset({"active", "renewed"})
ANNUAL_DAYS = 365  # the summary's annual amount: orders of the trailing year, as classification counts it

# Columns that are NOT NULL: on create a blank one takes the model default, on update it is refused.
ORDER_NOT_NULL = frozenset({"ordered_on", "amount", "product", "quantity", "provided_by"})
CONTRACT_NOT_NULL = frozenset({"status"})
INTERACTION_NOT_NULL = frozenset({"kind", "occurred_at", "provided_by"})

NOT_FOUND = {
    Order: "error.order_not_found",
    Contract: "error.contract_not_found",
    Interaction: "error.interaction_not_found",
}


# --- lists -------------------------------------------------------------------------------------------


def _range(
    date_from: str | None, date_to: str | None, zone: str | None
) -> tuple[date | datetime | None, date | datetime | None]:
    """Inclusive local dates → bounds on the natural date (UTC instants, end exclusive, for timestamps)."""
    errors: list[FieldError] = []
    bounds: list[date | None] = []
    for name, raw in (("from", date_from), ("to", date_to)):
        if raw is None or not raw.strip():
            bounds.append(None)
            continue
        try:
            bounds.append(iso_date(raw.strip()))
        except RuleViolation as violation:
            errors.append(FieldError(name, violation.rule, violation.params))
    if errors:
        raise Invalid(errors)
    start, end = bounds
    if zone is None:
        return start, end
    local = ZoneInfo(zone)

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(), tzinfo=local).astimezone(UTC)

    return (
        midnight(start) if start and start > date.min else None,
        midnight(end + timedelta(days=1)) if end and end < date.max else None,
    )


def _list(
    session: Session,
    principal: Principal,
    model: type[Row],
    customer_id: int | None,
    date_from: str | None,
    date_to: str | None,
    page: int,
    size: int,
    zone: str | None = None,
    customer_must_exist: bool = False,
    external_id: str | None = None,
) -> PageRows[Row]:
    require(principal, Permission.CUSTOMER_READ)
    params = PageParams(page, size)
    if errors := params.problems(MAX_SIZE):
        raise Invalid(errors)
    if customer_must_exist and customer_id is not None:
        customers.ensure_visible(session, principal, customer_id)
    start, end = _range(date_from, date_to, zone)
    filters = ActivityFilter(customer_id=customer_id, start=start, end=end, external_id=external_id)
    return repository.list_rows(session, model, principal, filters, params)


def list_orders(
    session: Session,
    principal: Principal,
    customer_id: int | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    page: int = 1,
    size: int = 20,
    customer_must_exist: bool = False,
    external_id: str | None = None,
) -> PageRows[Order]:
    """Orders of the customers in scope, newest first; `from`/`to` bound `ordered_on` (inclusive)."""
    return _list(
        session,
        principal,
        Order,
        customer_id,
        date_from,
        date_to,
        page,
        size,
        None,
        customer_must_exist,
        external_id,
    )


def list_contracts(
    session: Session,
    principal: Principal,
    customer_id: int | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    page: int = 1,
    size: int = 20,
    customer_must_exist: bool = False,
    external_id: str | None = None,
) -> PageRows[Contract]:
    """Contracts of the customers in scope, latest signed first; `from`/`to` bound `signed_on`."""
    return _list(
        session,
        principal,
        Contract,
        customer_id,
        date_from,
        date_to,
        page,
        size,
        None,
        customer_must_exist,
        external_id,
    )


def list_interactions(
    session: Session,
    principal: Principal,
    zone: str,
    customer_id: int | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    page: int = 1,
    size: int = 20,
    customer_must_exist: bool = False,
    external_id: str | None = None,
) -> PageRows[Interaction]:
    """Interactions in scope, newest first; `from`/`to` are local dates in `zone` bounding `occurred_at`."""
    return _list(
        session,
        principal,
        Interaction,
        customer_id,
        date_from,
        date_to,
        page,
        size,
        zone,
        customer_must_exist,
        external_id,
    )


def list_engagement(
    session: Session,
    principal: Principal,
    zone: str,
    customer_id: int,
    date_from: str | None = None,
    date_to: str | None = None,
    page: int = 1,
    size: int = 20,
) -> PageRows[EngagementEvent]:
    """Engagement events of one customer in scope, newest first (404 if the customer is not visible)."""
    return _list(session, principal, EngagementEvent, customer_id, date_from, date_to, page, size, zone, True)


# --- validation helpers -------------------------------------------------------------------------------


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _customer_id(
    session: Session, principal: Principal, data: Mapping[str, Any]
) -> tuple[int, list[FieldError]]:
    """The record's customer: required, a whole number, and in the caller's scope (else 404, not 422)."""
    raw = data.get("customer_id")
    external = data.get("customer_external_id")
    if not _blank(external):
        try:
            by_external = customers.id_by_external_id(session, principal, external_id(external))
        except RuleViolation as violation:
            return 0, [FieldError("customer_external_id", violation.rule, violation.params)]
        if not _blank(raw) and str(raw).strip() != str(by_external):
            return 0, [FieldError("customer_external_id", "external_id.other_customer")]
        raw = by_external
    if _blank(raw):
        return 0, [FieldError("customer_id", "field.required")]
    try:
        customer_id: int = integer(1, MAX_ID)(raw)
    except RuleViolation as violation:
        return 0, [FieldError("customer_id", violation.rule, violation.params)]
    customers.ensure_writable(session, principal, customer_id)
    return customer_id, []


def _validated_new(
    session: Session, principal: Principal, specs: Iterable[FieldSpec], data: Mapping[str, Any]
) -> tuple[int, dict[str, Any]]:
    """Customer and fields of a new record, every error collected; blanks dropped to take defaults."""
    customer_id, errors = _customer_id(session, principal, data)
    cleaned: dict[str, Any] = {}
    try:
        cleaned = validate(specs, data, ignore=("customer_id", "customer_external_id", "version"))
    except Invalid as exc:
        errors = [*errors, *exc.errors]
    if errors:
        raise Invalid(errors)
    return customer_id, {key: value for key, value in cleaned.items() if value is not None}


def _validated_change(
    current: Order | Contract | Interaction,
    specs: Iterable[FieldSpec],
    data: Mapping[str, Any],
    not_null: frozenset[str],
) -> dict[str, Any]:
    """Fields of a partial update; a record never moves to another customer."""
    errors: list[FieldError] = []
    if data.get("customer_id") not in (None, current.customer_id):
        errors.append(FieldError("customer_id", "field.immutable"))
    if not _blank(data.get("customer_external_id")):
        errors.append(FieldError("customer_external_id", "field.immutable"))
    cleaned: dict[str, Any] = {}
    try:
        cleaned = validate(
            specs, data, partial=True, ignore=("customer_id", "customer_external_id", "version")
        )
    except Invalid as exc:
        errors.extend(exc.errors)
    reported = {error.field for error in errors}
    errors.extend(
        FieldError(name, "field.required")
        for name in sorted(not_null - reported)
        if name in data and _blank(data[name])
    )
    if errors:
        raise Invalid(errors)
    return cleaned


def _check_external_id(
    session: Session, model: type[Tracked], cleaned: Mapping[str, Any], exclude_id: int | None
) -> None:
    """409 naming the field when another record of this kind already has the external id."""
    value = cleaned.get("external_id")
    if value and repository.id_with_external_id(session, model, value, exclude_id) is not None:
        raise Conflict("error.duplicate", errors=[FieldError("external_id", "field.duplicate")])


def _apply(row: Order | Contract | Interaction, cleaned: Mapping[str, Any]) -> None:
    for key, value in cleaned.items():
        setattr(row, key, value)


def _contract_rules(state: Mapping[str, Any]) -> None:
    """Cross-field rules of a contract, checked on the state it would have after the change."""
    errors = []
    status = state.get("status")
    starts_on, ends_on = state.get("starts_on"), state.get("ends_on")
    signed_on, terminated_on = state.get("signed_on"), state.get("terminated_on")
    if starts_on is not None and ends_on is not None and ends_on < starts_on:
        errors.append(FieldError("ends_on", "contract.ends_before_start"))
    if status == "terminated" and terminated_on is None:
        errors.append(FieldError("terminated_on", "contract.terminated_on_required"))
    if status != "terminated" and terminated_on is not None:
        errors.append(FieldError("terminated_on", "contract.terminated_on_not_terminated"))
    if signed_on is not None and terminated_on is not None and terminated_on < signed_on:
        errors.append(FieldError("terminated_on", "contract.terminated_before_signed"))
    if status in SIGNED_STATUSES and signed_on is None:
        errors.append(FieldError("signed_on", "contract.signed_on_required", {"status": status}))
    if errors:
        raise Invalid(errors)


def _contract_change_rules(contract: Contract, cleaned: Mapping[str, Any]) -> None:
    """The contract rules on the state the change would leave; a contract no longer ended loses its reason."""
    state = {
        name: getattr(contract, name)
        for name in ("status", "starts_on", "ends_on", "signed_on", "terminated_on")
    }
    _contract_rules({**state, **cleaned})
    if cleaned.get("status", contract.status) != "terminated":
        contract.termination_reason = None


def _create(
    session: Session,
    principal: Principal,
    permission: Permission,
    model: type[Tracked],
    specs: Iterable[FieldSpec],
    data: Mapping[str, Any],
    rules: Callable[[Mapping[str, Any]], None] | None = None,
) -> Tracked:
    """Validate (fields, then `rules` on them) and record a new row of a customer in scope."""
    require(principal, permission)
    customer_id, cleaned = _validated_new(session, principal, specs, data)
    if rules is not None:
        rules(cleaned)
    _check_external_id(session, model, cleaned, None)
    row = model(customer_id=customer_id, **cleaned)
    session.add(row)
    session.flush()
    return row


def _update(
    session: Session,
    principal: Principal,
    permission: Permission,
    model: type[Tracked],
    row_id: int,
    specs: Iterable[FieldSpec],
    data: Mapping[str, Any],
    not_null: frozenset[str],
    rules: Callable[[Tracked, Mapping[str, Any]], None] | None = None,
) -> Tracked:
    """Apply a partial update (fields, then `rules` on the row and the change); a stale `version` is a 409."""
    require(principal, permission)
    row = _get(session, principal, model, row_id)
    customers.ensure_writable(session, principal, row.customer_id)
    check_version(row.version, data.get("version"))
    cleaned = _validated_change(row, specs, data, not_null)
    if rules is not None:
        rules(row, cleaned)
    _check_external_id(session, model, cleaned, row.id)
    _apply(row, cleaned)
    session.flush()
    return row


def _get(session: Session, principal: Principal, model: type[Row], row_id: int) -> Row:
    return repository.get_row(session, model, principal, row_id, NOT_FOUND.get(model, "error.not_found"))


def _delete(
    session: Session,
    principal: Principal,
    permission: Permission,
    model: type[Row],
    row_id: int,
    version: int | None,
) -> None:
    require(principal, permission)
    row = _get(session, principal, model, row_id)
    customers.ensure_writable(session, principal, row.customer_id)
    if isinstance(row, Order | Contract | Interaction):
        check_version(row.version, version)
    session.delete(row)
    session.flush()


# --- orders ------------------------------------------------------------------------------------------


def get_order(session: Session, principal: Principal, order_id: int) -> Order:
    """One order of a customer in scope."""
    require(principal, Permission.CUSTOMER_READ)
    return _get(session, principal, Order, order_id)


def create_order(session: Session, principal: Principal, data: Mapping[str, Any]) -> Order:
    """Validate and record an order of a customer in scope."""
    return _create(session, principal, Permission.ORDER_WRITE, Order, ORDER_FIELDS, data)


def update_order(session: Session, principal: Principal, order_id: int, data: Mapping[str, Any]) -> Order:
    """Apply a partial update; a stale `version` is refused with 409."""
    return _update(
        session, principal, Permission.ORDER_WRITE, Order, order_id, ORDER_FIELDS, data, ORDER_NOT_NULL
    )


def delete_order(session: Session, principal: Principal, order_id: int, version: int | None) -> None:
    """Delete an order entered by mistake (the history keeps what it was)."""
    _delete(session, principal, Permission.ORDER_WRITE, Order, order_id, version)


# --- contracts ---------------------------------------------------------------------------------------


def get_contract(session: Session, principal: Principal, contract_id: int) -> Contract:
    """One contract of a customer in scope."""
    require(principal, Permission.CUSTOMER_READ)
    return _get(session, principal, Contract, contract_id)


def create_contract(session: Session, principal: Principal, data: Mapping[str, Any]) -> Contract:
    """Validate (fields, then dates against status) and record a contract."""
    return _create(
        session, principal, Permission.CONTRACT_WRITE, Contract, CONTRACT_FIELDS, data, _contract_rules
    )


def update_contract(
    session: Session, principal: Principal, contract_id: int, data: Mapping[str, Any]
) -> Contract:
    """Change a contract (renew, terminate…); the rules are checked on the resulting state."""
    return _update(
        session,
        principal,
        Permission.CONTRACT_WRITE,
        Contract,
        contract_id,
        CONTRACT_FIELDS,
        data,
        CONTRACT_NOT_NULL,
        _contract_change_rules,
    )


def delete_contract(session: Session, principal: Principal, contract_id: int, version: int | None) -> None:
    """Delete a contract entered by mistake (a real end is `status: terminated`)."""
    _delete(session, principal, Permission.CONTRACT_WRITE, Contract, contract_id, version)


def _writable_contract(session: Session, principal: Principal, contract_id: int, version: Any) -> Contract:
    """A contract the caller may change, at the version they read (stale → 409, missing → 422)."""
    require(principal, Permission.CONTRACT_WRITE)
    contract = _get(session, principal, Contract, contract_id)
    customers.ensure_writable(session, principal, contract.customer_id)
    check_version(contract.version, version if isinstance(version, int) else None)
    return contract


def renew_contract(
    session: Session, principal: Principal, contract_id: int, data: Mapping[str, Any], zone: str
) -> Contract:
    """Renew a running contract: a new last day and amount, the renewal kept as a dated entry.

    Only an active or already renewed contract can be renewed (a terminated one is over, one in
    negotiation is not signed yet: 409); the new end must lie after the current one. The entry
    keeps the term and amount before and after, dated today in `zone`.
    """
    contract = _writable_contract(session, principal, contract_id, data.get("version"))
    cleaned = validate(RENEWAL_FIELDS, data, ignore=("version",))
    if contract.status not in SIGNED_STATUSES:
        raise Conflict("error.contract_not_renewable", status=contract.status)
    ends_on: date = cleaned["ends_on"]
    if contract.ends_on is not None and ends_on <= contract.ends_on:
        raise Invalid([FieldError("ends_on", "contract.renewal_not_later", {"ends_on": contract.ends_on})])
    if contract.starts_on is not None and ends_on < contract.starts_on:
        raise Invalid([FieldError("ends_on", "contract.ends_before_start")])
    renewal = ContractRenewal(
        customer_id=contract.customer_id,
        contract_id=contract.id,
        renewed_on=datetime.now(ZoneInfo(zone)).date(),
        previous_ends_on=contract.ends_on,
        ends_on=ends_on,
        previous_amount=contract.amount,
        amount=cleaned["amount"],
    )
    contract.ends_on, contract.amount, contract.status = ends_on, cleaned["amount"], "renewed"
    session.add(renewal)
    session.flush()
    record(
        session,
        ContractRenewed(customer_id=contract.customer_id, contract_id=contract.id, renewal_id=renewal.id),
    )
    return contract


def terminate_contract(
    session: Session, principal: Principal, contract_id: int, data: Mapping[str, Any]
) -> Contract:
    """End a signed or negotiated contract on a day (not in the future, not before signing) with a reason."""
    contract = _writable_contract(session, principal, contract_id, data.get("version"))
    cleaned = validate(TERMINATION_FIELDS, data, ignore=("version",))
    if contract.status == "terminated":
        raise Conflict("error.contract_terminated", terminated_on=contract.terminated_on)
    _contract_rules(
        {
            "status": "terminated",
            "starts_on": contract.starts_on,
            "ends_on": contract.ends_on,
            "signed_on": contract.signed_on,
            "terminated_on": cleaned["terminated_on"],
        }
    )
    contract.status, contract.terminated_on = "terminated", cleaned["terminated_on"]
    contract.termination_reason = cleaned["reason"]
    session.flush()
    record(session, ContractTerminated(customer_id=contract.customer_id, contract_id=contract.id))
    return contract


def renewals_of(session: Session, contract_ids: Iterable[int]) -> dict[int, list[ContractRenewal]]:
    """The renewals of contracts the caller already fetched in scope, oldest first, by contract id."""
    return repository.renewals_of(session, set(contract_ids))


def summary(session: Session, principal: Principal, customer_id: int, zone: str) -> Summary:
    """The activity figures of a customer's 360 summary (404 if the customer is not visible)."""
    require(principal, Permission.CUSTOMER_READ)
    customers.ensure_visible(session, principal, customer_id)
    today = datetime.now(ZoneInfo(zone)).date()
    return repository.summary(session, customer_id, today - timedelta(days=ANNUAL_DAYS), today)


# --- interactions ------------------------------------------------------------------------------------


def get_interaction(session: Session, principal: Principal, interaction_id: int) -> Interaction:
    """One interaction with a customer in scope."""
    require(principal, Permission.CUSTOMER_READ)
    return _get(session, principal, Interaction, interaction_id)


def create_interaction(
    session: Session, principal: Principal, data: Mapping[str, Any], zone: str
) -> Interaction:
    """Record a visit, call, consultation, complaint or after-sales contact; naive times are in `zone`."""
    return _create(
        session, principal, Permission.INTERACTION_CREATE, Interaction, interaction_fields(zone), data
    )


def update_interaction(
    session: Session, principal: Principal, interaction_id: int, data: Mapping[str, Any], zone: str
) -> Interaction:
    """Change an interaction (e.g. add its resolution and satisfaction score)."""
    specs = interaction_fields(zone)
    return _update(
        session,
        principal,
        Permission.INTERACTION_WRITE,
        Interaction,
        interaction_id,
        specs,
        data,
        INTERACTION_NOT_NULL,
    )


def delete_interaction(
    session: Session, principal: Principal, interaction_id: int, version: int | None
) -> None:
    """Delete an interaction entered by mistake."""
    _delete(session, principal, Permission.INTERACTION_WRITE, Interaction, interaction_id, version)


# --- engagement --------------------------------------------------------------------------------------


def record_engagement(
    session: Session, principal: Principal, customer_id: int, data: Mapping[str, Any], zone: str
) -> EngagementEvent:
    """Append a browsing event; a `new_product_viewed` event is about a new product unless told otherwise."""
    require(principal, ENGAGEMENT_WRITE)
    _, cleaned = _validated_new(
        session, principal, engagement_fields(zone), {**data, "customer_id": customer_id}
    )
    if "is_new_product" not in cleaned:
        cleaned["is_new_product"] = cleaned["event_type"] == "new_product_viewed"
    event = EngagementEvent(customer_id=customer_id, **cleaned)
    session.add(event)
    session.flush()
    record(session, EngagementRecorded(customer_id=customer_id, event_type=event.event_type))
    return event
