"""The custom house-rule checks find what they are meant to find (and pass on the code base)."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_house_rules.py"
spec = importlib.util.spec_from_file_location("check_house_rules", SCRIPT)
assert spec and spec.loader
rules = importlib.util.module_from_spec(spec)
spec.loader.exec_module(rules)


def _lines(check, source: str, path: Path | None = None) -> list[str]:
    path = path or rules.PACKAGE / "somewhere" / "service.py"
    return list(check(path, ast.parse(source)))


def test_commit_outside_the_unit_of_work_is_reported() -> None:
    assert _lines(rules.commits_outside_unit_of_work, "def f(s):\n    s.commit()\n")
    assert not _lines(rules.commits_outside_unit_of_work, "def f(s):\n    s.flush()\n")
    assert not _lines(rules.commits_outside_unit_of_work, "def f(s):\n    s.commit()\n", rules.UNIT_OF_WORK)


def test_imports_inside_functions_are_reported_except_optional_heavy_ones() -> None:
    found = _lines(
        rules.imports_in_functions, "def f():\n    from custinfo.core import db\n    import json\n"
    )
    assert len(found) == 2 and "inside f()" in found[0]
    assert not _lines(rules.imports_in_functions, "import json\n\ndef f():\n    import pandas as pd\n")
    assert not _lines(
        rules.imports_in_functions, "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import json\n"
    )


def test_import_cycles_are_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "cyclic_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from cyclic_pkg import b\n")
    (package / "b.py").write_text("from cyclic_pkg import c\n")
    (package / "c.py").write_text("from cyclic_pkg import a\n")
    (package / "d.py").write_text("from cyclic_pkg import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    cycles = list(rules.import_cycles("cyclic_pkg"))
    assert cycles == ["import cycle: cyclic_pkg.a -> cyclic_pkg.b -> cyclic_pkg.c"]
    sys.modules.pop("cyclic_pkg", None)


def test_the_code_base_has_no_import_cycle() -> None:
    assert list(rules.import_cycles()) == []
