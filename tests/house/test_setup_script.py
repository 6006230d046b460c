"""scripts/setup.sh installs into the project's environment only, never into the system Python."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# A stand-in for an interpreter: logs how it was called; `-m venv DIR` makes DIR/bin/python (another stand-in).
STUB = """#!/usr/bin/env bash
echo "$0 $*" >> "$CALLS"
if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then
  mkdir -p "$3/bin" && cp "$0" "$3/bin/python" && chmod +x "$3/bin/python"
fi
"""


def _run(tmp_path: Path, with_uv: bool) -> list[str]:
    project = tmp_path / "project"
    (project / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "setup.sh", project / "scripts" / "setup.sh")
    (project / "scripts" / "assets.sh").write_text("true\n")
    tools = tmp_path / "bin"
    tools.mkdir()
    for name in ("python3", *(["uv"] if with_uv else [])):
        (tools / name).write_text(STUB)
        (tools / name).chmod(0o755)
    calls = tmp_path / "calls.log"
    env = {"PATH": f"{tools}:/usr/bin:/bin", "CALLS": str(calls), "HOME": str(tmp_path)}
    subprocess.run(["bash", str(project / "scripts" / "setup.sh")], env=env, check=True, cwd=project)
    return calls.read_text().splitlines()


@pytest.mark.parametrize("with_uv", [True, False])
def test_setup_never_installs_into_the_system_python(tmp_path: Path, with_uv: bool) -> None:
    if os.name != "posix":
        pytest.skip("bash script")
    calls = _run(tmp_path, with_uv)
    system = [c for c in calls if c.split()[0].endswith("/bin/python3")]
    # the system interpreter may only create the project's environment
    assert all(" -m venv " in c for c in system), system
    installs = [c for c in calls if " install " in c]
    assert installs
    assert all(c.split()[0].endswith((".venv/bin/python", "/uv")) for c in installs), installs
    if with_uv:
        assert any("--python .venv/bin/python" in c for c in installs)
