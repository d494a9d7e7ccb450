"""Property test: whatever order approvers request, approve, decline and revoke in, the
register keeps the policy's invariants, and the audit chain stays intact and explains every
record."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from accessgov.access import grants, people
from accessgov.access.accounts import add_account
from accessgov.audit.verification import verify_register
from accessgov.errors import AccessGovError
from accessgov.identity import enrolment
from accessgov.initialise import initialise
from accessgov.secrets.config import BackendConfig
from accessgov.workspace import Workspace
from tests.support.memory_backend import MemoryBackend
from tests.support.shell import Clock

PEOPLE = ["vperkins", "spatel", "jdoe", "kim"]
ACCOUNTS = ["instagram-main", "fb-page"]
APPROVERS = ["vperkins", "spatel"]
ROLES = ["admin", "editor", "analyst"]


class GrantLifecycle(RuleBasedStateMachine):
    root: Path  # set by the test: every register lives inside pytest's tmp_path

    def __init__(self) -> None:
        super().__init__()
        folder = Path(tempfile.mkdtemp(dir=self.root))
        store: dict[str, object] = {}
        self.clock = Clock()
        self.workspace = Workspace(
            folder / "register.db", env=dict(os.environ) | {"XDG_RUNTIME_DIR": str(folder)},
            backend_factory=lambda config: MemoryBackend("sm", store),  # type: ignore[arg-type]
            clock=self.clock)
        initialise(folder / "register.db", "SM", BackendConfig("memory", "sm"),
                   self.workspace.backend_factory)
        # The test's clock starts after `init` was dated by the real one (as the `shell`
        # fixture's does): on a slow machine init can end in the next second.
        self.clock.now = max(self.clock.now, dt.datetime.now(dt.UTC))
        self.seeds: dict[str, str] = {}
        self._set_up()

    def _change(self, work, operator: str | None = None) -> object:  # type: ignore[no-untyped-def]
        code = None
        if operator in self.seeds:
            self.clock.advance(30)
            from accessgov.identity.totp import current_code

            code = current_code(self.seeds[operator], self.clock.now)
        return self.workspace.change(work, operator=operator, code=code)

    def _set_up(self) -> None:
        categories = {"vperkins": "ceo", "spatel": "trustee", "jdoe": "employee",
                      "kim": "volunteer"}
        self._change(lambda op: people.add_person(op, "vperkins", name="V", email="v@x.org",
                                                  category="ceo"))
        self._enrol("vperkins", by=None)
        for person in PEOPLE[1:]:
            self._change(lambda op, p=person: people.add_person(
                op, p, name=p, email=f"{p}@x.org", category=categories[p],
                board_minute="BM 1"), "vperkins")
        self._enrol("spatel", by="vperkins")
        for account in ACCOUNTS:
            self._change(lambda op, a=account: add_account(
                op, a, platform="facebook", handle=a, owner="spatel", purpose="p"), "vperkins")

    def _enrol(self, person: str, by: str | None) -> None:
        from urllib.parse import parse_qs, urlparse

        if by is not None:  # an invitation; then the person enrols themselves
            self._change(lambda op: enrolment.enrol(op, person), by)
        uri = self._change(lambda op: enrolment.enrol(op, person), person)
        self.seeds[person] = parse_qs(urlparse(str(uri)).query)["secret"][0]
        self.clock.advance(30)
        from accessgov.identity.totp import current_code

        code = current_code(self.seeds[person], self.clock.now)
        self._change(lambda op: enrolment.confirm(op, person, code), person)

    def _grant_ids(self) -> list[str]:
        return [row["id"] for row in self.workspace.register.rows("SELECT id FROM grants")]

    @rule(approver=st.sampled_from(APPROVERS), person=st.sampled_from(PEOPLE),
          account=st.sampled_from(ACCOUNTS), role=st.sampled_from(ROLES),
          at_once=st.booleans())
    def request(self, approver: str, person: str, account: str, role: str,
                at_once: bool) -> None:
        work = grants.add_grant if at_once else grants.request_grant
        # Refusals are part of the game; the invariants say what must still hold.
        with contextlib.suppress(AccessGovError):
            self._change(lambda op: work(op, person, account, role=role, reason="r"), approver)

    @rule(approver=st.sampled_from(APPROVERS), pick=st.integers(0, 50),
          decision=st.sampled_from(["approve", "decline", "revoke"]))
    def decide(self, approver: str, pick: int, decision: str) -> None:
        ids = self._grant_ids()
        if not ids:
            return
        grant_id = ids[pick % len(ids)]
        try:
            if decision == "revoke":
                self._change(lambda op: grants.revoke_grant(op, grant_id, reason="r"), approver)
            else:
                self._change(lambda op: grants.decide_grant(
                    op, grant_id, approve=decision == "approve"), approver)
        except AccessGovError:
            pass

    @invariant()
    def at_most_one_live_grant_per_person_and_account(self) -> None:
        rows = self.workspace.register.rows(
            "SELECT person, account, COUNT(*) AS n FROM grants "
            "WHERE status IN ('active', 'pending') GROUP BY person, account HAVING n > 1")
        assert rows == []

    @invariant()
    def every_active_grant_was_approved_by_someone_else_with_authority(self) -> None:
        register = self.workspace.register
        for row in register.rows(
                "SELECT g.person, g.account, a.approver, a.authority, a.mfa_verified "
                "FROM grants g JOIN approvals a ON a.grant_id = g.id "
                "WHERE g.status IN ('active', 'revoked') AND a.decision = 'approved'"):
            assert row["approver"] != row["person"]
            assert row["mfa_verified"] == 1
            approver = register.row("SELECT category FROM people WHERE id = ?",
                                    (row["approver"],))
            assert approver is not None and approver["category"] == row["authority"]
        unapproved = register.value(
            "SELECT COUNT(*) FROM grants g WHERE g.status = 'active' AND NOT EXISTS "
            "(SELECT 1 FROM approvals a WHERE a.grant_id = g.id AND a.decision = 'approved')")
        assert unapproved == 0

    @invariant()
    def the_audit_chain_is_intact_and_explains_every_record(self) -> None:
        report = verify_register(self.workspace.register, self.workspace.trust, None)
        assert report.ok, (report.verdict.problem, report.findings)

    def teardown(self) -> None:
        self.workspace.close()


@pytest.mark.filterwarnings("ignore")
def test_grant_lifecycle(tmp_path: Path) -> None:
    GrantLifecycle.root = tmp_path
    run_state_machine_as_test(GrantLifecycle, settings=settings(
        max_examples=25, stateful_step_count=15, deadline=None,
        suppress_health_check=[HealthCheck.too_slow]))
