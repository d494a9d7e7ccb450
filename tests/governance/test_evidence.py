"""`accessgov review export`: the evidence pack for the Board in CSV, JSON, Markdown and
HTML, with the same content in each."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from accessgov.governance.evidence import ITEM_COLUMNS
from accessgov.governance.review import quarter_of
from tests.governance.helpers import store_behaving
from tests.support.schemas import validate_output
from tests.support.shell import Shell


@pytest.fixture
def closed(shared: Shell) -> Shell:
    """shared, with a person named as an attack and with an accent, and a closed review."""
    sh = shared
    sh.run(f"person add zoe --name 'Zoë <script>alert(1)</script>' --email z@example.org "
           f"--category volunteer {sh.as_('vperkins')}")
    sh.run(f"grant add zoe instagram-main --role editor --reason 'Youth | events *' "
           f"{sh.as_('vperkins')}")
    sh.run(f"grant add spatel tiktok-main --role member --reason Board {sh.as_('vperkins')}")
    sh.run(f"review start {sh.as_('vperkins')}")
    q = quarter_of(sh.clock.now.date().isoformat())
    sh.run(f"review decide {q} 1 keep --note 'Runs the youth page' {sh.as_('spatel')}")
    sh.run(f"review decide {q} 2 revoke {sh.as_('spatel')}")
    sh.run(f"review decide {q} 3 keep {sh.as_('vperkins')}")
    sh.run(f"review close {q} {sh.as_('spatel')}")
    return sh


def export(sh: Shell, fmt: str) -> str:
    q = quarter_of(sh.clock.now.date().isoformat())
    return str(sh.run(f"review export {q} --format {fmt}", expect=0).stdout)


def pack(sh: Shell) -> dict[str, Any]:
    data = validate_output("review-export", export(sh, "json"))
    assert isinstance(data, dict)
    return data


def test_the_json_pack_has_every_part(closed: Shell) -> None:
    data = pack(closed)
    assert data["summary"]["items"] == 3 and data["summary"]["kept"] == 2
    assert data["summary"]["revoked"] == 1 and data["summary"]["undecided"] == 0
    assert sum(data["summary"]["findings"].values()) == len(data["findings"])
    sign_off = data["sign_off"]
    assert (sign_off["closed_by"], sign_off["closed_by_name"]) == ("spatel", "Sonal Patel")
    assert sign_off["audit_head"]["seq"] == data["campaign"]["head_seq"]
    assert [i["decision"] for i in data["items"]] == ["keep", "revoke", "keep"]
    assert data["items"][1]["grant_status"] == "revoked"  # the close revoked it
    assert data["changes"]["previous"] is None
    assert data["store_checked"] is True


def test_the_csv_opens_in_a_spreadsheet(closed: Shell, tmp_path: Path) -> None:
    q = quarter_of(closed.clock.now.date().isoformat())
    target = tmp_path / "pack.csv"
    closed.run(f"review export {q} --format csv -o {target}")
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte-order mark, for Excel
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert list(rows[0]) == list(ITEM_COLUMNS)
    assert len(rows) == 3
    assert rows[0]["person_name"] == "Zoë <script>alert(1)</script>"
    assert rows[0]["note"] == "Runs the youth page"
    json_items = pack(closed)["items"]
    assert [row["grant_id"] for row in rows] == [item["grant_id"] for item in json_items]
    assert [row["findings"] for row in rows] == [item["findings"] for item in json_items]


def test_the_markdown_is_tabulate_github_and_inert(closed: Shell) -> None:
    text = export(closed, "md")
    assert text.startswith("# Access review ")
    for section in ("## Summary", "## Sign-off", "## What changed since the previous review",
                    "## Items", "## Findings of the policy checks"):
        assert section in text
    assert "| item | account" in text  # tabulate's github tables
    assert "Zoë \\<script\\>alert(1)\\</script\\>" in text
    assert "<script>" not in text


def test_the_html_is_one_inert_page(closed: Shell) -> None:
    text = export(closed, "html")
    assert text.startswith("<!DOCTYPE html>")
    assert "Zoë &lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<script" not in text.lower()
    assert not re.search(r"(src|href)\s*=", text, re.IGNORECASE)  # nothing to fetch
    assert "url(" not in text and "@import" not in text
    assert "default-src 'none'" in text and "@media print" in text
    for part in ("Summary", "Sign-off", "What changed since the previous review", "Items",
                 "Findings of the policy checks", "Audit log head"):
        assert part in text
    head = pack(closed)["sign_off"]["audit_head"]
    assert head["mac"] in text


def test_an_open_review_exports_its_progress(shared: Shell) -> None:
    shared.run(f"review start {shared.as_('vperkins')}")
    data = pack(shared)
    assert data["sign_off"] is None and data["summary"]["undecided"] == 1
    assert "This review is not closed yet" in export(shared, "html")
    assert "Not closed yet" in export(shared, "md")


def test_each_item_names_the_findings_about_it(closed: Shell) -> None:
    closed.run(f"account update instagram-main --mfa sms {closed.as_('spatel')}")
    items = pack(closed)["items"]
    assert "SEC-002" in items[0]["findings"].split()  # zoe on instagram-main, now SMS only
    assert "SEC-002" not in items[2]["findings"].split()


def test_the_pack_flags_self_review_and_names_each_rule(closed: Shell) -> None:
    """Item 3 (spatel's grant, approved by vperkins) was kept by vperkins herself: the Board
    sees she marked her own work. Each finding carries its rule's title beside its code."""
    data = pack(closed)
    assert [i["approved_by"] for i in data["items"]] == ["vperkins", "vperkins", "vperkins"]
    assert data["items"][2]["findings"].split()[-1] == "self-review"
    assert "self-review" not in data["items"][0]["findings"]  # kept by spatel
    assert all(finding["title"] for finding in data["findings"])
    html = export(closed, "html")
    assert "Person enrolled in MFA" in html and "MFA (account / person)" not in html
    rule = data["findings"][0]
    assert f"{rule['rule']}<br><small>{rule['title']}" in html.replace("&#39;", "'")


def test_the_pack_says_how_its_population_was_produced(closed: Shell) -> None:
    """Issue 17, item 4 (in part): what an auditor needs to see the population is complete."""
    data = pack(closed)
    population = data["population"]
    q = data["campaign"]["id"]
    assert population["produced_by"] == f"accessgov review export {q} --format json"
    assert population["items"] == 3
    assert population["snapshot_sha256"] == data["campaign"]["snapshot_sha256"]
    head = json.loads(closed.run("audit head").stdout)
    assert (population["audit_head"]["seq"], population["audit_head"]["mac"]) == (
        head["seq"], head["mac"])
    assert population["row_counts"]["grants"] == 3
    assert "How the population was produced" in export(closed, "md")
    assert population["snapshot_sha256"] in export(closed, "html")


def test_the_pack_says_when_the_store_could_not_be_checked(shared: Shell) -> None:
    shared.run(f"review start {shared.as_('vperkins')}")
    store_behaving(shared, broken=True)
    data = pack(shared)
    assert data["store_checked"] is False
    assert "STO-003" in {finding["rule"] for finding in data["findings"]}
    q = quarter_of(shared.clock.now.date().isoformat())
    skipped = validate_output("review-export", shared.run(
        f"review export {q} --format json --no-store").stdout)
    assert skipped["store_checked"] is False  # type: ignore[index]
    assert "STO-003" not in {f["rule"] for f in skipped["findings"]}  # type: ignore[index]


def test_each_finding_names_the_cyber_essentials_requirement_it_evidences(
        closed: Shell) -> None:
    rules = {rule["rule"]: rule["cyber_essentials"]
             for rule in json.loads(closed.run("check --list-rules --format json").stdout)}
    assert rules["ACC-001"].startswith("user accounts are approved")
    assert rules["SEC-001"].startswith("MFA on cloud services")
    assert rules["GRT-001"].startswith("accounts of leavers are removed")
    assert rules["POL-001"] is None  # the charity's own policy only
    data = pack(closed)
    assert all(f["cyber_essentials"] == rules[f["rule"]] for f in data["findings"])
    assert "Cyber Essentials requirement" in export(closed, "html")


def test_shared_logins_are_listed_as_recorded_exceptions_with_their_controls(
        closed: Shell) -> None:
    """Issue 17, item 4: Cyber Essentials allows a shared account only as a recorded
    exception; the pack lists each with its compensating controls, and `check` names those
    without one (SEC-008)."""
    data = pack(closed)
    assert [(row["account"], row["controls"]) for row in data["shared_logins"]] == [
        ("tiktok-main", None)]
    sec = [f for f in data["findings"] if f["rule"] == "SEC-008"]
    assert [f["subject"] for f in sec] == ["tiktok-main"]
    assert sec[0]["cyber_essentials"] == "no shared accounts without a recorded exception"
    assert "NO EXCEPTION RECORDED" in export(closed, "md")

    # Nobody but the CEO or a trustee records one; a delegated account needs none.
    controls = "Password only in accessgov, rotated when anyone leaves; codes via accessgov"
    refused = closed.run(f"account update tiktok-main --shared-login-exception '{controls}' "
                         "--as jdoe --otp 000000", expect=3)
    assert "only the CEO or a trustee can record a shared login" in refused.output
    delegated = closed.run(f"account update instagram-main --shared-login-exception x "
                           f"{closed.as_('spatel')}", expect=2)
    assert "not a shared login" in delegated.output

    closed.run(f"account update tiktok-main --shared-login-exception '{controls}' "
               f"{closed.as_('spatel')}")
    data = pack(closed)
    assert [(row["account"], row["controls"], row["recorded_by"])
            for row in data["shared_logins"]] == [("tiktok-main", controls, "spatel")]
    assert "SEC-008" not in {f["rule"] for f in data["findings"]}
    assert "rotated when anyone leaves" in export(closed, "html")
    shown = validate_output("account-show",
                            closed.run("account show tiktok-main --format json").stdout)
    assert shown["shared_login_exception"]["recorded_by"] == "spatel"  # type: ignore[index]
    event = json.loads(closed.run("audit log --action account.exception --format json")
                       .stdout)[0]
    assert (event["actor"], event["details"]["controls"]) == ("spatel", controls)


def test_an_exception_forged_with_sqlite_is_named_and_refused(closed: Shell) -> None:
    from tests.support.behind import behind_the_log

    behind_the_log(closed.db, "INSERT INTO account_exceptions (account, kind, controls, "
                   "recorded_by, recorded_at, authority) VALUES ('tiktok-main', "
                   "'shared-login', 'fine', 'vperkins', '2026-01-01T00:00:00Z', 'ceo')")
    verify = closed.run("audit verify", expect=1)
    assert "account_exceptions" in verify.output
    closed.run(f"account update tiktok-main --shared-login-exception again "
               f"{closed.as_('spatel')}", expect=3)
