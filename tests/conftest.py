"""Test harness: every database test runs on SQLite and on PostgreSQL, each test rolled back.

PostgreSQL is reached through CUSTINFO_TEST_DATABASE_URL: each run creates its
own database on that server and drops it at the end. Where the variable is
unset or the server unreachable the PostgreSQL variants skip with the reason,
except in CI (CI=true), where that is a failure.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import make_url, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker
from tests.factories import DEFAULT_PASSWORD, make_user

from custinfo import bootstrap
from custinfo.app import create_app
from custinfo.audit import anchor as audit_anchor
from custinfo.auth.models import User
from custinfo.auth.service import issue_session
from custinfo.backup import service as backup_service
from custinfo.config import Settings
from custinfo.core.db import make_engine
from custinfo.core.schema import upgrade
from custinfo.core.uow import Actor
from custinfo.security import crypto
from custinfo.security.crypto import ensure_key_file

BACKENDS = ["sqlite", "postgresql"]

# Encrypted columns need a key ring: one temporary key file for the whole run, never an operator's.
TEST_KEY_FILE = Path(tempfile.mkdtemp(prefix="custinfo-keys-")) / "keys.json"
os.environ["CUSTINFO_KEY_FILE"] = str(TEST_KEY_FILE)
os.environ["CUSTINFO_AUDIT_ANCHOR_FILE"] = str(TEST_KEY_FILE.with_name("audit-anchor.jsonl"))
ensure_key_file(TEST_KEY_FILE)
# Backups made by tests that give no directory of their own land in the run's temporary directory.
os.environ["CUSTINFO_BACKUP_DIR"] = str(TEST_KEY_FILE.with_name("backups"))
os.environ["CUSTINFO_BACKUP_KEY_FILE"] = str(TEST_KEY_FILE.with_name("backup-key.json"))


def _run_keys() -> None:
    run_settings = Settings(environment="test")
    crypto.configure(run_settings)
    audit_anchor.configure(run_settings)
    backup_service.configure(run_settings)


@pytest.fixture(scope="module", autouse=True)
def run_key_ring() -> Iterator[None]:
    """Each test module starts and ends with the run's key ring, anchor file and backup settings.

    A served app (the demo walk) installs its own ring process-wide for its module's tests; the next
    module's fixtures would otherwise seal their rows with that ring and their app could not open them.
    """
    _run_keys()
    yield
    _run_keys()


@pytest.fixture(scope="session", autouse=True)
def wired() -> None:
    """Event handlers and jobs, wired as create_app and the CLI wire them (tests also call services bare)."""
    bootstrap.wire()


def _postgres_url() -> str | None:
    return os.environ.get("CUSTINFO_TEST_DATABASE_URL") or None


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL is required in CI: {reason}")
    pytest.skip(f"PostgreSQL tests skipped: {reason}")


@pytest.fixture(scope="session")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path = tmp_path_factory.mktemp("db") / "test.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgresql_engine() -> Iterator[Engine]:
    """A private database per test run on the server of CUSTINFO_TEST_DATABASE_URL, dropped afterwards.

    Runs in parallel (several developers, or CI) therefore never share tables.
    """
    url = _postgres_url()
    if url is None:
        _unavailable("CUSTINFO_TEST_DATABASE_URL is not set (bash .ci/run sets it)")
    assert url is not None
    server = make_engine(url, isolation_level="AUTOCOMMIT")
    private = f"{make_url(url).database or 'custinfo'}_run_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        with server.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{private}"'))
    except Exception as exc:  # connection refused, auth failure, no CREATEDB…
        server.dispose()
        _unavailable(
            f"cannot create a test database on {make_url(url).render_as_string(hide_password=True)}: {exc}"
        )
    engine = make_engine(make_url(url).set(database=private).render_as_string(hide_password=False))
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{private}" WITH (FORCE)'))
        server.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def engine(request: pytest.FixtureRequest) -> Engine:
    """A migrated database engine, once per backend."""
    return request.getfixturevalue(f"{request.param}_engine")


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection whose outer transaction is rolled back after the test."""
    with engine.connect() as conn:
        outer = conn.begin()
        yield conn
        outer.rollback()


@pytest.fixture
def session_factory(connection: Connection) -> sessionmaker[Session]:
    """Sessions that commit into savepoints of the test's rolled-back transaction."""
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session acting as the system, for factories and direct service calls."""
    s = session_factory()
    s.info["actor"] = Actor.system("test")
    yield s
    s.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        environment="test",
        data_dir=tmp_path,
        database_url="sqlite://",
        backup_dir=tmp_path / "backups",
        backup_key_file=tmp_path / "backup-key.json",
    )


_APPS: dict[int, FastAPI] = {}


@pytest.fixture
def app(settings: Settings, engine: Engine, session_factory: sessionmaker[Session]) -> FastAPI:
    """The real app, its unit of work bound to the test transaction.

    Building an app costs a quarter of a second (FastAPI builds every route's dependants), so each
    worker builds one per database and gives it each test's settings and transaction; the app reads
    both from `app.state` per request. Tests that need a fresh app call `create_app` themselves.
    """
    application = _APPS.get(id(engine))
    if application is None:
        application = _APPS[id(engine)] = create_app(settings, engine=engine)
    crypto.configure(settings)
    audit_anchor.configure(settings)
    backup_service.configure(settings)
    application.state.settings = settings
    application.state.session_factory = session_factory
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def world(session: Session) -> dict[str, object]:
    """Two departments and one user per role: the cast of most API tests."""
    users = {
        "admin": make_user(session, "admin", "admin"),
        "steward": make_user(session, "steward", "data_steward"),
        "auditor": make_user(session, "auditor", "auditor"),
        "marketing": make_user(session, "marketing", "marketing"),
        "head_east": make_user(session, "head_east", "dept_head", "华东销售部"),
        "head_south": make_user(session, "head_south", "dept_head", "华南销售部"),
        "sales_east1": make_user(session, "sales_east1", "sales", "华东销售部"),
        "sales_east2": make_user(session, "sales_east2", "sales", "华东销售部"),
        "sales_south1": make_user(session, "sales_south1", "sales", "华南销售部"),
        "service1": make_user(session, "service1", "service", "华东销售部"),
    }
    session.commit()
    return users


@pytest.fixture
def login(client: TestClient, world: dict[str, object]):  # type: ignore[no-untyped-def]
    """login(username) → Authorization headers for that user, via the real token endpoint."""
    cache: dict[str, dict[str, str]] = {}

    def _login(username: str) -> dict[str, str]:
        if username not in cache:
            response = client.post(
                "/api/v1/auth/token", data={"username": username, "password": DEFAULT_PASSWORD}
            )
            assert response.status_code == 200, response.text
            cache[username] = {"Authorization": f"Bearer {response.json()['access_token']}"}
        return cache[username]

    return _login


@pytest.fixture
def token(session: Session, world: dict[str, User]) -> Callable[[str], dict[str, str]]:
    """token(username) → Authorization headers, issued directly (no password hashing per test)."""
    cache: dict[str, dict[str, str]] = {}

    def _token(username: str) -> dict[str, str]:
        if username not in cache:
            issued = issue_session(session, world[username], "api", timedelta(hours=1))
            session.commit()
            cache[username] = {"Authorization": f"Bearer {issued.secret}"}
        return cache[username]

    return _token
