"""The input edge: control characters, encodings, ranges, error format and log hygiene, on both databases."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from custinfo.app import SECURITY_HEADERS, create_app
from custinfo.config import Settings
from custinfo.core.db import make_engine
from custinfo.core.errors import Invalid
from custinfo.core.fields import FieldSpec, text_problem, validate
from custinfo.core.fields import text as text_parser
from custinfo.security import logs as log_hygiene

API = "/api/v1"
ID_NUMBER = "320213199001012158"
PROBLEM = "application/problem+json"

Login = Callable[[str], dict[str, str]]


def assert_problem(response: object, status: int, field: str | None = None, rule: str | None = None) -> None:
    """A problem-details answer with the security headers, naming `field` and `rule` when given."""
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith(PROBLEM)  # type: ignore[attr-defined]
    for name in SECURITY_HEADERS:
        assert name in response.headers, name  # type: ignore[attr-defined]
    if field is not None:
        errors = {(e["field"], e["rule"]) for e in response.json()["errors"]}  # type: ignore[attr-defined]
        assert (field, rule) in errors, errors


@pytest.mark.parametrize(
    ("value", "multiline", "rule"),
    [
        ("plain 文本", False, None),
        ("a\x00b", True, "text.control"),
        ("a\x1bb", True, "text.control"),
        ("a\x85b", True, "text.control"),
        ("line\nline\tcell\r\n", True, None),
        ("line\nline", False, "text.control"),
        ("\ud800", True, "text.encoding"),
    ],
)
def test_text_rules(value: str, multiline: bool, rule: str | None) -> None:
    assert text_problem(value, multiline=multiline) == rule


def test_invisible_only_name_is_blank() -> None:
    spec = FieldSpec("name", text_parser(50), required_for=frozenset({"*"}))
    with pytest.raises(Invalid) as caught:
        validate([spec], {"name": "\u200b\u200c\u2060\ufeff "})
    assert [(e.field, e.rule) for e in caught.value.errors] == [("name", "field.required")]
    assert validate([spec], {"name": "\u200b张三\u200d"}) == {"name": "张三"}


def test_nul_in_query_is_422_naming_the_parameter(client: TestClient, login: Login) -> None:
    response = client.get(f"{API}/customers", params={"q": f"{ID_NUMBER}\x00"}, headers=login("admin"))
    assert_problem(response, 422, "q", "text.control")
    assert ID_NUMBER not in response.text


def test_bad_utf8_in_query_and_path(client: TestClient, login: Login) -> None:
    assert_problem(
        client.get(f"{API}/customers?q=%ED%A0%80", headers=login("admin")), 422, "q", "text.encoding"
    )
    assert_problem(client.get(f"{API}/customers/%FF", headers=login("admin")), 422, "path", "text.encoding")


def test_json_body_controls_surrogates_and_huge_integers(client: TestClient, login: Login) -> None:
    body = b'{"name": "a\\u0000b", "notes": "\\ud83d", "version": 123456789012345678901234567890, "x": 1e999}'
    response = client.post(
        f"{API}/customers", content=body, headers={**login("admin"), "content-type": "application/json"}
    )
    assert_problem(response, 422, "name", "text.control")
    errors = {(e["field"], e["rule"]) for e in response.json()["errors"]}
    assert {("notes", "text.encoding"), ("version", "integer.range"), ("x", "number.finite")} <= errors


def test_year_one_in_a_body_is_422(client: TestClient, login: Login) -> None:
    body = {"kind": "individual", "name": "张三", "birth_date": "0001-01-01"}
    response = client.post(f"{API}/customers", json=body, headers=login("admin"))
    assert_problem(response, 422, "birth_date", "date.range")


def test_form_body_nul_is_422(client: TestClient) -> None:
    response = client.post(f"{API}/auth/token", data={"username": "admin\x00", "password": "x"})
    assert_problem(response, 422, "username", "text.control")


@pytest.mark.parametrize("customer_id", ["99999999999999999999999", "-99999999999999999999999"])
def test_integer_beyond_64_bits_in_path_is_422(client: TestClient, login: Login, customer_id: str) -> None:
    response = client.get(f"{API}/customers/{customer_id}", headers=login("admin"))
    assert_problem(response, 422, "customer_id", "integer.range")


@pytest.mark.parametrize(
    ("as_of", "rule"), [("0001-01-01", "date.range"), ("9999-12-31", "date.range"), ("0", "date.format")]
)
def test_extreme_date_in_query_is_422(client: TestClient, login: Login, as_of: str, rule: str) -> None:
    response = client.get(f"{API}/tags/quality", params={"as_of": as_of}, headers=login("admin"))
    assert_problem(response, 422, "as_of", rule)


@pytest.mark.parametrize(("as_of", "rule"), [(0, "date.format"), ("1970-01-01", "date.range")])
def test_classification_run_as_of_is_bounded(
    client: TestClient, login: Login, as_of: object, rule: str
) -> None:
    response = client.post(f"{API}/classification/runs", json={"as_of": as_of}, headers=login("admin"))
    assert_problem(response, 422, "as_of", rule)


def test_unparsable_bodies_get_problem_details(client: TestClient, login: Login) -> None:
    headers = login("admin")
    broken_json = client.post(
        f"{API}/customers", content=b'{"name":', headers={**headers, "content-type": "application/json"}
    )
    assert_problem(broken_json, 422, "body", "request.json")
    broken_form = client.post(
        f"{API}/auth/token", content=b"--x\r\n", headers={"content-type": "multipart/form-data"}
    )
    assert_problem(broken_form, 400)


def test_routing_errors_are_problems_with_headers(client: TestClient) -> None:
    assert_problem(client.get(f"{API}/no-such-thing"), 404)
    assert_problem(client.delete(f"{API}/auth/token"), 405)


@pytest.fixture
def crashing(
    settings: Settings, engine: Engine, session_factory: sessionmaker[Session]
) -> Iterator[TestClient]:
    """An app of its own with one route that fails the way a database error would, with a value in its message."""
    app = create_app(settings, engine=engine)
    app.state.session_factory = session_factory

    @app.get(f"{API}/test-crash")
    def crash(q: str) -> None:
        raise RuntimeError(f"duplicate key value violates unique constraint DETAIL: Key (id)=({q})")

    with TestClient(app) as test_client:
        yield test_client


def test_server_error_is_a_problem_without_values(
    crashing: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        response = crashing.get(f"{API}/test-crash", params={"q": ID_NUMBER})
    assert_problem(response, 500)
    assert ID_NUMBER not in response.text
    server_side = [r for r in caplog.records if not r.name.startswith("httpx")]  # httpx logs the client's URL
    assert any("RuntimeError" in record.getMessage() for record in server_side)
    assert all(ID_NUMBER not in record.getMessage() for record in server_side)
    assert all(record.exc_info is None for record in server_side)


def test_server_error_log_keeps_types_not_messages(caplog: pytest.LogCaptureFixture) -> None:
    log_hygiene.install()
    try:
        raise ValueError(f"Key (id_number_bidx)=({ID_NUMBER}) already exists")
    except ValueError:
        with caplog.at_level(logging.ERROR):
            logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    [record] = [r for r in caplog.records if r.name == "uvicorn.error"]
    assert "builtins.ValueError" in record.getMessage()
    assert ID_NUMBER not in caplog.text
    assert record.exc_info is None


def test_engine_errors_never_carry_bound_parameters(engine: Engine, tmp_path: object) -> None:
    fresh = make_engine(engine.url.render_as_string(hide_password=False))
    try:
        with fresh.connect() as conn, pytest.raises(Exception) as caught:
            conn.execute(text("SELECT CAST(:v AS INTEGER) + no_such_column"), {"v": ID_NUMBER})
        assert ID_NUMBER not in str(caught.value)
    finally:
        fresh.dispose()


def test_openapi_documents_problem_answers(client: TestClient) -> None:
    document = client.get(f"{API}/openapi.json").json()
    assert "Problem" in document["components"]["schemas"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            expected = {"400", "401", "403", "404", "422", "429", "500"}
            if method in {"post", "put", "patch", "delete"}:
                expected |= {"409", "428"}
            assert expected <= set(responses), f"{method} {path}"
            for code in expected:
                assert set(responses[code]["content"]) == {PROBLEM}, f"{method} {path} {code}"
