"""`custinfo classify` as an operator runs it: full run with a report, one customer, --explain, errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CUSTINFO = Path(sys.executable).parent / "custinfo"


def run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CUSTINFO_")}
    env.update(CUSTINFO_DATA_DIR=str(data_dir), COLUMNS="200")
    return subprocess.run(
        [str(CUSTINFO), *args], cwd=data_dir, env=env, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_demo_classifies_and_classify_reports_and_explains(tmp_path: Path) -> None:
    loaded = run(tmp_path, "demo", "--customers", "300", "--no-serve")
    assert loaded.returncode == 0, loaded.stderr
    assert "Classified 300 customers" in loaded.stdout
    full = run(tmp_path, "classify", "--as-of", "2026-06-30")
    assert full.returncode == 0, full.stderr
    assert "(full, as of 2026-06-30): 300 customers" in full.stdout
    one = run(tmp_path, "classify", "--customer", "1")
    assert one.returncode == 0 and "(incremental" in one.stdout
    explained = run(tmp_path, "classify", "--explain", "1")
    assert explained.returncode == 0 and "→" in explained.stdout
    missing = run(tmp_path, "classify", "--explain", "999999")
    assert missing.returncode != 0 and missing.stderr.startswith("Error: ")
    bad = run(tmp_path, "classify", "--as-of", "yesterday")
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
