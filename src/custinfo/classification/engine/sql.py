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


class DialectFunction(FunctionElement[Any]):
    """A function that SQLite and PostgreSQL spell differently: `name` on SQLite, `postgresql_name` there."""

    inherit_cache = True
    postgresql_name = ""


def _arguments(element: DialectFunction, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.clause_expr, **kw))[1:-1]


@compiles(DialectFunction)
def _dialect_function(element: DialectFunction, compiler: Any, **kw: Any) -> str:
    return f"{element.name}({_arguments(element, compiler, **kw)})"


@compiles(DialectFunction, "postgresql")
def _dialect_function_pg(element: DialectFunction, compiler: Any, **kw: Any) -> str:
    return f"{element.postgresql_name or element.name}({_arguments(element, compiler, **kw)})"


class json_object(DialectFunction):
    """A JSON object from alternating literal keys and values (json_object / json_build_object)."""

    inherit_cache = True
    name = "json_object"
    postgresql_name = "json_build_object"


class text_format(DialectFunction):
    """printf-style text from a `%s` template: NULL arguments print as '' (printf / format)."""

    type = String()
    inherit_cache = True
    name = "printf"
    postgresql_name = "format"


def json_pairs(columns: list[str], source: Any) -> list[Any]:
    """Alternating literal names and `source` columns, the arguments of `json_object`."""
    pairs: list[Any] = []
    for name in columns:
        pairs += [literal_column(f"'{name}'"), source.c[name]]
    return pairs
