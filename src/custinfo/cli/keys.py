"""`custinfo keys`: the field-encryption key ring (status, rotate)."""

from __future__ import annotations

import typer
from rich.table import Table

import custinfo.models  # noqa: F401 — every table registered, so rotation finds every encrypted column
from custinfo.auth.events import PermissionChanged
from custinfo.cli import console, handles_errors, load_settings, open_database, progress_bar
from custinfo.core.db import make_session_factory
from custinfo.core.uow import Actor, record, unit_of_work
from custinfo.security import crypto, rotation

app = typer.Typer(help="Field-encryption key ring: status and rotation.", no_args_is_help=True)


@app.command("status")
@handles_errors
def status() -> None:
    """Show the key ring (ids, current key) and how many values each key seals."""
    settings = load_settings()
    ring = crypto.KeyRing.load(settings.effective_key_file)
    crypto.install(ring)
    engine = open_database(settings)
    console.print(f"Key file: {settings.effective_key_file}")
    console.print(f"Current key id: {ring.current}; keys: {', '.join(str(k) for k in sorted(ring.keys))}")
    table = Table("column", "key id", "values")
    for column, counts in rotation.key_usage(engine).items():
        if not counts:
            table.add_row(column, "-", "0")
        for key_id, count in sorted(counts.items()):
            label = f"{key_id} (current)" if key_id == ring.current else str(key_id)
            table.add_row(column, label, str(count))
    console.print(table)
    left = rotation.pending(engine, ring)
    console.print(
        "All values are sealed with the current key."
        if left == 0
        else f"{left} rows still hold values sealed with older keys: run `custinfo keys rotate --resume`."
    )
    engine.dispose()


@app.command("rotate")
@handles_errors
def rotate(
    resume: bool = typer.Option(
        False, "--resume", help="Do not add a key; finish re-encrypting to the current one."
    ),
    batch_size: int = typer.Option(
        1000, "--batch-size", min=1, max=100_000, help="Rows per committed batch."
    ),
) -> None:
    """Add a new key, make it current, and re-encrypt every encrypted value in batches (the app keeps running)."""
    settings = load_settings()
    path = settings.effective_key_file
    ring = crypto.KeyRing.load(path)
    engine = open_database(settings)
    crypto.install(ring)
    if not resume:
        previous = ring.current
        new_id = ring.add_key()
        ring.save()
        console.print(f"Added key {new_id} to {path} and made it current (was {previous}).")
        with unit_of_work(make_session_factory(engine), Actor.system("keys rotate")) as session:
            record(session, PermissionChanged(what="key_ring:current", before=previous, after=new_id))
    total = rotation.pending(engine, ring)
    with progress_bar("Re-encrypting") as bar:
        task = bar.add_task("rotate", total=total)
        report = rotation.reencrypt(engine, ring, batch_size, progress=lambda n: bar.advance(task, n))
    console.print(
        f"Re-encrypted {report.values} values in {report.rows} rows to key {ring.current}"
        + (
            f" ({report.skipped} changed meanwhile and were left to the application)"
            if report.skipped
            else ""
        )
        + "."
    )
    left = rotation.pending(engine, ring)
    engine.dispose()
    if left:
        raise typer.Exit(code=_incomplete(left))


def _incomplete(left: int) -> int:
    console.print(f"{left} rows still hold older keys; run `custinfo keys rotate --resume` again.")
    return 1
