"""accessgov backup -o FILE | backup verify [FILE] | restore [FILE]."""

from __future__ import annotations

from pathlib import Path

import click

from accessgov.cli.app import App
from accessgov.cli.options import done, emit_document, otp_option, output_options
from accessgov.common.words import count
from accessgov.errors import ExitCode, InputError, Refused


@click.group(invoke_without_command=True)
@click.option("-o", "--output", "target", type=click.Path(dir_okay=False, path_type=Path),
              metavar="FILE", help="Where to write the backup (FILE.manifest.json beside it).")
@click.pass_context
def backup(ctx: click.Context, target: Path | None) -> None:
    """Write a consistent copy of the register (SQLite's online backup: others may go on
    working) and its manifest: chain head, rows per table, SHA-256. Both are private (0600);
    keep them together, somewhere other than this computer.

    A register in PostgreSQL is backed up with pg_dump (see the README); 'backup verify'
    then checks a database restored from it.
    """
    if ctx.invoked_subcommand is not None:
        return
    if target is None:
        raise click.UsageError("give -o FILE: where to write the backup")
    from accessgov import backup as backups

    app: App = ctx.obj
    manifest = backups.take_backup(app.workspace, target, app.workspace.now(check_clock=False))
    rows = count(sum(manifest.counts.values()), "row")
    done(f"Backed up the register of {manifest.org} to {target}: "
         f"{count(manifest.head_seq, 'event')}, {rows}, SHA-256 {manifest.sha256[:16]}...; "
         "manifest "
         f"at {backups.manifest_path(target)}. Check it with 'accessgov backup verify "
         f"{target}'.")


@backup.command("verify")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@output_options
@click.pass_obj
def verify(app: App, file: Path | None, fmt: str, output_file: str | None) -> None:
    """Check a backup against its manifest, and its audit log and records as 'audit verify'
    does; without FILE, the register in place (a database restored with pg_restore).
    Exits 1 if anything does not match."""
    from accessgov import backup as backups
    from accessgov.reports.document import Document

    assert app.db_path is not None
    check = backups.check_backup(app.workspace_at, file, app.db_path)
    emit_document(Document(record=check.as_dict(), text=check.sentence() + "\n"), fmt,
                  output_file)
    if not check.ok:
        click.get_current_context().exit(ExitCode.FINDINGS)


@click.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--board-minute", required=True, metavar="REF",
              help="The board minute that decided the restore, e.g. 'BM 2026/12 item 2'.")
@otp_option
@click.pass_obj
def restore(app: App, file: Path | None, board_minute: str, otp: str | None) -> None:
    """Put the register back from a backup (the CEO or a trustee, with MFA): recorded in the
    restored log with what it leaves out, and the secret store's record of the chain head
    moved to it, so that no other copy put back is accepted.

    With FILE (an SQLite register): the backup is checked first, the register it replaces
    is kept beside it as REGISTER.replaced-TIME. Without FILE: the register in place was
    restored by other means (pg_restore), and is checked, then recorded as restored.
    """
    from accessgov import backup as backups
    from accessgov.common.timeutil import utc_now
    from accessgov.governance.restore import record_restore
    from accessgov.identity.totp import CodeRejected

    live = app.db_path
    assert live is not None
    if file is not None and not isinstance(live, Path):
        raise InputError("a register in PostgreSQL is restored with pg_restore; then run "
                         "'accessgov restore --board-minute REF' without a file")
    check = backups.check_backup(app.workspace_at, file, live)
    if not check.ok:
        raise InputError(check.sentence().replace("\n", " "))
    if file is None:
        try:
            details = app.change(lambda op: record_restore(op, board_minute, "in place", None),
                                 otp=otp, restoring=True)
        except (CodeRejected, Refused) as refused:
            backups.record_refused_restore(app.workspace, app.operator, refused)
            raise
        done(_restored(details, str(live)))
        return
    assert isinstance(live, Path) and check.manifest is not None
    sha = check.manifest.sha256
    stamp = utc_now().strftime("%Y%m%dT%H%M%SZ")
    try:
        with backups.swapped_in(file, live, stamp, app.close) as aside:
            details = app.change(lambda op: record_restore(op, board_minute, file.name, sha),
                                 otp=otp, restoring=True)
    except (CodeRejected, Refused) as refused:  # the register that was there is back
        backups.record_refused_restore(app.workspace, app.operator, refused)
        raise
    kept = f" The register it replaced is kept at {aside}." if aside.exists() else ""
    done(_restored(details, str(file)) + kept)


def _restored(details: dict[str, object], source: str) -> str:
    missing = int(details["events_not_restored"])  # type: ignore[call-overload]
    lost = (f"; {missing} event(s) recorded after it are not in the restored log (the restore "
            "names them)" if missing else "")
    return (f"Restored the register from {source} (board minute {details['board_minute']}): "
            f"its log ends at event {details['restored_head']}{lost}.")
