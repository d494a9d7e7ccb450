"""One command's world: the register, its secret store, the clock, and who is acting.

`Workspace.change` runs a piece of work as one register transaction together with its audit
events. The work receives an `Operation`, which knows the operator and proves their identity
(TOTP code or open session) only when the work asks for it, after its own checks passed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from accessgov.audit import chain as audit
from accessgov.common.timeutil import iso, today, utc_now
from accessgov.db.register import Register, Row
from accessgov.errors import BackendUnavailable, MfaRequired, NotFound, Refused
from accessgov.identity import authority, sessions
from accessgov.identity import totp as mfa
from accessgov.secrets.base import SecretBackend, SecretNotFound
from accessgov.secrets.config import BackendConfig, open_backend

T = TypeVar("T")
BackendFactory = Callable[[BackendConfig], SecretBackend]
SETUP_ACTOR = "setup"
SYSTEM_ACTOR = "accessgov"


@dataclasses.dataclass(frozen=True)
class Proof:
    """How the operator proved who they are for this command."""

    method: str  # "totp" or "session"
    reference: str  # the time step of the code, or the session id

    def describe(self) -> str:
        """`totp code` or `session S-0003`, as stored on approval records."""
        return "totp code" if self.method == "totp" else f"session {self.reference}"


class Workspace:
    """The register at `db_path` and everything a command needs around it."""

    def __init__(
        self,
        db_path: Path,
        *,
        env: Mapping[str, str],
        backend_factory: BackendFactory = open_backend,
        clock: Callable[[], dt.datetime] = utc_now,
        register: Register | None = None,
    ) -> None:
        if register is not None:
            self.__dict__["register"] = register  # already open: reuse it (cached_property)
        self.db_path = db_path
        self.env = dict(env)
        self.backend_factory = backend_factory
        self.clock = clock

    @functools.cached_property
    def register(self) -> Register:
        """The register, opened (and migrated) on first use."""
        return Register.open(self.db_path)

    @functools.cached_property
    def backend(self) -> SecretBackend:
        """The secret store this register was set up with."""
        return self.backend_factory(BackendConfig.from_settings(self.register.settings()))

    @functools.cached_property
    def audit_key(self) -> bytes:
        """The audit chain's key, read from the secret store."""
        version = int(self.register.setting("audit_key_version") or 0)
        try:
            text = self.backend.read(audit.KEY_PATH, version or None)
        except SecretNotFound:
            raise BackendUnavailable(
                f"the audit key is missing from the secret store "
                f"({self.backend.location(audit.KEY_PATH)}); the register cannot be changed or "
                "verified without it"
            ) from None
        return audit.decode_key(text)

    @functools.cached_property
    def runtime_folder(self) -> Path:
        """Where this user's session files live."""
        return sessions.runtime_folder(self.env)

    def ticket(self) -> sessions.Ticket | None:
        """The session ticket on this machine for this register, if any."""
        return sessions.read_ticket(self.runtime_folder, self.db_path)

    def operator_id(self, named: str | None) -> str | None:
        """The operator: `--as` / ACCESSGOV_OPERATOR, else the person of the open session."""
        if named:
            return named
        ticket = self.ticket()
        return ticket.person if ticket else None

    def needs_code(self, named: str | None) -> bool:
        """Whether a sensitive command by this operator would need a TOTP code typed now."""
        operator = self.operator_id(named)
        if operator is None or not self.register.setting("bootstrapped_at"):
            return False
        ticket = self.ticket()
        return not (
            ticket
            and ticket.person == operator
            and sessions.live_session(self.register, ticket, self.clock())
        )

    def change(self, work: Callable[[Operation], T], *, operator: str | None = None,
               code: str | None = None) -> T:
        """Run `work` as one transaction with its audit events; all of it or none of it."""
        register, key, now = self.register, self.audit_key, self.clock()
        operation = Operation(self, audit.AuditLog(register, key), now,
                              self.operator_id(operator), code)
        try:
            with register.transaction():
                operation.expire_due_grants()
                return work(operation)
        except mfa.CodeRejected as rejected:
            operation.undo_side_effects()
            # The command is abandoned, but the failed attempt itself must be on record.
            with register.transaction():
                record_code_failure(register, audit.AuditLog(register, key), rejected.failure,
                                    now)
            raise
        except BaseException:
            operation.undo_side_effects()
            raise

    def close(self) -> None:
        """Close the register if it was opened."""
        if "register" in self.__dict__:
            self.register.close()


def record_code_failure(register: Register, log: audit.AuditLog, failure: mfa.Failure,
                        now: dt.datetime) -> None:
    """Count a rejected code against the person, lock them out at the limit, audit it."""
    state = register.row("SELECT * FROM mfa WHERE person = ?", (failure.person,))
    if state is None:
        return
    changes = mfa.after_failure(state, now)
    register.update("mfa", {"person": failure.person}, changes)
    details: dict[str, Any] = {"reason": failure.reason,
                               "failures_in_a_row": state["failures"] + 1}
    if changes["locked_until"] != state["locked_until"]:
        details["locked_until"] = changes["locked_until"]
    log.append(iso(now), failure.person, "mfa.code_rejected", failure.person, details)


class Operation:
    """The unit of work handed to core functions inside `Workspace.change`."""

    def __init__(self, workspace: Workspace, log: audit.AuditLog, now: dt.datetime,
                 operator_id: str | None, code: str | None) -> None:
        self.workspace = workspace
        self.register = workspace.register
        self.log = log
        self.now = now
        self.at = iso(now)
        self.today = today(now)
        self.operator_id = operator_id
        self._code = code
        self._proof: Proof | None = None
        self._undo: list[Callable[[], None]] = []

    # -- who is acting ---------------------------------------------------------------------

    @property
    def bootstrapped(self) -> bool:
        """True once the CEO has confirmed MFA: from then on every change needs proof."""
        return bool(self.register.setting("bootstrapped_at"))

    @property
    def actor(self) -> str:
        """The name audit events carry for this operation."""
        return self.operator_id or SETUP_ACTOR

    @functools.cached_property
    def operator(self) -> Row:
        """The operator's person record; refuses when nobody is named."""
        if self.operator_id is None:
            raise MfaRequired(
                "name the person acting with --as PERSON (or run 'accessgov login --as PERSON')"
            )
        person = self.register.row("SELECT * FROM people WHERE id = ?", (self.operator_id,))
        if person is None:
            raise NotFound(f"there is no person {self.operator_id!r} in the register")
        return person

    def operator_authority(self, account: str | None) -> str:
        """The operator's authority for `account`, or a refusal."""
        from accessgov.access.delegations import delegations_of

        delegations = delegations_of(self.register, self.operator["id"])
        return authority.require_authority(self.operator, delegations, account, self.today)

    def require_approver(self, account: str | None = None) -> str:
        """An approver (within scope of `account`) who has proved themselves with MFA."""
        granted = self.operator_authority(account)
        self.prove()
        return granted

    def require_editor(self, account: str | None = None) -> str:
        """Who may change people and accounts: anyone during set-up, approvers after."""
        if not self.bootstrapped:
            return SETUP_ACTOR
        return self.require_approver(account)

    def prove(self) -> Proof:
        """Check the operator's TOTP code or open session (once per operation)."""
        if self._proof is None:
            self._proof = self._check_proof()
        return self._proof

    def _check_proof(self) -> Proof:
        person = self.operator
        if person["status"] != "active":
            raise Refused(f"{person['id']} has left and can no longer act in the register")
        state = self.register.row("SELECT * FROM mfa WHERE person = ?", (person["id"],))
        if state is None or state["status"] != "confirmed":
            raise Refused(
                f"{person['id']} has not enrolled MFA, so cannot approve or change anything "
                "(a CEO or trustee runs 'accessgov mfa enrol' for them)"
            )
        if self._code is not None:
            seed = self.workspace.backend.read(mfa.seed_path(person["id"]), state["seed_version"])
            step = mfa.check_code(state, seed, self._code, self.now)
            self.register.update("mfa", {"person": person["id"]},
                                 {"last_step": step, "failures": 0, "locked_until": None})
            return Proof("totp", str(step))
        ticket = self.workspace.ticket()
        if ticket and ticket.person == person["id"]:
            session = sessions.live_session(self.register, ticket, self.now)
            if session:
                return Proof("session", session["id"])
        raise MfaRequired(
            f"this needs {person['id']}'s MFA: add --otp CODE, or run 'accessgov login' first"
        )

    # -- the secret store -------------------------------------------------------------------

    def write_secret(self, path: str, value: str, *, expect_version: int,
                     metadata: dict[str, str] | None = None) -> int:
        """Write to the secret store; the version is discarded again if this operation
        does not commit, so the register never claims less than the store holds."""
        store = self.workspace.backend
        version = store.write(path, value, expect_version=expect_version, metadata=metadata)
        self.on_rollback(lambda: store.discard(path, version))
        return version

    def on_rollback(self, undo: Callable[[], None]) -> None:
        """Run `undo` if this operation does not commit (files or store writes it made)."""
        self._undo.append(undo)

    def undo_side_effects(self) -> None:
        """Best effort: remove what this operation wrote to the store before it failed."""
        while self._undo:
            with contextlib.suppress(Exception):
                self._undo.pop()()

    # -- recording -------------------------------------------------------------------------

    def record(self, action: str, subject: str, **details: Any) -> None:
        """Append one audit event for this operation (details never hold a secret)."""
        if self._proof is not None:
            details.setdefault("verified_by", self._proof.describe())
        clean = {key: value for key, value in details.items() if value is not None}
        self.log.append(self.at, self.actor, action, subject, clean)

    def next_id(self, table: str, prefix: str) -> tuple[str, int]:
        """The next short human id for `table` (G-0001, D-0001, S-0001)."""
        number = (self.register.value(f"SELECT MAX(num) FROM {table}") or 0) + 1
        return f"{prefix}-{number:04d}", number

    def expire_due_grants(self) -> None:
        """Grants whose end date has passed become expired, each with its audit event."""
        due = self.register.rows(
            "SELECT id, person, account FROM grants "
            "WHERE status = 'active' AND expires IS NOT NULL AND expires < ?",
            (self.today,),
        )
        for grant in due:
            self.register.update("grants", {"id": grant["id"]}, {"status": "expired"})
            self.log.append(self.at, SYSTEM_ACTOR, "grant.expire", grant["id"],
                            {"person": grant["person"], "account": grant["account"]})
