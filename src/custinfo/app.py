"""create_app(settings): FastAPI app with API, web pages, static assets and error handling."""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import types
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator, MutableMapping
from contextlib import asynccontextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any, Union, get_args, get_origin
from urllib.parse import quote, unquote_to_bytes

import annotated_types
from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import BeforeValidator
from sqlalchemy.engine import Engine
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException

from custinfo import __version__, bootstrap
from custinfo.activity.api import router as activity_api
from custinfo.audit import anchor as audit_anchor
from custinfo.audit.api import router as audit_api
from custinfo.auth.api import router as auth_api
from custinfo.auth.deps import PASSWORD_PAGE, language_of
from custinfo.auth.service import PasswordChangeRequired
from custinfo.backup import service as backup_service
from custinfo.backup.api import router as backup_api
from custinfo.classification.api import router as classification_api
from custinfo.classification.categories.api import router as categories_api
from custinfo.classification.governance.api import router as governance_api
from custinfo.config import Settings
from custinfo.core import clock
from custinfo.core.db import make_engine, make_session_factory
from custinfo.core.errors import DomainError, FieldError, Invalid, MethodNotAllowed, NotFound, Unauthenticated
from custinfo.core.fields import SIGNED_64, text_problem
from custinfo.core.problems import (
    PROBLEM_SCHEMA,
    ServerFault,
    Unparsable,
    from_pydantic,
    problem,
    status_problem,
)
from custinfo.core.types import EARLIEST_DATE, LATEST_DATE, date_text_out_of_range, no_timestamps, within
from custinfo.customers.api import router as customers_api
from custinfo.customers.vocabularies.api import router as vocabularies_api
from custinfo.jobs.api import router as jobs_api
from custinfo.jobs.runner import Runner
from custinfo.protection.api import router as protection_api
from custinfo.security import crypto
from custinfo.security import logs as log_hygiene
from custinfo.web.pages import render_error
from custinfo.web.pages import router as web_router

API_PREFIX = "/api/v1"
STATIC_DIR = Path(__file__).resolve().parent / "web" / "static"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
PROBLEM_TYPE = "application/problem+json"
# Bodies the edge reads and checks before routing; uploads (multipart) are checked by their importers.
CHECKED_BODIES = ("application/json", "application/x-www-form-urlencoded")
# What every API operation may answer besides its success, and what writes may answer as well.
ERROR_STATUSES = {
    "400": "Unparsable request (problem details)",
    "401": "Sign-in required",
    "403": "The role may not do this",
    "404": "Absent or outside the caller's scope",
    "422": "Input failed validation; `errors` names each field and rule",
    "429": "Too many requests; try again later",
    "500": "Server error (never carries request values)",
}
WRITE_STATUSES = {
    "409": "Duplicate identifier or stale version",
    "428": "The record's version is required",
}
WRITE_METHODS = frozenset({"post", "put", "patch", "delete"})
logger = logging.getLogger("custinfo.errors")
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX)


def _domain_error(request: Request, error: DomainError) -> Response:
    language = language_of(request)
    if _is_api(request):
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(error, Unauthenticated) else None
        return JSONResponse(
            problem(error, language),
            status_code=error.status,
            headers=headers,
            media_type="application/problem+json",
        )
    if isinstance(error, PasswordChangeRequired):
        return RedirectResponse(PASSWORD_PAGE, status_code=303)
    if isinstance(error, Unauthenticated):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
    return render_error(request, error)


def _plain_problem(status: int, language: str, headers: Any = None) -> Response:
    return JSONResponse(
        status_problem(status, language), status_code=status, headers=headers, media_type=PROBLEM_TYPE
    )


def _base_type(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, types.UnionType):
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        return members[0] if len(members) == 1 else None
    return annotation


# One validator object each, so that bounding a shared router's routes again (a second app) adds nothing.
DATE_RANGE = within(EARLIEST_DATE, LATEST_DATE)
NOT_A_TIMESTAMP = BeforeValidator(no_timestamps)


def _bounded(field: Any) -> Any:
    """The parameter with the edge's range added: 64-bit integers, dates 1900–2100 (unless it has its own)."""
    info = field.field_info
    kind = _base_type(info.annotation)
    metadata = list(info.metadata)
    present = {type(m) for m in metadata}
    extra: list[Any] = []
    if kind is int:
        if not {annotated_types.Ge, annotated_types.Gt} & present:
            extra.append(annotated_types.Ge(SIGNED_64[0]))
        if not {annotated_types.Le, annotated_types.Lt} & present:
            extra.append(annotated_types.Le(SIGNED_64[1]))
    elif kind in (date, datetime) and DATE_RANGE not in metadata:
        extra += [NOT_A_TIMESTAMP, DATE_RANGE]
    if not extra:
        return field
    bounded_info = info._copy()
    bounded_info.metadata = [*metadata, *extra]
    return dataclasses.replace(field, field_info=bounded_info)


def _bound_parameters(dependant: Dependant, seen: set[int]) -> None:
    if id(dependant) in seen:
        return
    seen.add(id(dependant))
    for params in (dependant.path_params, dependant.query_params, dependant.header_params):
        params[:] = [_bounded(field) for field in params]
    for sub in dependant.dependencies:
        _bound_parameters(sub, seen)


def _dependants(routes: Iterable[Any]) -> Iterator[Dependant]:
    for route in routes:
        dependant = getattr(route, "dependant", None)
        if isinstance(dependant, Dependant):
            yield dependant
        # FastAPI includes routers lazily: each inclusion builds its own routes (and dependants).
        candidates = getattr(route, "effective_candidates", None)
        if candidates is not None:
            yield from _dependants(candidates())


def bound_parameters(app: FastAPI) -> None:
    """Give every integer and date parameter of every route the edge's range (before the first request).

    A path or query integer beyond 64 bits would otherwise reach the database (500), and year 1
    or 9999 would be read as a real day; this keeps the rule in one place instead of on each route.
    """
    seen: set[int] = set()
    for dependant in _dependants(app.routes):
        _bound_parameters(dependant, seen)


def document_errors(app: FastAPI) -> None:
    """Document, once for every operation, the problem-details answers it can give besides success."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            openapi_version=app.openapi_version,
            description=app.description,
            routes=app.routes,
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        components["Problem"] = PROBLEM_SCHEMA
        content = {PROBLEM_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for path_item in schema.get("paths", {}).values():
            for method, operation in path_item.items():
                responses = operation.setdefault("responses", {})
                statuses = {**ERROR_STATUSES, **(WRITE_STATUSES if method in WRITE_METHODS else {})}
                for code, description in statuses.items():
                    documented = responses.setdefault(code, {"description": description})
                    documented["content"] = content
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _content_type(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return value.decode("latin-1").split(";", 1)[0].strip().lower()
    return ""


def _field_name(raw: bytes, fallback: str) -> str:
    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError:
        return fallback
    return name[:60] if name and not text_problem(name) else fallback


def _pairs_problems(raw: bytes, where: str, multiline: bool) -> list[FieldError]:
    """Rule breaks in name=value pairs (a query string or a form): bad UTF-8, controls, dates out of range."""
    errors = []
    for pair in raw.split(b"&"):
        if not pair:
            continue
        name, _, value = pair.partition(b"=")
        name_bytes = unquote_to_bytes(name.replace(b"+", b" "))
        field = _field_name(name_bytes, where)
        for part, allow_lines in (
            (name_bytes, False),
            (unquote_to_bytes(value.replace(b"+", b" ")), multiline),
        ):
            try:
                decoded = part.decode("utf-8")
            except UnicodeDecodeError:
                errors.append(FieldError(field, "text.encoding"))
                break
            error = _text_error(field, decoded, allow_lines)
            if error:
                errors.append(error)
                break
    return errors


def _text_error(field: str, value: str, multiline: bool) -> FieldError | None:
    """The edge's rule break in one text: control characters, encoding, or a date outside 1900–2100."""
    rule = text_problem(value, multiline=multiline)
    if rule:
        return FieldError(field, rule)
    if date_text_out_of_range(value):
        return FieldError(
            field, "date.range", {"min": EARLIEST_DATE.isoformat(), "max": LATEST_DATE.isoformat()}
        )
    return None


def _json_problems(value: Any, path: str, errors: list[FieldError]) -> None:
    """Rule breaks anywhere in a parsed JSON body: controls, lone surrogates, dates, integers beyond 64 bits."""
    field = path or "body"
    if isinstance(value, str):
        error = _text_error(field, value, multiline=True)
        if error:
            errors.append(error)
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if not SIGNED_64[0] <= value <= SIGNED_64[1]:
            errors.append(FieldError(field, "integer.range", {"min": SIGNED_64[0], "max": SIGNED_64[1]}))
    elif isinstance(value, float):
        if not math.isfinite(value):
            errors.append(FieldError(field, "number.finite"))
    elif isinstance(value, dict):
        for key, item in value.items():
            rule = text_problem(key)
            if rule:
                errors.append(FieldError(field, rule))
                continue
            _json_problems(item, f"{path}.{key}"[:120] if path else key[:60], errors)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _json_problems(item, f"{path}.{index}" if path else str(index), errors)


def _url_problems(scope: Scope) -> list[FieldError]:
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogatepass")
    try:
        rule = text_problem(unquote_to_bytes(raw_path).decode("utf-8"))
    except UnicodeDecodeError:
        rule = "text.encoding"
    errors = [FieldError("path", rule)] if rule else []
    return errors + _pairs_problems(scope.get("query_string", b""), "query", multiline=False)


def _body_problems(content_type: str, body: bytes) -> list[FieldError]:
    if content_type == "application/x-www-form-urlencoded":
        return _pairs_problems(body, "form", multiline=True)
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return []  # the route's parser answers with problem details (request.json)
    errors: list[FieldError] = []
    _json_problems(parsed, "", errors)
    return errors


def _log_unhandled(scope: Scope, error: BaseException) -> None:
    route = getattr(scope.get("route"), "path", None) or "(no route)"
    logger.error("unhandled %s on %s %s", log_hygiene.describe(error), scope.get("method"), route)


class EdgeGuard:
    """The outermost layer the app controls: input rules before routing, security headers on every answer.

    Path, query string and JSON or form bodies are checked before any route sees them (a NUL byte,
    another control character, a lone surrogate, bad UTF-8 or an integer beyond 64 bits is a 422 naming
    the field), and a failure nothing else handled becomes a 500 problem without any request value.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the request, run the app, and add the security headers to whatever it answers."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_secured(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
                if not scope["path"].startswith("/static"):
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        try:
            errors = _url_problems(scope)
            content_type = _content_type(scope)
            if not errors and (content_type in CHECKED_BODIES or content_type.endswith("+json")):
                body = await _read_body(receive)
                errors = _body_problems(content_type, body)
                receive = _replay(body, receive)
            if errors:
                response = _domain_error(Request(scope), Invalid(errors[:20]))
                await response(scope, receive, send_secured)
                return
            await self.app(scope, receive, send_secured)
        except Exception as error:
            _log_unhandled(scope, error)
            if started:
                raise
            language = language_of(Request(scope))
            fault = ServerFault()
            await JSONResponse(problem(fault, language), status_code=500, media_type=PROBLEM_TYPE)(
                scope, receive, send_secured
            )


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


@asynccontextmanager
async def _job_runner(app: FastAPI) -> AsyncIterator[None]:
    runner = Runner(app.state.session_factory, app.state.settings.timezone)
    runner.start()
    app.state.job_runner = runner
    try:
        yield
    finally:
        runner.stop()


def create_app(
    settings: Settings | None = None, engine: Engine | None = None, run_jobs: bool = False
) -> FastAPI:
    """Build the application for the given settings (and optionally an existing engine).

    With `run_jobs` (as `custinfo serve` does) the job worker and scheduler run for the app's lifetime.
    """
    settings = settings or Settings()
    crypto.configure(settings)
    clock.use_zone(settings.timezone)
    audit_anchor.configure(settings)
    backup_service.configure(settings)
    log_hygiene.install()
    engine = engine or make_engine(settings.effective_database_url)
    app = FastAPI(
        title="custinfo API",
        version=__version__,
        description="客户信息分类管理系统 — customer records, classification and protection.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        lifespan=_job_runner if run_jobs else None,
    )
    app.state.settings = settings
    document_errors(app)
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    bootstrap.wire()

    # Governance first: its fixed paths (/tags/quality) must win over the engine's /tags/{code}.
    app.include_router(governance_api, prefix=API_PREFIX)
    app.include_router(classification_api, prefix=API_PREFIX)
    app.include_router(categories_api, prefix=API_PREFIX)
    for router in (auth_api, customers_api, activity_api, protection_api):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(audit_api, prefix=API_PREFIX)
    app.include_router(jobs_api, prefix=API_PREFIX)
    app.include_router(backup_api, prefix=API_PREFIX)
    app.include_router(vocabularies_api, prefix=API_PREFIX)
    app.include_router(web_router)

    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")
    bound_parameters(app)

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        return _domain_error(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def routing_error(request: Request, exc: StarletteHTTPException) -> Response:
        # Unknown paths and wrong methods get the same problem details / error page as domain errors.
        if exc.status_code == 404:
            return _domain_error(request, NotFound("error.page_not_found"))
        if exc.status_code == 405:
            return _domain_error(request, MethodNotAllowed("error.method_not_allowed_detail"))
        if exc.status_code == 400:
            return _domain_error(request, Unparsable())
        return _plain_problem(exc.status_code, language_of(request), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return _domain_error(request, from_pydantic(list(exc.errors())))

    app.add_middleware(EdgeGuard)

    return app
