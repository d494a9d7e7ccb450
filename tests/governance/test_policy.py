"""The policy's upkeep: its annual review and the checks' settings, each with MFA, audited."""

from __future__ import annotations

import json

import pytest

from tests.support.schemas import validate_output
from tests.support.shell import Shell, dump, one_line_error


def test_a_trustee_records_the_annual_review(org: Shell) -> None:
    day = org.clock.now.date().isoformat()
    result = org.run(f"policy reviewed --date {day} --board-minute 'BM 2026/05 item 3' "
                     f"{org.as_('spatel')}")
    assert result.stdout.strip() == (f"Recorded PR-0001: the policy was reviewed on {day} "
                                     "(board minute BM 2026/05 item 3).")
    shown = validate_output("policy-show", org.run("policy show --format json").stdout)
    (review,) = shown["reviews"]  # type: ignore[index]
    assert (review["recorded_by"], review["authority"], review["verified_by"]) == (
        "spatel", "trustee", "totp code")
    events = json.loads(org.run("audit log --action policy --format json").stdout)
    assert [(e["action"], e["subject"]) for e in events] == [("policy.review", "PR-0001")]


@pytest.mark.parametrize(("date", "text"), [
    ("2999-01-01", "is in the future"), ("31/12/2026", "--date must be a date"),
    ("", "--date must be a date")])
def test_a_review_date_in_the_future_or_malformed(org: Shell, date: str, text: str) -> None:
    before = dump(org.db)
    result = org.run(["policy", "reviewed", "--date", date, "--as", "spatel", "--otp",
                      "123456"], expect=2)
    assert text in one_line_error(result)
    assert dump(org.db) == before


def test_only_the_board_records_it_and_with_mfa(org: Shell) -> None:
    day = org.clock.now.date().isoformat()
    org.enrol("jdoe", by="vperkins")
    result = org.run(f"policy reviewed --date {day} {org.as_('jdoe')}", expect=3)
    assert "only the CEO or a trustee can record the annual policy review" in \
        one_line_error(result)
    result = org.run(f"policy reviewed --date {day} --as spatel", expect=3)
    assert "this needs spatel's MFA" in one_line_error(result)


def test_the_credential_age_setting_is_changed_by_the_board_and_audited(org: Shell) -> None:
    shown = validate_output("policy-show", org.run("policy show --format json").stdout)
    assert shown["settings"][0]["value"] == 365  # type: ignore[index]
    result = org.run(f"policy set credential-max-age-days 180 {org.as_('vperkins')}")
    assert result.stdout.strip() == "Changed credential-max-age-days from 365 to 180."
    (event,) = json.loads(org.run("audit log --action policy.setting --format json").stdout)
    assert event["details"]["before"] == "365" and event["details"]["after"] == "180"
    org.run("audit verify")
    before = dump(org.db)
    for value in ("0", "1.5", "ten", "99999"):
        result = org.run(["policy", "set", "credential-max-age-days", value, "--as",
                          "vperkins", "--otp", "123456"], expect=2)
        assert "must be a whole number of days" in one_line_error(result)
    assert dump(org.db) == before
    assert "policy.setting" in org.run("authority rules").stdout
    text = org.run("policy show").stdout
    assert "credential-max-age-days" in text and "180" in text
