"""The `custinfo` command: one Typer app, one module per command group."""

from __future__ import annotations

import typer

from custinfo.cli.demo import demo
from custinfo.cli.init import init
from custinfo.cli.serve import serve

app = typer.Typer(
    name="custinfo",
    help="custinfo — 客户信息分类管理系统 (customer information classification and management).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("init")(init)
app.command("serve")(serve)
app.command("demo")(demo)

if __name__ == "__main__":
    app()
