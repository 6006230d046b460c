"""`custinfo serve`: the web UI and the JSON API in one process."""

from __future__ import annotations

import typer
import uvicorn
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

from custinfo.app import create_app
from custinfo.cli import CliError, console, handles_errors, load_settings, open_database, warn_about_storage
from custinfo.config import Settings


def run_server(settings: Settings, engine: Engine, host: str, port: int) -> None:
    """Serve the app on host:port until interrupted."""
    if not inspect(engine).has_table("alembic_version"):
        raise CliError("the database has no schema yet: run `custinfo init` first")
    warn_about_storage(settings)
    console.print(f"Serving custinfo at http://{host}:{port}/ (API: http://{host}:{port}/api/v1/docs)")
    # The job worker and scheduler run with the app; operators without a server use cron: `custinfo jobs run`.
    # proxy_headers off: uvicorn would believe X-Forwarded-For from 127.0.0.1; the app trusts only
    # CUSTINFO_TRUSTED_PROXIES (auth.deps.client_address).
    uvicorn.run(
        create_app(settings, engine=engine, run_jobs=True),
        host=host,
        port=port,
        log_level="info",
        proxy_headers=False,
    )


@handles_errors
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on (0.0.0.0 for every one)."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port."),
) -> None:
    """Serve the web UI at /, the API at /api/v1 and its OpenAPI description at /api/v1/openapi.json."""
    settings = load_settings()
    run_server(settings, open_database(settings), host, port)
