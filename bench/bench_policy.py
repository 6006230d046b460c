"""Policy overhead: the customer page and list for a sales user with scope + masking + audit, against
the same queries read straight from the database without any policy, in the same run.

Builds (or reuses) a database of N demo customers, serves the real app with
uvicorn in a thread and times R requests of each over HTTP as `sales_east1`:

- policy: the product's routes, GET /api/v1/customers/{id}, GET /api/v1/customers
  (page 1, 20 rows) and GET /api/v1/customers/{id}/orders, which apply the
  record scope (plus the grant lookup), the field view (masking, L2/L3 read
  events) and the audit recorder;
- peer: routes added to the same app by this script only, behind the same
  bearer-token check, that run the same SELECTs without scope, grant lookup,
  field view or audit and return the same JSON shapes with every value clear.

The ratio policy/peer at p50 is the overhead of the policy (target ≤ 1.25).

    .venv/bin/python bench/bench_policy.py --customers 100000 --db sqlite --requests 200
"""

from __future__ import annotations

import argparse
import time
from typing import Annotated, Any

import httpx
from fastapi import Depends, Request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from _common import bench_key_ring, demo_database, machine, percentile, serving
from custinfo.activity.models import Order
from custinfo.activity.schemas import OrderOut, OrderPage
from custinfo.auth.deps import DbSession
from custinfo.auth.models import Department, User
from custinfo.auth.service import resolve_session
from custinfo.classification import service as classification
from custinfo.customers.models import Customer
from custinfo.customers.schemas import CustomerOut, CustomerPage
from custinfo.customers.vocabulary import company_size_band
from custinfo.demo.generator import DEFAULT_DEMO_PASSWORD

USER = "sales_east1"
FIELDS = [name for name in CustomerOut.model_fields if name not in ("masked_fields", "hidden_fields")]


def _authenticated(request: Request, session: DbSession) -> Session:
    """The bearer-token check only (authentication is not policy): no grants, no actor binding."""
    _scheme, _, token = request.headers.get("authorization", "").partition(" ")
    resolve_session(session, token.strip(), "api")
    return session


Plain = Annotated[Session, Depends(_authenticated)]


def _plain_customer(
    session: Session, customer: Customer, owner: str | None, department: str | None
) -> CustomerOut:
    values: dict[str, Any] = {name: getattr(customer, name, None) for name in FIELDS}
    values.update(owner=owner, department=department)
    # The same tag lookup and derived field as the product's customer_out: only the policy differs.
    tags = classification.customer_tag_codes(session, [customer.id])[customer.id]
    values.update(tags=tags, company_size=company_size_band(customer.employee_count))
    return CustomerOut.model_validate(values)


def _with_names(stmt: Any) -> Any:
    """Owner username and department name joined in, as the product's repository does."""
    return (
        stmt.add_columns(User.username, Department.name)
        .outerjoin(User, User.id == Customer.owner_id)
        .outerjoin(Department, Department.id == Customer.department_id)
    )


def add_peer_routes(app: Any) -> None:
    """The same reads with no policy at all, mounted on the benchmark's app only."""

    def customer(customer_id: int, session: Plain) -> CustomerOut:
        row = session.execute(_with_names(select(Customer).where(Customer.id == customer_id))).one()
        return _plain_customer(session, *row)

    def customers(session: Plain, page: int = 1, size: int = 20, owner_id: int = 0) -> CustomerPage:
        stmt = select(Customer).where(Customer.owner_id == owner_id)
        rows = session.execute(
            _with_names(stmt).order_by(Customer.id.desc()).limit(size).offset((page - 1) * size)
        )
        capped = stmt.with_only_columns(Customer.id).limit(100_001).subquery()
        total = session.scalar(select(func.count()).select_from(capped)) or 0
        items = [_plain_customer(session, *row) for row in rows]
        return CustomerPage(
            items=items, page=page, size=size, total=min(total, 100_000), total_capped=total > 100_000
        )

    def orders(customer_id: int, session: Plain, page: int = 1, size: int = 20) -> OrderPage:
        stmt = select(Order).where(Order.customer_id == customer_id)
        rows = session.scalars(
            stmt.order_by(Order.ordered_on.desc(), Order.id.desc()).limit(size).offset((page - 1) * size)
        )
        total = (
            session.scalar(select(func.count()).select_from(stmt.with_only_columns(Order.id).subquery())) or 0
        )
        items = [OrderOut.model_validate(o) for o in rows]
        return OrderPage(items=items, page=page, size=size, total=total, total_capped=False)

    app.add_api_route("/bench/plain/customers/{customer_id}", customer, response_model=CustomerOut)
    app.add_api_route("/bench/plain/customers", customers, response_model=CustomerPage)
    app.add_api_route("/bench/plain/customers/{customer_id}/orders", orders, response_model=OrderPage)


def time_pair(
    client: httpx.Client, policy: str, peer: str, headers: dict[str, str], requests: int
) -> tuple[list[float], list[float]]:
    """Interleaved latencies of the policy route and its peer (interleaving cancels drift)."""
    for url in (policy, peer, policy, peer):
        client.get(url, headers=headers).raise_for_status()
    with_policy: list[float] = []
    without: list[float] = []
    for _ in range(requests):
        for url, samples in ((policy, with_policy), (peer, without)):
            started = time.perf_counter()
            response = client.get(url, headers=headers)
            samples.append(time.perf_counter() - started)
            response.raise_for_status()
    return with_policy, without


def main() -> None:
    """Build or reuse the database, time the three reads with and without policy, print the ratios."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the database even if it exists")
    parser.add_argument("--pg-server", help="PostgreSQL URL to create the benchmark databases on")
    args = parser.parse_args()
    bench_key_ring()
    print(f"machine: {machine()}")
    engine, name = demo_database(args, "policy", orders_per_customer=10)
    if args.db == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    with engine.connect() as conn:
        user_id = conn.scalar(select(User.id).where(User.username == USER))
    rows: list[tuple[str, float, float, float, float]] = []
    with (
        serving(engine, args.db, name, extend=add_peer_routes) as base,
        httpx.Client(base_url=base, timeout=120) as client,
    ):
        response = client.post(
            "/api/v1/auth/token", data={"username": USER, "password": DEFAULT_DEMO_PASSWORD}
        )
        response.raise_for_status()
        headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
        first = client.get("/api/v1/customers?size=20", headers=headers).json()
        customer = next(item for item in first["items"] if item["kind"] == "individual")
        print(
            f"{USER}: {first['total']:,} customers in scope; customer {customer['id']}, masked {customer['masked_fields']}"
        )
        pairs = {
            "customer page": (
                f"/api/v1/customers/{customer['id']}",
                f"/bench/plain/customers/{customer['id']}",
            ),
            "list page 1": (
                "/api/v1/customers?size=20",
                f"/bench/plain/customers?size=20&owner_id={user_id}",
            ),
            "orders (L2, audited)": (
                f"/api/v1/customers/{customer['id']}/orders",
                f"/bench/plain/customers/{customer['id']}/orders",
            ),
        }
        for label, (policy, peer) in pairs.items():
            with_policy, without = time_pair(client, policy, peer, headers, args.requests)
            p50, p99 = percentile(with_policy, 0.5), percentile(with_policy, 0.99)
            rows.append((label, p50, p99, percentile(without, 0.5), percentile(without, 0.99)))
    engine.dispose()
    print(
        f"{args.db}, {args.customers:,} customers, {args.requests} requests per row, user {USER}; times in ms"
    )
    header = f"{'read':22} {'policy p50':>10} {'policy p99':>10} {'plain p50':>10} {'plain p99':>10} {'p50 ratio':>10}"
    print(header)
    print("-" * len(header))
    for label, p50, p99, q50, q99 in rows:
        print(f"{label:22} {p50:10.2f} {p99:10.2f} {q50:10.2f} {q99:10.2f} {p50 / q50:10.2f}")


if __name__ == "__main__":
    main()
