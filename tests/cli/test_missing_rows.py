"""Rows deleted behind the log are never acted on (issue 15, item 5).

Tried as an insider would: before being offboarded, jdoe deletes her own exposure rows with
sqlite3, so that the checklist would no longer say "rotate the password"; an approver's record
is deleted from under a grant. Each person and grant carries, in its sealed row, how many of
those records it has: a decision that rests on them compares and refuses.
"""

from __future__ import annotations

import json

from tests.cli.test_attacks import refused
from tests.support.behind import behind_the_log
from tests.support.shell import Shell, dump


def test_deleting_ones_own_exposures_before_leaving_is_refused_at_offboarding(
        shared: Shell) -> None:
    shared.enrol("jdoe", by="vperkins")
    shared.run(f"cred reveal tiktok-main {shared.as_('jdoe')}")
    behind_the_log(shared.db, "DELETE FROM exposures WHERE person = 'jdoe'")
    before = dump(shared.db)
    line = refused(shared, f"offboard start jdoe {shared.as_('vperkins')}")
    assert "jdoe should have 2 exposures record(s) by its sealed count, and the register " \
           "holds 0" in line
    assert dump(shared.db)["exposures"] == before["exposures"]
    report = json.loads(shared.run("audit verify --format json", expect=1).stdout)
    assert {(f["table"], f["problem"][:22]) for f in report["state_findings"]} == {
        ("exposures", "deleted behind the log")}


def test_an_approval_deleted_behind_the_log_stops_every_decision_on_its_grant(
        shared: Shell) -> None:
    behind_the_log(shared.db, "DELETE FROM approvals WHERE grant_id = 'G-0001'")
    line = refused(shared, f"grant revoke G-0001 --reason gone {shared.as_('vperkins')}")
    assert "G-0001 should have 1 approvals record(s)" in line


def test_a_forged_exposure_for_someone_else_does_not_balance_the_count(shared: Shell) -> None:
    """Deleting one's own row and inserting one for someone else keeps the table's size; the
    count is per person, so the deletion still shows."""
    shared.enrol("jdoe", by="vperkins")
    shared.run(f"cred reveal tiktok-main {shared.as_('jdoe')}")
    behind_the_log(
        shared.db, "DELETE FROM exposures WHERE person = 'jdoe'",
        "INSERT INTO exposures (person, account, kind, version, at, how) SELECT 'spatel', "
        "account, kind, version, at, how FROM exposures LIMIT 1")
    line = refused(shared, f"offboard start jdoe {shared.as_('vperkins')}")
    assert "jdoe should have 2 exposures record(s)" in line


def test_an_honest_register_counts_as_it_goes(shared: Shell) -> None:
    shared.enrol("jdoe", by="vperkins")
    shared.run(f"cred reveal tiktok-main {shared.as_('jdoe')}")
    shared.run(f"cred rotate tiktok-main --kind password --stdin {shared.as_('vperkins')}",
               input="Tt-second-Canary-8842\n")
    shared.run(f"offboard start jdoe {shared.as_('vperkins')}")
    items = json.loads(shared.run("offboard show jdoe --format json").stdout)["items"]
    assert any(item["kind"] == "rotate" for item in items)
    assert "intact" in shared.run("audit verify").stdout
