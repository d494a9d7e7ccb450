"""accessgov review start / show / decide / close / export / list."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from accessgov.cli.app import App
from accessgov.cli.options import done, emit_document, otp_option, output_options
from accessgov.cli.params import WholeNumber
from accessgov.cli.report import format_option, output_file_option, require_folder
from accessgov.common.words import count

if TYPE_CHECKING:
    from accessgov.governance.evidence import Pack
    from accessgov.reports.document import Document

SHOW_FORMATS = ("table", "json", "csv", "md")
TABLE_COLUMNS = ("item", "account", "person", "person_name", "role", "approved_by", "authority",
                 "decision", "decided_by")
DROPPABLE_COLUMNS = ("authority", "approved_by", "person_name")
LIST_COLUMNS = ("id", "status", "started_by", "started_at", "due", "items", "decided",
                "revoked", "closed_by", "closed_at", "head_seq")


@click.group()
def review() -> None:
    """Quarterly access reviews: every grant kept or revoked, with evidence for the Board."""


@review.command("start")
@click.option("--quarter", metavar="Q", help="The quarter reviewed, e.g. 2026-Q4 (default: "
              "this quarter).")
@click.option("--due", metavar="DATE", help="When the review should be closed (YYYY-MM-DD; "
              "default: 30 days from today).")
@otp_option
@click.pass_obj
def start(app: App, quarter: str | None, due: str | None, otp: str | None) -> None:
    """Start an access review: a snapshot of every live grant, to be kept or revoked.

    The CEO or a trustee, with MFA; one review open at a time.
    """
    from accessgov.governance import reviewing as core

    campaign = app.change(lambda op: core.start(op, quarter, due), otp=otp)
    done(f"Started the {campaign['id']} access review: {count(campaign['items'], 'item')}, due "
         f"{campaign['due']}. See them with 'accessgov review show {campaign['id']}'.")


@review.command("show")
@click.argument("quarter", metavar="[Q]", required=False)
@click.option("--account", "account_id", metavar="ACCOUNT", help="Only items on this account.")
@click.option("--undecided", is_flag=True, help="Only the items still to decide.")
@format_option(SHOW_FORMATS)
@output_file_option
@click.pass_obj
def show(app: App, quarter: str | None, account_id: str | None, undecided: bool, fmt: str,
         output_file: str | None) -> None:
    """Show a review's items, numbered 1..n, and its progress (default: the open review,
    else the latest)."""
    from accessgov.governance import review as core

    require_folder(output_file)
    register = app.register
    campaign = core.get_campaign(register, quarter) if quarter else \
        core.current_campaign(register)
    items = [_shown(item) for item in core.items(register, campaign["id"], app.today(),
                                                 account=account_id)
             if not (undecided and item["decision"])]
    progress = core.progress(register, campaign)
    emit_document(_items_document(core.summary(campaign), progress, items), fmt, output_file)


@review.command("decide")
@click.argument("quarter", metavar="Q")
@click.argument("item", metavar="[ITEM]", type=WholeNumber(minimum=1), required=False)
@click.argument("decision", metavar="[keep|revoke]", type=click.Choice(["keep", "revoke"]),
                required=False)
@click.option("--all-keep", is_flag=True,
              help="Keep every undecided item you may decide (one recorded decision each).")
@click.option("--account", "account_id", metavar="ACCOUNT",
              help="With --all-keep: only the items on this account.")
@click.option("--note", help="Why (recorded with the decision).")
@otp_option
@click.pass_obj
def decide(app: App, quarter: str, item: int | None, decision: str | None, all_keep: bool,
           account_id: str | None, note: str | None, otp: str | None) -> None:
    """Decide an item keep or revoke: `review decide 2026-Q4 7 revoke`.

    An approver for the item's account, with MFA; never on your own grant. With --all-keep,
    every undecided item (on --account A only, if given) is kept, each as its own decision
    (items you may not decide are left for another approver).
    """
    from accessgov.governance import reviewing as core

    if all_keep:
        if item is not None or decision is not None:
            raise click.UsageError("use either 'review decide Q ITEM keep|revoke' or "
                                   "'review decide Q --all-keep [--account ACCOUNT]'")
        account = account_id
        result = app.change(lambda op: core.keep_all(op, quarter, account, note), otp=otp)
    else:
        if item is None or decision is None or account_id:
            raise click.UsageError("give the item number and keep or revoke: "
                                   "'review decide Q ITEM keep|revoke'")
        number, verdict = item, decision
        result = app.change(lambda op: core.decide(op, quarter, number, verdict, note),
                            otp=otp)
    what = decision or "keep"
    done(f"Decided {_items(result.decided)} of {quarter}: {what}.")
    for number, why in result.left:
        click.echo(f"Left item {number} for another approver: {why}.")


@review.command("close")
@click.argument("quarter", metavar="Q")
@otp_option
@click.pass_obj
def close(app: App, quarter: str, otp: str | None) -> None:
    """Close a review whose every item is decided (the CEO or a trustee, with MFA).

    Revokes the items decided "revoke" in the register, lists what to do on each platform,
    and records the head of the audit log in the review.
    """
    from accessgov.governance import reviewing as core

    closing = app.change(lambda op: core.close(op, quarter), otp=otp)
    campaign = closing.campaign
    done(f"Closed the {quarter} access review: {count(campaign['items'], 'item')}, "
         f"{len(closing.revocations)} revoked. Audit head: event {campaign['head_seq']}, "
         f"{campaign['head_mac']}.")
    for revocation in closing.revocations:
        ended = f" (the grant had already ended: {revocation.already_ended})" \
            if revocation.already_ended else ""
        click.echo("")
        done(f"Item {revocation.item}: {revocation.grant_id}, {revocation.person_name} "
             f"({revocation.person}) as {revocation.role} on {revocation.account} "
             f"({revocation.platform}){ended}. On the platform:")
        for step in revocation.steps:
            done(f"  - {step}")


@review.command("export")
@click.argument("quarter", metavar="Q")
@format_option(("csv", "json", "md", "html", "bundle"), default="html")  # evidence.FORMATS
@click.option("-o", "--output", "output_file", type=click.Path(),
              help="Write to this file (created private, 0600); for a bundle, a new folder.")
@click.option("--no-store", is_flag=True,
              help="Take the findings from the register alone, without the secret store.")
@otp_option
@click.pass_obj
def export(app: App, quarter: str, fmt: str, output_file: str | None, no_store: bool,
           otp: str | None) -> None:
    """The evidence pack for the Board: every item with its decision, the policy checks'
    findings, the sign-off and what changed since the previous review.

    CSV (UTF-8 with a byte-order mark, one row per item), JSON, Markdown, or one
    self-contained HTML page that prints cleanly. `--format bundle -o DIR` writes all four
    into a new folder with manifest.json (the SHA-256 of each), recorded in the audit log by
    the CEO or a trustee; 'accessgov verify-pack DIR' checks it later.
    """
    from accessgov.cli.check import checks_context
    from accessgov.common.timeutil import iso
    from accessgov.governance import evidence
    from accessgov.reports.evidence import FOLDER_FORMATS, document

    folder = output_file if fmt in FOLDER_FORMATS else None
    if fmt in FOLDER_FORMATS and not folder:
        raise click.UsageError("a bundle is a folder: give it with -o DIR")
    require_folder(output_file)
    typed = " ".join(["accessgov review export", quarter, "--format", fmt,
                      *(["-o", folder] if folder else []),
                      *(["--no-store"] if no_store else [])])
    pack = evidence.build(app.register, quarter, app.today(), iso(app.clock()),
                          checks_context(app, store=not no_store), command=typed,
                          read_ahead=not folder)
    try:
        if folder:
            _bundle(app, pack, Path(folder), otp)
            return
        emit_document(document(pack), fmt, output_file)
    finally:
        pack.close()


def _bundle(app: App, pack: Pack, folder: Path, otp: str | None) -> None:
    """Write the bundle, then record its manifest; a refused record takes the folder away."""
    from accessgov.cli.audit import verified
    from accessgov.errors import Tampered
    from accessgov.governance import evidence_bundle
    from accessgov.reports.evidence import drawn_for_bundle

    # The pack reads the register as it stands: evidence is made only from a register that
    # verifies, so a row forged behind the log never reaches a recorded bundle.
    report = verified(app)
    if not report.ok:
        raise Tampered(f"the register does not verify ({report.sentence().splitlines()[0]}); "
                       "no evidence bundle is made from it: run 'accessgov audit verify'")
    bundle = evidence_bundle.build(pack, drawn_for_bundle(pack))
    evidence_bundle.write(bundle, folder)
    try:
        app.change(lambda op: evidence_bundle.record(op, bundle), otp=otp)
    except BaseException:
        evidence_bundle.remove(folder)
        raise
    done(f"Wrote the evidence bundle for {pack.campaign['id']} in {folder}: "
         f"{', '.join(bundle.files)} and {evidence_bundle.MANIFEST} (SHA-256 "
         f"{bundle.manifest_sha256}, recorded in the audit log). Check it with 'accessgov "
         f"verify-pack {folder}'.")


@review.command("list")
@output_options
@click.pass_obj
def list_(app: App, fmt: str, output_file: str | None) -> None:
    """List the access reviews, newest first, with their progress."""
    from accessgov.governance import review as core
    from accessgov.reports.document import Document, Rows

    campaigns = core.list_campaigns(app.register)
    emit_document(Document(rows=Rows(columns=LIST_COLUMNS, records=campaigns)), fmt,
                  output_file)


def _shown(item: dict[str, Any]) -> dict[str, Any]:
    from accessgov.governance.review import ITEM_COLUMNS

    return {column: item[column] for column in ITEM_COLUMNS}


def _items(numbers: list[int]) -> str:
    if len(numbers) == 1:
        return f"item {numbers[0]}"
    return f"{len(numbers)} items ({', '.join(map(str, numbers[:20]))}" + \
        (" ...)" if len(numbers) > 20 else ")")


def _items_document(campaign: dict[str, Any], progress: dict[str, int],
                    items: list[dict[str, Any]]) -> Document:
    """A review's items with its progress: above the table on a terminal, a section of its
    own in Markdown, beside the items in JSON."""
    from accessgov.governance.review import ITEM_COLUMNS
    from accessgov.reports.document import Document, Rows

    heading = {"review": campaign["id"], "status": campaign["status"], "due": campaign["due"],
               **progress}
    line = ", ".join(f"{key} {value}" for key, value in heading.items())
    rows = Rows(columns=ITEM_COLUMNS, records=items, heading="Items", empty="(no items)",
                table_columns=TABLE_COLUMNS, droppable=DROPPABLE_COLUMNS)
    return Document(title=f"Access review {campaign['id']}", summary=heading,
                    summary_heading="Progress", rows=rows, before=(line, ""),
                    payload={"campaign": campaign, "progress": progress, "items": items})
