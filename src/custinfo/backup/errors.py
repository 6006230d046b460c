"""Why a backup could not be made, opened, verified or restored: a message key and its parameters."""

from __future__ import annotations

from typing import ClassVar

from custinfo.core.errors import DomainError


class BackupFailure(DomainError):
    """A backup operation failed for a reason the operator can act on (`backup.failure.*` keys).

    The parameters name tables, parts, tools and counts — never a value from the data.
    """

    status: ClassVar[int] = 422
    title_key: ClassVar[str] = "backup.failure.title"
