"""Encrypted column types and blind-index columns: encryption happens in the ORM type, on every path.

`EncryptedText("customers.id_number")` stores AES-GCM ciphertext (see
`security.crypto`) and hands the application plain text; `EncryptedDate` does
the same for a date, stored as an encrypted ISO string. Both also apply to Core
statements and to the demo bulk loader, which runs each column's bind
processor. A blind-index column carries `info={"blind_index_of": "<column>"}`;
`keep_blind_index` fills it from the ORM attribute, `blind_index_rows` from raw
bulk rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Column, Table, Text, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.types import TypeDecorator

from custinfo.security import crypto


class EncryptedText(TypeDecorator[str]):
    """Text encrypted at rest with the active key ring, bound to "table.column"."""

    impl = Text
    cache_ok = True

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return crypto.active().encrypt(self.plain(value), self.context)

    def plain(self, value: Any) -> str:
        """The text that gets encrypted for an application value."""
        return str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return self.parse(crypto.active().decrypt(value, self.context))

    def parse(self, text: str) -> Any:
        """The application value for decrypted text."""
        return text

    def process_literal_param(self, value: Any, dialect: Dialect) -> str:
        raise TypeError("encrypted values are never rendered into SQL text")


class EncryptedDate(EncryptedText):
    """A date encrypted at rest as its ISO text; the application sees a `date`."""

    cache_ok = True

    def plain(self, value: Any) -> str:
        """ISO text of a date (an ISO string, as the bulk loader sends, is checked and kept)."""
        if isinstance(value, date):
            return value.isoformat()
        return date.fromisoformat(str(value)).isoformat()

    def parse(self, text: str) -> date:
        """The date of decrypted ISO text."""
        return date.fromisoformat(text)

    @property
    def python_type(self) -> type[Any]:
        return date


def blind_index(value: str | None, context: str) -> str | None:
    """The blind index of a value for `context` ("table.column"), None for None."""
    if value is None:
        return None
    return crypto.active().blind_index(value, context)


def keep_blind_index(source: InstrumentedAttribute[Any], target: str) -> None:
    """Whenever `source` is set on an instance, set its `target` column to the blind index."""
    context = f"{source.class_.__tablename__}.{source.key}"

    @event.listens_for(source, "set", retval=False)
    def _set(instance: Any, value: Any, _old: Any, _initiator: Any) -> None:
        setattr(instance, target, blind_index(value, context))


def blind_index_columns(table: Table) -> list[tuple[str, str]]:
    """(index column, source column) pairs of a table."""
    return [(c.name, c.info["blind_index_of"]) for c in table.columns if "blind_index_of" in c.info]


def blind_index_rows(
    table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    """Append missing blind-index columns, computed from the plain source values, to raw rows."""
    extra = [
        (target, source)
        for target, source in blind_index_columns(table)
        if target not in columns and source in columns
    ]
    if not extra:
        return tuple(columns), rows
    order = {c.name: i for i, c in enumerate(table.columns)}
    names = list(columns)
    ring = crypto.active()
    for target, source in extra:
        # Insert where the table declares the column: the SQLite path compiles the INSERT in table order.
        at = sum(1 for name in names if order.get(name, -1) < order[target])
        source_at = names.index(source)
        context = f"{table.name}.{source}"
        rows = [
            (
                *row[:at],
                None if row[source_at] is None else ring.blind_index(row[source_at], context),
                *row[at:],
            )
            for row in rows
        ]
        names.insert(at, target)
    return tuple(names), rows


def encrypted_columns(tables: Sequence[Table]) -> list[tuple[Table, Column[Any]]]:
    """Every (table, column) whose type is encrypted, for rotation and status."""
    return [(t, c) for t in tables for c in t.columns if isinstance(c.type, EncryptedText)]
