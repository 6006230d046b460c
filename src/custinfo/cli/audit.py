"""`custinfo audit`: verify the tamper-evident audit log against its anchor file; anchor it by hand."""

from __future__ import annotations

import typer

from custinfo.audit import anchor as audit_anchor
from custinfo.audit.chain import verify as verify_chain
from custinfo.cli import console, fail, handles_errors, load_settings, open_database

app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)


def _report_failure(checked: int, bad_seq: int | None, reason: str | None) -> None:
    where = f"first bad entry: seq {bad_seq}; " if bad_seq is not None else ""
    fail(f"audit log tampered: {reason} ({where}{checked} entries before it are intact)")


@app.command("verify")
@handles_errors
def verify(
    batch_size: int = typer.Option(5000, "--batch-size", min=1, help="Entries read per query."),
) -> None:
    """Re-compute the MAC chain and check its head against the anchor file; exit 1 naming the first bad entry."""
    settings = load_settings()
    path = settings.effective_audit_anchor_file
    latest = audit_anchor.latest(path)
    engine = open_database(settings)
    with console.status("Verifying the audit log…"), engine.connect() as connection:
        result = verify_chain(connection, batch_size, anchor=latest, anchored=True)
    engine.dispose()
    if not result.ok:
        _report_failure(result.checked, result.bad_seq, result.reason)
    anchored = f" (anchored at entry {latest.seq} in {path})" if latest is not None else ""
    console.print(f"Audit log intact: {result.checked} entries verified{anchored}.")


@app.command("anchor")
@handles_errors
def anchor() -> None:
    """Verify the chain, then record its head in the anchor file (once after upgrading, or after a restore)."""
    settings = load_settings()
    path = settings.effective_audit_anchor_file
    latest = audit_anchor.latest(path)
    engine = open_database(settings)
    with engine.connect() as connection:
        result = verify_chain(connection, anchor=latest)
    engine.dispose()
    if not result.ok:
        _report_failure(result.checked, result.bad_seq, result.reason)
    if result.checked == 0:
        console.print("Nothing to anchor: the audit log is empty.")
        return
    if latest is not None and latest.seq == result.checked:
        console.print(f"Nothing to anchor: {path} already records entry {result.checked}.")
        return
    audit_anchor.append(path, audit_anchor.Anchor(result.checked, result.head))
    console.print(f"Anchored the audit log at entry {result.checked} in {path}.")
