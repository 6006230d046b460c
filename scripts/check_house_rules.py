"""Rules of the house that an import graph cannot express, checked on src/custinfo (run by scripts/test.sh).

1. Only the unit of work commits: no `.commit(` outside src/custinfo/core/uow.py.
2. No imports inside function bodies (the usual sign of a hidden cycle), except the optional heavy
   dependencies in OPTIONAL_HEAVY, which only some commands need.
3. No import cycles between modules of custinfo (type-checking-only imports excepted).

Exit status 1 with one line per violation; 0 when every rule holds.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "custinfo"
UNIT_OF_WORK = PACKAGE / "core" / "uow.py"
# Optional, heavy, needed by few commands: imported where used so the rest never pays for them.
OPTIONAL_HEAVY = frozenset({"pandas", "duckdb", "polars", "sklearn", "mlxtend", "splink", "recordlinkage"})


def _sources() -> Iterator[Path]:
    yield from sorted(p for p in PACKAGE.rglob("*.py") if "static" not in p.parts)


def commits_outside_unit_of_work(path: Path, tree: ast.AST) -> Iterator[str]:
    """`.commit(` calls anywhere but the unit of work."""
    if path == UNIT_OF_WORK:
        return
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit":
            yield f"{path.relative_to(ROOT)}:{node.lineno}: .commit() outside the unit of work (core/uow.py)"


def imports_in_functions(path: Path, tree: ast.AST) -> Iterator[str]:
    """Import statements inside a function body, other than the optional heavy dependencies."""
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            if all(name.split(".")[0] in OPTIONAL_HEAVY for name in names):
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            yield f"{where}: import inside {function.name}() — import at the top of the module"


def import_cycles(package: str = "custinfo") -> Iterator[str]:
    """Strongly connected groups of the package's modules (Tarjan), each reported once."""
    graph = grimp.build_graph(package, exclude_type_checking_imports=True)
    modules = sorted(graph.modules)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    counter = 0

    def visit(module: str) -> Iterator[list[str]]:
        nonlocal counter
        index[module] = low[module] = counter
        counter += 1
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in index:
                yield from visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                yield sorted(group)

    sys.setrecursionlimit(10_000)
    for module in modules:
        if module not in index:
            for group in visit(module):
                yield "import cycle: " + " -> ".join(group)


def main() -> int:
    """Print every violation; exit 1 if there is any."""
    problems: list[str] = []
    for path in _sources():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        problems += commits_outside_unit_of_work(path, tree)
        problems += imports_in_functions(path, tree)
    problems += import_cycles()
    for line in problems:
        print(line)
    if problems:
        print(f"{len(problems)} violation(s) of the rules of the house (see CONTRIBUTING.md)")
        return 1
    print("rules of the house: commits, function-level imports and import cycles all clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
