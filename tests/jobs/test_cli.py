"""`custinfo jobs list|run` as an operator runs them (SQLite in a temporary data dir)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.e2e.test_cli import assert_one_line_error, run


def test_jobs_list_and_run(tmp_path: Path) -> None:
    assert run(tmp_path, "init", "--admin-password", "Strong-pass-9876").returncode == 0
    assert "jobs" in run(tmp_path, "--help").stdout
    listed = run(tmp_path, "jobs", "list")
    assert listed.returncode == 0, listed.stderr
    assert "classify" in listed.stdout and "每天 02:00" in listed.stdout and "从未运行" in listed.stdout
    ran = run(tmp_path, "jobs", "run", "classify", "--as-of", "2026-06-30")
    assert ran.returncode == 0, ran.stderr
    assert "job classify (run 1) succeeded" in ran.stdout and "as_of=2026-06-30" in ran.stdout
    with sqlite3.connect(tmp_path / "custinfo.db") as db:
        assert db.execute("SELECT status, requested_by FROM job_runs").fetchall() == [("succeeded", "cli")]
        assert db.execute("SELECT trigger FROM classification_runs").fetchall() == [("cli",)]
    again = run(tmp_path, "jobs", "list")
    assert "已完成" in again.stdout and "customers=0" in again.stdout
    assert run(tmp_path, "classify", "--as-of", "2026-06-30").returncode == 0  # the DESIGN §4 command stays


def test_jobs_run_refuses_with_one_line(tmp_path: Path) -> None:
    assert run(tmp_path, "init", "--admin-password", "Strong-pass-9876").returncode == 0
    unknown = run(tmp_path, "jobs", "run", "nope")
    assert_one_line_error(unknown)
    assert "nope" in unknown.stderr
    bad = run(tmp_path, "jobs", "run", "classify", "--as-of", "30.06.2026")
    assert_one_line_error(bad)
    assert "评估日期" in bad.stderr
