"""Schemathesis over the whole OpenAPI, on the real app and both test databases.

Every operation gets a few derandomized examples of valid and of invalid input, as an admin and as
a salesperson, against a small world (users, customers with orders). It asserts 0 server errors and
0 schema violations: every status code, content type and body is the one the OpenAPI document
declares, invalid input is refused with a 4xx, and every answer carries the security headers.
Schema-valid input that a business rule refuses (a vocabulary value, a cross-field rule) may be a
422: `positive_data_acceptance` is left out because those rules live in data, not in the schema.
"""

from __future__ import annotations

from collections.abc import Callable

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import CheckContext
from schemathesis.generation import GenerationMode
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy.orm import Session
from tests.factories import make_contract, make_customer, make_order

from custinfo.app import SECURITY_HEADERS

OPENAPI = "/api/v1/openapi.json"
ROLES = ("admin", "sales_east1")
EXAMPLES = 3
BOUNDED = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def security_headers(ctx: CheckContext, response: schemathesis.Response, case: schemathesis.Case) -> None:
    """Every response, errors included, carries the security headers."""
    present = {name.lower() for name in response.headers}
    missing = [name for name in SECURITY_HEADERS if name.lower() not in present]
    assert not missing, f"{response.status_code} without {', '.join(missing)}"


def examine(operation: APIOperation, mode: GenerationMode, headers: dict[str, str], calls: list[int]) -> None:
    """Run the bounded examples of one operation in one mode; raise what schemathesis found."""

    @BOUNDED
    @given(case=operation.as_strategy(mode))
    def run(case: schemathesis.Case) -> None:
        calls.append(1)
        case.call_and_validate(
            headers=headers,
            additional_checks=[security_headers],
            excluded_checks=[positive_data_acceptance],
        )

    run()


def test_whole_api(
    app: FastAPI, session: Session, world: dict[str, object], login: Callable[[str], dict[str, str]]
) -> None:
    """Every operation, both generation modes, two roles: no 500, nothing undocumented, headers on all."""
    for owner in ("sales_east1", "sales_south1"):
        customer = make_customer(session, world[owner])  # type: ignore[arg-type]
        make_order(session, customer)
        make_contract(session, customer)
    session.commit()
    schema = schemathesis.openapi.from_asgi(OPENAPI, app)
    failures: list[str] = []
    calls: list[int] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for role in ROLES:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                try:
                    examine(operation, mode, login(role), calls)
                except Unsatisfiable:
                    continue  # nothing to negate: the operation takes no input
                except (Exception, BaseExceptionGroup) as error:
                    parts = error.exceptions if isinstance(error, BaseExceptionGroup) else [error]
                    failures.extend(f"{operation.label} as {role} [{mode.value}]: {part}" for part in parts)
    print(f"schemathesis: {len(calls)} cases, {len(failures)} failures")
    assert calls
    assert not failures, f"{len(failures)} failures in {len(calls)} cases:\n\n" + "\n\n".join(failures)
