"""Key rotation: re-encrypt every encrypted column to the current key, in committed batches, online.

Rows are found by the 4-character key prefix of their ciphertext, so a run that
was interrupted simply continues (`keys rotate --resume`). Each batch is its own
transaction; an UPDATE only replaces the exact ciphertext it read, so a value
the application changed meanwhile is left alone (and picked up by the next pass
if it was still sealed with an old key). Readers keep working throughout: a
process meeting an unknown key id re-reads the key file.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Column, ColumnElement, Table, and_, func, or_, select, text, type_coerce
from sqlalchemy.engine import Engine
from sqlalchemy.types import Text

from custinfo.core.db import Base
from custinfo.security.crypto import HEADER_BYTES, KeyRing, prefix
from custinfo.security.encrypted import encrypted_columns

MAX_PASSES = 5


def encrypted_tables() -> dict[Table, list[Column[object]]]:
    """Tables with encrypted columns, and those columns (of every model module imported: see custinfo.models)."""
    found: dict[Table, list[Column[object]]] = {}
    for table, column in encrypted_columns(list(Base.metadata.sorted_tables)):
        found.setdefault(table, []).append(column)
    return found


def _stale(columns: list[Column[object]], current: str) -> ColumnElement[bool]:
    return or_(
        *(
            and_(column.is_not(None), func.substr(type_coerce(column, Text), 1, 4) != current)
            for column in columns
        )
    )


def pending(engine: Engine, ring: KeyRing) -> int:
    """Rows holding at least one value not sealed with the current key."""
    current = prefix(ring.current)
    total = 0
    with engine.connect() as connection:
        for table, columns in encrypted_tables().items():
            stmt = select(func.count()).select_from(table).where(_stale(columns, current))
            total += int(connection.scalar(stmt) or 0)
    return total


@dataclass
class RotationReport:
    """What a re-encryption run did."""

    rows: int = 0
    values: int = 0
    skipped: int = 0
    passes: int = 0
    per_table: dict[str, int] = field(default_factory=dict)


def reencrypt(
    engine: Engine,
    ring: KeyRing,
    batch_size: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> RotationReport:
    """Re-encrypt, batch by batch (one commit each), every value not sealed with the ring's current key."""
    report = RotationReport()
    current = prefix(ring.current)
    for _ in range(MAX_PASSES):
        report.passes += 1
        changed = 0
        for table, columns in encrypted_tables().items():
            changed += _table(engine, ring, table, columns, current, batch_size, report, progress)
        if changed == 0 or pending(engine, ring) == 0:
            break
    return report


def _table(
    engine: Engine,
    ring: KeyRing,
    table: Table,
    columns: list[Column[object]],
    current: str,
    batch_size: int,
    report: RotationReport,
    progress: Callable[[int], None] | None,
) -> int:
    quote = engine.dialect.identifier_preparer.quote
    raw = [type_coerce(c, Text).label(c.name) for c in columns]
    last = 0
    changed = 0
    while True:
        with engine.begin() as connection:
            rows = connection.execute(
                select(table.c.id, *raw)
                .where(table.c.id > last, _stale(columns, current))
                .order_by(table.c.id)
                .limit(batch_size)
            ).all()
            if not rows:
                return changed
            groups: dict[tuple[str, ...], list[dict[str, object]]] = {}
            for row in rows:
                params: dict[str, object] = {"id": row.id}
                names: list[str] = []
                for column in columns:
                    value = getattr(row, column.name)
                    if value is None or value[:4] == current:
                        continue
                    context = f"{table.name}.{column.name}"
                    params[f"new_{column.name}"] = ring.encrypt(ring.decrypt(value, context), context)
                    params[f"old_{column.name}"] = value
                    names.append(column.name)
                groups.setdefault(tuple(names), []).append(params)
            for changed_columns, batch in groups.items():
                if not changed_columns:
                    continue
                sets = ", ".join(f"{quote(n)} = :new_{n}" for n in changed_columns)
                guards = " AND ".join(f"{quote(n)} = :old_{n}" for n in changed_columns)
                result = connection.execute(
                    text(f"UPDATE {quote(table.name)} SET {sets} WHERE id = :id AND {guards}"), batch
                )
                done = result.rowcount if result.rowcount is not None and result.rowcount >= 0 else len(batch)
                report.rows += done
                report.skipped += len(batch) - done
                report.values += done * len(changed_columns)
                changed += done
                report.per_table[table.name] = report.per_table.get(table.name, 0) + done
            last = rows[-1].id
        if progress is not None:
            progress(len(rows))


def key_usage(engine: Engine) -> dict[str, dict[int, int]]:
    """ "table.column" → {key id: number of values sealed with it}."""
    usage: dict[str, dict[int, int]] = {}
    with engine.connect() as connection:
        for table, columns in encrypted_tables().items():
            for column in columns:
                head = func.substr(type_coerce(column, Text), 1, 4).label("head")
                rows = connection.execute(
                    select(head, func.count()).where(column.is_not(None)).group_by(head)
                ).all()
                counts: dict[int, int] = {}
                for head_text, count in rows:
                    try:
                        key_id = int.from_bytes(base64.b64decode(head_text)[1:HEADER_BYTES], "big")
                    except ValueError:
                        key_id = -1  # not a ciphertext at all
                    counts[key_id] = counts.get(key_id, 0) + int(count)
                usage[f"{table.name}.{column.name}"] = counts
    return usage
