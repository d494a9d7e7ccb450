"""Issue 17, item 4: the evidence bundle an auditor accepts. `review export Q --format bundle
-o DIR` writes the pack as CSV, JSON, Markdown and HTML with a manifest of their SHA-256,
recorded in the audit log; `verify-pack DIR` checks it against itself and the register, and
names every way it was changed afterwards."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

import pytest

from accessgov.db.ahead import ReadAhead
from accessgov.db.queries import reviews
from accessgov.db.register import Register
from accessgov.governance.review import quarter_of
from tests.governance.test_evidence import closed  # noqa: F401 - the fixture
from tests.support.behind import behind_the_log
from tests.support.shell import Shell, dump


def quarter(sh: Shell) -> str:
    return quarter_of(sh.clock.now.date().isoformat())


@pytest.fixture
def bundle(closed: Shell, tmp_path: Path) -> Path:  # noqa: F811
    folder = tmp_path / "pack"
    made = closed.run(f"review export {quarter(closed)} --format bundle -o {folder} "
                      f"{closed.as_('spatel')}")
    assert "verify-pack" in made.output
    return folder


def verify(sh: Shell, folder: Path, expect: int = 0) -> str:
    return str(sh.run(f"verify-pack {folder}", expect=expect).output)


def test_the_trustee_exports_a_bundle_that_verifies(closed: Shell, bundle: Path) -> None:  # noqa: F811
    q = quarter(closed)
    names = sorted(path.name for path in bundle.iterdir())
    assert names == sorted([f"review-{q}.csv", f"review-{q}.json", f"review-{q}.md",
                            f"review-{q}.html", "manifest.json"])
    assert stat.S_IMODE(bundle.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in bundle.iterdir())
    manifest = json.loads((bundle / "manifest.json").read_text())
    for entry in manifest["files"]:
        assert hashlib.sha256((bundle / entry["name"]).read_bytes()).hexdigest() == entry["sha256"]
    pack = json.loads((bundle / f"review-{q}.json").read_text())
    assert manifest["audit_head"] == pack["population"]["audit_head"]
    assert pack["population"]["produced_by"].startswith(f"accessgov review export {q} --format "
                                                        "bundle")
    event = json.loads(closed.run("audit log --action review.export --format json").stdout)[0]
    assert event["actor"] == "spatel"
    assert event["details"]["manifest_sha256"] == hashlib.sha256(
        (bundle / "manifest.json").read_bytes()).hexdigest()
    assert "Intact" in verify(closed, bundle) and "spatel" in verify(closed, bundle)


def test_a_changed_file_is_named(closed: Shell, bundle: Path) -> None:  # noqa: F811
    html = bundle / f"review-{quarter(closed)}.html"
    html.write_text(html.read_text().replace("revoke", "keep"))
    out = verify(closed, bundle, expect=1)
    assert f"{html.name} was changed" in out


def test_a_manifest_rehashed_to_match_an_edited_pack_is_refused(
        closed: Shell, bundle: Path) -> None:  # noqa: F811
    """The attacker edits a decision in the CSV and JSON and recomputes every SHA-256."""
    q = quarter(closed)
    for name in (f"review-{q}.json", f"review-{q}.csv"):
        path = bundle / name
        path.write_text(path.read_text(encoding="utf-8-sig").replace("revoke", "keep"),
                        encoding="utf-8")
    manifest = json.loads((bundle / "manifest.json").read_text())
    for entry in manifest["files"]:
        entry["sha256"] = hashlib.sha256((bundle / entry["name"]).read_bytes()).hexdigest()
    (bundle / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    out = verify(closed, bundle, expect=1)
    assert "not the one recorded when the bundle was made" in out
    assert "decision in the pack is not the one recorded" in out


def test_extra_missing_and_foreign_files_are_named(closed: Shell, bundle: Path) -> None:  # noqa: F811
    (bundle / "notes.txt").write_text("added later")
    (bundle / f"review-{quarter(closed)}.md").unlink()
    out = verify(closed, bundle, expect=1)
    assert "notes.txt is in the folder but not in the manifest" in out
    assert ".md is missing" in out


def test_the_bundle_does_not_verify_against_a_register_whose_log_was_rewritten(
        closed: Shell, bundle: Path) -> None:  # noqa: F811
    """The export event forged away with sqlite3 (its seal no longer holds)."""
    behind_the_log(closed.db, "UPDATE audit SET actor = 'vperkins' WHERE action = "
                   "'review.export'")
    out = verify(closed, bundle, expect=1)
    assert "not sealed by this register" in out


def test_only_an_approver_records_a_bundle_and_a_refusal_leaves_no_folder(
        closed: Shell, tmp_path: Path) -> None:  # noqa: F811
    folder = tmp_path / "refused"
    before = dump(closed.db)["review_campaigns"]
    refused = closed.run(f"review export {quarter(closed)} --format bundle -o {folder} "
                         "--as jdoe --otp 000000", expect=3)
    assert "CEO or a trustee" in refused.output
    assert not folder.exists()
    assert dump(closed.db)["review_campaigns"] == before
    existing = tmp_path / "existing"
    existing.mkdir()
    taken = closed.run(f"review export {quarter(closed)} --format bundle -o {existing} "
                       f"{closed.as_('spatel')}", expect=2)
    assert "already exists" in taken.output
    assert "-o DIR" in closed.run(f"review export {quarter(closed)} --format bundle",
                                  expect=2).output
    assert "not an evidence bundle" in closed.run(f"verify-pack {tmp_path}", expect=2).output


def test_no_bundle_is_made_from_a_register_with_a_row_forged_behind_the_log(
        closed: Shell, tmp_path: Path) -> None:  # noqa: F811
    """An insider forges a shared-login exception with sqlite3, then asks a trustee for the
    bundle: it is refused, and nothing is written or recorded."""
    behind_the_log(closed.db, "INSERT INTO account_exceptions (account, kind, controls, "
                   "recorded_by, recorded_at, authority) VALUES ('tiktok-main', "
                   "'shared-login', 'fine', 'vperkins', '2026-01-01T00:00:00Z', 'ceo')")
    folder = tmp_path / "forged"
    refused = closed.run(f"review export {quarter(closed)} --format bundle -o {folder} "
                         f"{closed.as_('spatel')}", expect=3)
    assert "does not verify" in refused.output and not folder.exists()


def test_a_bundle_checked_against_a_register_forged_since_is_not_intact(
        closed: Shell, bundle: Path) -> None:  # noqa: F811
    behind_the_log(closed.db, "UPDATE people SET category = 'trustee' WHERE id = 'jdoe'")
    out = verify(closed, bundle, expect=1)
    assert "this register itself does not verify" in out


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_a_large_reviews_items_read_in_halves_are_every_item_in_order(
        closed: Shell, monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:  # noqa: F811
    """A review of many items is exported from two reads at once (on PostgreSQL, each on a
    connection of its own): the pack must hold every item once, in order, as one read gives
    them. Here the halves are taken from three items, on either engine."""
    typed = f"review export {quarter(closed)} --format {fmt}"
    whole = closed.run(typed).stdout
    monkeypatch.setattr(reviews, "READ_IN_HALVES_FROM", 1)
    monkeypatch.setattr(Register, "parallel_reads", True)
    in_halves = closed.run(typed).stdout
    assert in_halves == whole
    # Item 1 (kept) is the first half, items 2 (revoked) and 3 (kept) the second.
    assert "revoke" in whole and "keep" in whole


@pytest.mark.parametrize("read_ahead", [True, False])
def test_a_pack_read_ahead_holds_the_items_as_they_were_when_it_was_built(
        closed: Shell, read_ahead: bool) -> None:  # noqa: F811
    """A CSV or HTML export reads its items while the checks run; a bundle reads them only
    when it is drawn, after the register has verified, so what it records is the register
    the verification saw. A role changed behind the log in between shows which was read."""
    from accessgov.db.register import Register as Opened
    from accessgov.governance import evidence
    from accessgov.governance.checks.registry import Context

    register = Opened.open(closed.db)
    try:
        built = evidence.build(register, quarter(closed), "2026-12-01", "2026-12-01T00:00:00Z",
                               Context(register, "2026-12-01"), read_ahead=read_ahead)
        if isinstance(built.read_ahead, ReadAhead):
            for part in built.read_ahead._parts:
                part._thread.join()  # the database has read the items
        behind_the_log(closed.db, "UPDATE grants SET role = 'forged-role' WHERE id IN "
                       "(SELECT id FROM grants)")
        roles = {item["role"] for item in built.items()}
        built.close()
    finally:
        register.close()
    assert ("forged-role" in roles) is not read_ahead


def test_a_bundle_is_not_read_ahead(
        closed: Shell, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
) -> None:
    from accessgov.governance import evidence

    asked: list[bool] = []
    real_build = evidence.build

    def build(*args: object, read_ahead: bool = True, **kwargs: object) -> evidence.Pack:
        asked.append(read_ahead)
        return real_build(*args, read_ahead=read_ahead, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(evidence, "build", build)
    closed.run(f"review export {quarter(closed)} --format bundle -o {tmp_path / 'b'} "
               f"{closed.as_('spatel')}")
    closed.run(f"review export {quarter(closed)} --format csv")
    assert asked == [False, True]
