"""create_app(settings): FastAPI app with API, web pages, static assets and error handling."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from custinfo import __version__, bootstrap
from custinfo.activity.api import router as activity_api
from custinfo.audit import anchor as audit_anchor
from custinfo.audit.api import router as audit_api
from custinfo.auth.api import router as auth_api
from custinfo.auth.deps import language_of
from custinfo.classification.api import router as classification_api
from custinfo.classification.governance.api import router as governance_api
from custinfo.config import Settings
from custinfo.core.db import make_engine, make_session_factory
from custinfo.core.errors import DomainError, MethodNotAllowed, NotFound, Unauthenticated
from custinfo.core.problems import from_pydantic, problem
from custinfo.customers.api import router as customers_api
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
    if isinstance(error, Unauthenticated):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
    return render_error(request, error)


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
    audit_anchor.configure(settings)
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
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    bootstrap.wire()

    # Governance first: its fixed paths (/tags/quality) must win over the engine's /tags/{code}.
    app.include_router(governance_api, prefix=API_PREFIX)
    app.include_router(classification_api, prefix=API_PREFIX)
    for router in (auth_api, customers_api, activity_api, protection_api):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(audit_api, prefix=API_PREFIX)
    app.include_router(jobs_api, prefix=API_PREFIX)
    app.include_router(web_router)

    app.mount("/static", StaticFiles(directory=str(STATIC_DIR)), name="static")

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
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return _domain_error(request, from_pydantic(list(exc.errors())))

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if not request.url.path.startswith("/static"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    return app
