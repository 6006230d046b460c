"""Log hygiene: request logs never carry query strings (a search may hold an ID number or a mobile)."""

from __future__ import annotations

import logging

ACCESS_LOGGERS = ("uvicorn.access",)


class DropQueryString(logging.Filter):
    """Cuts the query string off the path in uvicorn's access-log records."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's path argument; never drops the record."""
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0] + "?…", *args[3:])
        return True


def install() -> None:
    """Attach the filter to the access loggers (idempotent)."""
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, DropQueryString) for f in logger.filters):
            logger.addFilter(DropQueryString())
