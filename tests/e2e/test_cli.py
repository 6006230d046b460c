"""The real `custinfo` console script, run as an operator would (SQLite in a temporary data dir)."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from custinfo.demo.generator import DEFAULT_DEMO_PASSWORD, DEMO_USERS

CUSTINFO = Path(sys.executable).parent / "custinfo"


def environment(data_dir: Path, **env: str) -> dict[str, str]:
    """The caller's environment without CUSTINFO_* settings, plus the data dir and `env`."""
    result = {k: v for k, v in os.environ.items() if not k.startswith("CUSTINFO_")}
    result.update(CUSTINFO_DATA_DIR=str(data_dir), COLUMNS="200", **env)
    return result


def run(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `custinfo ARGS` with its data in `data_dir` and no terminal attached."""
    return subprocess.run(
        [str(CUSTINFO), *args],
        cwd=data_dir,
        env=environment(data_dir, **env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
    )


def count(data_dir: Path, table: str) -> int:
    with sqlite3.connect(data_dir / "custinfo.db") as db:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def assert_one_line_error(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = run(tmp_path, "--help")
    assert result.returncode == 0
    for command in ("init", "serve", "demo"):
        assert command in result.stdout


def test_init_is_idempotent(tmp_path: Path) -> None:
    first = run(tmp_path, "init")
    assert first.returncode == 0, first.stderr
    assert "Created admin account 'admin' with password: " in first.stdout
    second = run(tmp_path, "init", "--admin-password", "Another-pass-123")
    assert second.returncode == 0, second.stderr
    assert "already exists" in second.stdout and "password" not in second.stdout.split("already exists")[0]
    assert count(tmp_path, "users") == 1
    assert (tmp_path / "custinfo.db").exists()


def test_init_rejects_a_weak_admin_password(tmp_path: Path) -> None:
    assert_one_line_error(run(tmp_path, "init", "--admin-password", "short"))


def test_demo_loads_once_and_prints_the_logins(tmp_path: Path) -> None:
    result = run(tmp_path, "demo", "--customers", "50", "--no-serve", "--seed", "1")
    assert result.returncode == 0, result.stderr
    for user in DEMO_USERS:
        assert user.username in result.stdout
    assert f"Password for the demo accounts: {DEFAULT_DEMO_PASSWORD}" in result.stdout
    assert "http://127.0.0.1:8000/" in result.stdout
    assert count(tmp_path, "customers") == 50
    assert count(tmp_path, "orders") > 300
    assert count(tmp_path, "users") == len(DEMO_USERS)

    again = run(tmp_path, "demo", "--customers", "50", "--no-serve", "--seed", "1")
    assert again.returncode == 0, again.stderr
    assert "already loaded" in again.stdout
    assert count(tmp_path, "customers") == 50

    refused = run(tmp_path, "demo", "--reset", "--no-serve")
    assert_one_line_error(refused)
    assert "--yes" in refused.stderr

    reset = run(
        tmp_path,
        "demo",
        "--reset",
        "--yes",
        "--customers",
        "30",
        "--no-serve",
        "--demo-password",
        "Other-pass-2026",
    )
    assert reset.returncode == 0, reset.stderr
    assert "Other-pass-2026" in reset.stdout
    assert count(tmp_path, "customers") == 30


def test_demo_generates_large_loads_in_a_child_process(tmp_path: Path) -> None:
    """From 20,000 customers the rows come from a spawned child (the progress bar runs a thread)."""
    result = run(tmp_path, "demo", "--customers", "20000", "--no-serve", "--orders-per-customer", "2")
    assert result.returncode == 0, result.stderr
    assert count(tmp_path, "customers") == 20000
    assert "Loaded 20,000 customers" in result.stdout


@pytest.mark.parametrize(
    "url",
    ["postgresql+psycopg://nobody@127.0.0.1:1/custinfo", "nosuchdb://somewhere/x"],
    ids=["unreachable", "unknown-dialect"],
)
@pytest.mark.parametrize("command", [["init"], ["demo", "--no-serve"], ["serve"]])
def test_a_bad_database_url_fails_with_one_line(tmp_path: Path, url: str, command: list[str]) -> None:
    result = run(tmp_path, *command, CUSTINFO_DATABASE_URL=url)
    assert_one_line_error(result)
    assert "secret" not in result.stderr.lower()


def test_the_password_in_a_database_url_is_not_printed(tmp_path: Path) -> None:
    result = run(tmp_path, "init", CUSTINFO_DATABASE_URL="postgresql+psycopg://u:TopSecret9@127.0.0.1:1/x")
    assert_one_line_error(result)
    assert "TopSecret9" not in result.stderr


def test_serve_needs_init_first(tmp_path: Path) -> None:
    result = run(tmp_path, "serve")
    assert_one_line_error(result)
    assert "custinfo init" in result.stderr


def test_serve_answers_on_the_given_port(tmp_path: Path) -> None:
    assert run(tmp_path, "init").returncode == 0
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [str(CUSTINFO), "serve", "--port", str(port)],
        cwd=tmp_path,
        env=environment(tmp_path),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=5)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.communicate()[0]
                assert time.monotonic() < deadline, "custinfo serve did not answer within 60 s"
                time.sleep(0.2)
        assert response.status_code == 200
        assert "/api/v1/customers" in response.json()["paths"]
    finally:
        server.terminate()
        server.wait(timeout=30)
