"""Log hygiene: no request value reaches a log line.

Request logs never carry query strings (a search may hold an ID number or a mobile), and a logged
failure names exception types and code places only: exception messages can quote values (a
unique-key DETAIL, a bound parameter, a parsed field), so their text is never written.
"""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

ACCESS_LOGGERS = ("uvicorn.access",)
# Loggers of the server that print tracebacks of failures escaping the app.
ERROR_LOGGERS = ("uvicorn.error", "uvicorn.asgi")


class DropQueryString(logging.Filter):
    """Cuts the query string off the path in uvicorn's access-log records."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's path argument; never drops the record."""
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0] + "?…", *args[3:])
        return True


def describe(error: BaseException, depth: int = 10) -> str:
    """An exception as its chain of types and the innermost code places, without any message text."""
    chain: list[str] = []
    current: BaseException | None = error
    while current is not None and len(chain) < 6:
        chain.append(f"{type(current).__module__}.{type(current).__qualname__}")
        current = current.__cause__ or current.__context__
    frames = traceback.extract_tb(error.__traceback__)[-depth:]
    where = " < ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames))
    return f"{' from '.join(chain)} at {where or '?'}"


class RedactExceptions(logging.Filter):
    """Replaces a record's traceback (whose messages may quote values) by `describe`."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Fold the exception into the message as types and places; never drops the record."""
        if record.exc_info and record.exc_info[1] is not None:
            record.msg = f"{record.getMessage()}: {describe(record.exc_info[1])}"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True


def _attach(names: tuple[str, ...], kind: type[logging.Filter]) -> None:
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, kind) for f in logger.filters):
            logger.addFilter(kind())


def install() -> None:
    """Attach the filters to the server's access and error loggers (idempotent)."""
    _attach(ACCESS_LOGGERS, DropQueryString)
    _attach(ERROR_LOGGERS, RedactExceptions)
