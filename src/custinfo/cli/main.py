"""The `custinfo` command: one Typer app, one module per command group."""

from __future__ import annotations

import typer

from custinfo import bootstrap
from custinfo.cli.audit import app as audit_app
from custinfo.cli.backup import app as backup_app
from custinfo.cli.classify import classify
from custinfo.cli.demo import demo
from custinfo.cli.init import init
from custinfo.cli.jobs import app as jobs_app
from custinfo.cli.keys import app as keys_app
from custinfo.cli.serve import serve
from custinfo.cli.users import app as users_app

app = typer.Typer(
    name="custinfo",
    help="custinfo — 客户信息分类管理系统 (customer information classification and management).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def wired() -> None:
    """Every command runs with the same event handlers as the server (audit, history, re-classification)."""
    bootstrap.wire()


app.command("init")(init)
app.command("serve")(serve)
app.command("demo")(demo)
app.command("classify")(classify)
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")
app.add_typer(backup_app, name="backup")
app.add_typer(jobs_app, name="jobs")
app.add_typer(users_app, name="users")

if __name__ == "__main__":
    app()
