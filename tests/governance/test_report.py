"""`accessgov report access`: the access matrix, and everything one person can reach."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from tests.support.schemas import validate_output
from tests.support.shell import Shell, dump, one_line_error


def report(sh: Shell, options: str = "") -> list[dict[str, Any]]:
    """`report access --format json`, validated against schemas/report-access.schema.json."""
    data = validate_output("report-access",
                           sh.run(f"report access --format json {options}").stdout)
    assert isinstance(data, list)
    return data


def test_the_matrix_shows_every_account_and_who_reaches_it(shared: Shell) -> None:
    sh = shared
    sh.run(f"account add x-main --platform x --handle @ix --owner spatel --purpose News "
           f"--mfa sms --recovery-email j@example.org {sh.as_('vperkins')}")
    rows = report(sh)
    assert [(r["account"], r["reach"], r["person"]) for r in rows] == [
        ("instagram-main", "owner", "vperkins"),  # an owner may reveal its credentials
        ("tiktok-main", "grant", "jdoe"),
        ("tiktok-main", "credential", "vperkins"),  # she typed the password in
        ("x-main", "owner", "spatel"),
    ]
    grant = rows[1]
    assert (grant["grant"], grant["role"], grant["approved_by"], grant["authority"]) == (
        "G-0001", "member", "vperkins", "ceo")
    assert (grant["account_mfa"], grant["person_mfa"], grant["exposures"]) == (
        "totp", "none", "password v1")
    assert [r["account"] for r in report(sh, "--account x-main")] == ["x-main"]


def test_a_rotation_ends_an_exposure_in_the_matrix(shared: Shell) -> None:
    shared.run(f"cred rotate tiktok-main --generate {shared.as_('vperkins')}")
    rows = report(shared, "--account tiktok-main")
    assert [(r["reach"], r["person"], r["exposures"]) for r in rows] == [
        ("grant", "jdoe", "password v2"),  # the holder knows the new one
        ("owner", "vperkins", None)]  # she did not see it, but as the owner she may reveal it


def test_everything_one_person_can_reach(shared: Shell) -> None:
    sh = shared
    sh.run(f'account add wa-youth --platform whatsapp --handle "Youth" --owner vperkins '
           f'--purpose Chat --overseer jdoe {sh.as_("spatel")}')
    sh.run(f"account add x-main --platform x --handle @ix --owner spatel --purpose News "
           f"--mfa totp --recovery-email J@Example.org {sh.as_('vperkins')}")
    sh.run(f"cred rotate tiktok-main --generate {sh.as_('vperkins')}")
    rows = report(sh, "--person jdoe")
    assert [(r["account"], r["reach"], r["exposures"]) for r in rows] == [
        ("tiktok-main", "grant", "password v2"),
        ("tiktok-main", "credential", "password v1 (rotated since; shared-login grant)"),
        ("tiktok-main", "credential", "password v2 (current; shared-login grant)"),
        ("wa-youth", "overseer", None),
        ("x-main", "recovery email", None),
    ]
    owner = report(sh, "--person vperkins --account wa-youth")
    assert [(r["account"], r["reach"]) for r in owner] == [("wa-youth", "owner")]


def test_csv_opens_in_a_spreadsheet_and_html_is_one_page(shared: Shell, tmp_path: Path) -> None:
    sh = shared
    sh.run(f"person update jdoe --name 'Zoë <script>alert(1)</script>' {sh.as_('vperkins')}")
    target = tmp_path / "access.csv"
    sh.run(f"report access --format csv -o {target}")
    raw = target.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[1]["person_name"] == "Zoë <script>alert(1)</script>"
    assert target.stat().st_mode & 0o777 == 0o600
    html = sh.run("report access --format html").stdout
    assert "Zo\u00eb &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html
    markdown = sh.run("report access --person jdoe --format md").stdout
    assert markdown.startswith("# Everything jdoe can reach\n")
    assert "\\<script\\>" in markdown


def test_bad_input(shared: Shell, tmp_path: Path) -> None:
    before = dump(shared.db)
    for command, text in (("report access --person nobody", "no person 'nobody'"),
                          ("report access --account nothing", "no account 'nothing'"),
                          (f"report access -o {tmp_path}/none/a.csv", "does not exist"),
                          ("report access --format pdf", "Invalid value for '--format'")):
        assert text in one_line_error(shared.run(command, expect=2))
    assert dump(shared.db) == before
