"""`custinfo users list|add|set-password|disable|enable` against a fresh `custinfo init` database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from custinfo.auth.models import User
from custinfo.cli.init import initialise
from custinfo.cli.main import app as cli
from custinfo.config import Settings
from custinfo.core.db import make_engine, make_session_factory

NEW_PASSWORD = "Hai-tang-7-chun-yu"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    for name, value in (("DATABASE_URL", url), ("DATA_DIR", str(tmp_path)), ("ENVIRONMENT", "test")):
        monkeypatch.setenv(f"CUSTINFO_{name}", value)
    initialise(
        Settings(environment="test", data_dir=tmp_path, database_url=url), "Qiu-shui-9-chang-tian"
    ).engine.dispose()
    return url


def _user(url: str, username: str) -> User | None:
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is not None:
            session.expunge(user)
    engine.dispose()
    return user


def test_users_commands(database: str) -> None:
    runner = CliRunner()
    added = runner.invoke(
        cli,
        [
            "users",
            "add",
            "zhang.wei",
            "--role",
            "sales",
            "--department",
            "华北销售部",
            "--display-name",
            "张伟",
        ],
    )
    assert added.exit_code == 0, added.output
    assert "one-time password" in added.output
    user = _user(database, "zhang.wei")
    assert user is not None and user.must_change_password and user.display_name == "张伟"

    listed = runner.invoke(cli, ["users", "list"])
    assert listed.exit_code == 0 and "zhang.wei" in listed.output and "华北销售部" in listed.output

    weak = runner.invoke(cli, ["users", "set-password", "zhang.wei", "--password", "password1"])
    assert weak.exit_code == 1 and "Traceback" not in weak.output
    mismatch = runner.invoke(
        cli, ["users", "set-password", "zhang.wei"], input=f"{NEW_PASSWORD}\nother-Pass-99\n"
    )
    assert mismatch.exit_code == 1
    prompted = runner.invoke(
        cli, ["users", "set-password", "zhang.wei"], input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n"
    )
    assert prompted.exit_code == 0, prompted.output
    changed = _user(database, "zhang.wei")
    assert changed is not None and not changed.must_change_password

    assert runner.invoke(cli, ["users", "disable", "zhang.wei"]).exit_code == 0
    disabled = _user(database, "zhang.wei")
    assert disabled is not None and not disabled.is_active
    assert runner.invoke(cli, ["users", "enable", "zhang.wei"]).exit_code == 0

    last_admin = runner.invoke(cli, ["users", "disable", "admin"])
    assert last_admin.exit_code == 1 and "最后一个启用的管理员" in last_admin.output
    unknown = runner.invoke(cli, ["users", "disable", "nobody"])
    assert unknown.exit_code == 1
    bad_role = runner.invoke(cli, ["users", "add", "x1", "--role", "boss"])
    assert bad_role.exit_code == 1 and "Traceback" not in bad_role.output
    given = runner.invoke(cli, ["users", "add", "li.na", "--role", "dept_head", "--password", NEW_PASSWORD])
    assert given.exit_code == 0 and NEW_PASSWORD not in given.output
