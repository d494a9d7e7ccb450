"""The offboarding family of `check`: a checklist left undone for a week, and a leave date
that went by before anyone changed the register."""

from __future__ import annotations

import datetime as dt

from accessgov.db.register import Register
from accessgov.governance.checks import offboarding
from accessgov.governance.checks.base import Context, Finding
from tests.support.shell import Shell


def found(sh: Shell) -> list[Finding]:
    register = Register.open(sh.db)
    try:
        today = sh.clock.now.date().isoformat()
        return list(offboarding.findings(Context(register, today)))
    finally:
        register.close()


def test_a_checklist_left_undone_for_a_week_is_a_finding(leaver: Shell) -> None:
    leaver.run(f"offboard start jdoe {leaver.as_('vperkins')}")
    leaver.clock.advance(7 * 24 * 3600)
    assert found(leaver) == []  # a week is allowed
    leaver.clock.advance(24 * 3600)
    (finding,) = found(leaver)
    assert (finding.rule, finding.severity, finding.subject) == ("OFB-001", "medium", "O-0001")
    assert "7 checklist items are still to do" in finding.message
    assert finding.heading == "Access" and "jdoe" in finding.related
    for number in range(1, 8):
        leaver.run(f"offboard done jdoe {number} --note done {leaver.as_('vperkins')}")
    assert found(leaver) == []


def test_a_leave_date_gone_by_unheeded_is_a_finding(leaver: Shell) -> None:
    tomorrow = (leaver.clock.now + dt.timedelta(days=1)).date().isoformat()
    leaver.run(f"offboard start jdoe --leave-date {tomorrow} {leaver.as_('vperkins')}")
    assert found(leaver) == []
    leaver.clock.advance(24 * 3600)
    (finding,) = found(leaver)
    assert (finding.rule, finding.severity) == ("OFB-002", "high")
    assert f"left on {tomorrow} (O-0001)" in finding.message
    leaver.run(f"account update x-main --purpose Posts {leaver.as_('vperkins')}")
    assert found(leaver) == []  # carried out by that change


def test_every_rule_is_listed_with_a_policy_heading() -> None:
    assert [rule.id for rule in offboarding.RULES] == ["OFB-001", "OFB-002"]
    assert all(rule.heading == "Access" for rule in offboarding.RULES)
