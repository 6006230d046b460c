"""`custinfo audit`: verify the tamper-evident audit log."""

from __future__ import annotations

import typer

from custinfo.audit.chain import verify as verify_chain
from custinfo.cli import console, fail, handles_errors, load_settings, open_database

app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


@app.command("verify")
@handles_errors
def verify(
    batch_size: int = typer.Option(5000, "--batch-size", min=1, help="Entries read per query."),
) -> None:
    """Re-compute the hash chain; exit 1 naming the first entry that was edited, deleted or reordered."""
    settings = load_settings()
    engine = open_database(settings)
    with console.status("Verifying the audit log…"), engine.connect() as connection:
        result = verify_chain(connection, batch_size)
    engine.dispose()
    if not result.ok:
        fail(
            f"audit log tampered: {result.reason} (first bad entry: seq {result.bad_seq}; {result.checked} entries before it are intact)"
        )
    console.print(f"Audit log intact: {result.checked} entries verified.")
