"""The SQL constructs the engine needs that SQLAlchemy Core lacks, portable to SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ClauseElement, CompoundSelect, Select, String, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.functions import FunctionElement


class CreateTempTableAs(Executable, ClauseElement):
    """CREATE TEMPORARY TABLE name AS SELECT …"""

    inherit_cache = False

    def __init__(self, name: str, query: Select[Any] | CompoundSelect[Any]) -> None:
        self.name = name
        self.query = query


@compiles(CreateTempTableAs)
def _create_temp_as(element: CreateTempTableAs, compiler: Any, **kw: Any) -> str:
    return f"CREATE TEMPORARY TABLE {element.name} AS {compiler.process(element.query, **kw)}"


class json_object(FunctionElement[Any]):
    """A JSON object from alternating literal keys and values (json_object / json_build_object)."""

    inherit_cache = True
    name = "json_object"


@compiles(json_object)
def _json_object_sqlite(element: json_object, compiler: Any, **kw: Any) -> str:
    return f"json_object({compiler.process(element.clause_expr, **kw)[1:-1]})"


@compiles(json_object, "postgresql")
def _json_object_pg(element: json_object, compiler: Any, **kw: Any) -> str:
    return f"json_build_object({compiler.process(element.clause_expr, **kw)[1:-1]})"


class text_format(FunctionElement[str]):
    """printf-style text from a `%s` template: NULL arguments print as '' (printf / format)."""

    type = String()
    inherit_cache = True
    name = "printf"


@compiles(text_format)
def _text_format_sqlite(element: text_format, compiler: Any, **kw: Any) -> str:
    return f"printf({compiler.process(element.clause_expr, **kw)[1:-1]})"


@compiles(text_format, "postgresql")
def _text_format_pg(element: text_format, compiler: Any, **kw: Any) -> str:
    return f"format({compiler.process(element.clause_expr, **kw)[1:-1]})"


def json_pairs(columns: list[str], source: Any) -> list[Any]:
    """Alternating literal names and `source` columns, the arguments of `json_object`."""
    pairs: list[Any] = []
    for name in columns:
        pairs += [literal_column(f"'{name}'"), source.c[name]]
    return pairs
