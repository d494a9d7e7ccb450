"""accessgov verify-pack DIR."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from accessgov.cli.app import App
from accessgov.cli.options import done
from accessgov.errors import ExitCode


@click.command("verify-pack")
@click.argument("folder", metavar="DIR", type=click.Path(path_type=Path))
@click.pass_obj
def verify_pack(app: App, folder: Path) -> None:
    """Check an evidence bundle ('review export Q --format bundle -o DIR') against itself and
    against this register: each file's SHA-256, the manifest against the audit log's record
    of it, and the review, its snapshot and its items against the register's own.

    Exits 0 when the bundle is intact, 1 when something does not match.
    """
    from accessgov.governance.evidence_bundle import verify

    workspace = app.workspace

    def holds(event: Mapping[str, Any]) -> bool:
        # The store is asked only when the bundle's record is found; if it cannot be
        # reached, that is said in one line (AccessGovError) like any unreachable store.
        return workspace.trust.events.holds(event)

    verdict = verify(app.register, folder, holds, app.today())
    from accessgov.cli.audit import verified

    # The bundle is only as good as the register it is checked against.
    report = verified(app)
    if not report.ok:
        verdict.problems.append(f"this register itself does not verify "
                                f"({report.sentence().splitlines()[0]}): run 'accessgov audit "
                                "verify'")
    for note in verdict.notes:
        click.echo(f"Note: {note}", err=True)
    if verdict.problems:
        for problem in verdict.problems:
            click.echo(f"Not intact: {problem}")
        sys.exit(ExitCode.FINDINGS)
    done(f"Intact: the evidence bundle for {verdict.review} in {folder} is the one "
         f"{verdict.recorded_by} recorded on {verdict.recorded_at}, and it matches this "
         "register, which verifies.")
