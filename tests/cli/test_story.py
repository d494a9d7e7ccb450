"""The issue's story, end to end through the command line."""

from __future__ import annotations

import json

from tests.support.shell import Shell, one_line_error


def test_ceo_grants_and_revokes_contributor_access(org: Shell) -> None:
    org.run(f"login --as vperkins --otp {org.code('vperkins')}")
    granted = org.run('grant add jdoe instagram-main --role editor --reason "Posts youth events"')
    assert "G-0001" in granted.stdout

    grants = json.loads(org.run("grant list --format json").stdout)
    assert [(g["id"], g["person"], g["status"], g["decided_by"], g["authority"])
            for g in grants] == [("G-0001", "jdoe", "active", "vperkins", "ceo")]
    assert grants[0]["mfa_verified"] is True
    assert grants[0]["verified_by"].startswith("session S-")

    org.run('grant revoke G-0001 --reason "Role changed"')
    assert json.loads(org.run("grant show G-0001 --format json").stdout)["status"] == "revoked"
    org.run("logout")
    assert "intact" in org.run("audit verify").stdout


def test_nobody_approves_their_own_access(org: Shell) -> None:
    result = org.run(f"grant add vperkins instagram-main --role admin --reason x "
                     f"{org.as_('vperkins')}", expect=3)
    assert "cannot approve their own access" in one_line_error(result)
    assert json.loads(org.run("grant list --format json").stdout) == []
