"""Command-line interface: helpers shared by the command groups (settings, one-line errors, output)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar, cast

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from custinfo.config import Settings
from custinfo.core import clock
from custinfo.core.db import make_engine
from custinfo.core.errors import DomainError
from custinfo.core.problems import problem
from custinfo.security.crypto import KeyRingError
from custinfo.security.storage import prepare_sqlite_file, private_directory, storage_warnings

console = Console(highlight=False, soft_wrap=True)
error_console = Console(stderr=True, highlight=False)
F = TypeVar("F", bound=Callable[..., Any])


class CliError(Exception):
    """An error whose message is the whole explanation for the operator."""


def fail(message: str) -> NoReturn:
    """Print a one-line error to stderr and exit with status 1."""
    error_console.print(f"Error: {message}", markup=False, soft_wrap=True)
    raise typer.Exit(1)


def progress_bar(title: str, remaining: bool = False) -> Progress:
    """A counted progress bar on the console: title, bar, done/total, time elapsed (and time left)."""
    columns: list[ProgressColumn] = [
        TextColumn(f"[bold]{title}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    ]
    if remaining:
        columns.append(TimeRemainingColumn())
    return Progress(*columns, console=console)


def load_settings() -> Settings:
    """Settings from the environment (CUSTINFO_*); local dates are judged in their time zone."""
    settings = Settings()
    clock.use_zone(settings.timezone)
    return settings


def safe_url(url: str) -> str:
    """A database URL with its password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparseable URL)"


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "").rstrip(".")


def open_database(settings: Settings) -> Engine:
    """An engine for the configured database, checked by connecting (CliError when unreachable)."""
    url = settings.effective_database_url
    if url.startswith("sqlite"):
        private_directory(settings.data_dir)
        prepare_sqlite_file(url)
    engine = make_engine(url)
    try:
        with engine.connect():
            pass
    except DBAPIError as error:
        engine.dispose()
        reason = _first_line(str(error.orig)) or type(error.orig).__name__
        raise CliError(f"cannot connect to the database {safe_url(url)}: {reason}") from error
    return engine


def warn_about_storage(settings: Settings) -> None:
    """Print a warning for each way the database or the key file is exposed on disk."""
    for warning in storage_warnings(settings):
        error_console.print(f"Warning: {warning}", markup=False, soft_wrap=True)


def explain(error: BaseException) -> str | None:
    """A one-line reason for an error an operator can fix; None for a bug (which keeps its traceback)."""
    if isinstance(error, ValidationError):
        first = error.errors()[0]
        where = ".".join(str(part) for part in first.get("loc", ()))
        message = str(first["msg"]).removeprefix("Value error, ")
        return (
            f"invalid setting CUSTINFO_{where.upper()}: {message}"
            if where
            else f"invalid settings: {message}"
        )
    if isinstance(error, NoSuchModuleError | ArgumentError):
        return f"invalid CUSTINFO_DATABASE_URL: {_first_line(str(error))}"
    if isinstance(error, CliError | KeyRingError):
        return str(error)
    if isinstance(error, DBAPIError):
        return f"database error: {_first_line(str(error.orig)) or type(error.orig).__name__}"
    if isinstance(error, SQLAlchemyError):
        return f"database error: {_first_line(str(error))}"
    if isinstance(error, DomainError):
        try:
            language = load_settings().language
        except ValidationError:
            language = "zh_CN"
        body = problem(error, language)
        details = [body["detail"] or body["title"]] + [e["message"] for e in body.get("errors", [])]
        return " — ".join(d for d in details if d)
    if isinstance(error, OSError):
        return f"{error.strerror or type(error).__name__}: {error.filename or ''}".rstrip(": ")
    return None


def handles_errors(command: F) -> F:
    """Decorate a command so that expected errors end it with a one-line reason and exit status 1."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as error:
            reason = explain(error)
            if reason is None:
                raise
            fail(reason)

    return cast(F, run)
