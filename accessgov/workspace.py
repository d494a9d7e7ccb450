"""One command's world: the register, its secret store, the clock, and who is acting.

`Workspace.change` runs a piece of work as one register transaction together with its audit
events: it builds the `Operation` the work receives, wires in the sealed audit chain, and
commits it all or undoes it all (including what the work wrote to the secret store).

The time of a change is the OpenBao server's when the store has a server (a local clock more
than two minutes off is refused), else this computer's. Before the work, the guard refuses a
register behind the chain head the secret store records, or a time before the log's last
event; after the commit, the store's record of the head is moved on (accessgov.audit.head).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from accessgov.access.grants import expire_due_grants
from accessgov.audit import chain, guard
from accessgov.common.timeutil import iso, utc_now
from accessgov.db import seals
from accessgov.db.register import Register
from accessgov.db.trust import Verifier
from accessgov.errors import AccessGovError, BackendUnavailable, MfaRequired, Refused
from accessgov.governance import offboarding
from accessgov.identity import authority, sessions, totp
from accessgov.identity.proof import record_code_failure
from accessgov.operation import Operation, Seat
from accessgov.secrets.base import SecretBackend, SecretNotFound
from accessgov.secrets.config import BackendConfig, open_backend

if TYPE_CHECKING:  # imported where changes need them: `whoami` reads through a Workspace
    from accessgov.audit import head as chain_head

T = TypeVar("T")
BackendFactory = Callable[[BackendConfig], SecretBackend]


def unrecorded() -> tuple[type[AccessGovError], ...]:
    """Refusals that are not put on record: no operator named, the register cannot be trusted
    (a copy put back), or the record would be dated before the log's last event (a clock set
    back)."""
    from accessgov.audit import head, timeline

    return (MfaRequired, head.RolledBack, timeline.ClockBehind)


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
        self.warnings: list[str] = []

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
            text = self.backend.read(chain.KEY_PATH, version or None)
        except SecretNotFound:
            raise BackendUnavailable(
                f"the audit key is missing from the secret store "
                f"({self.backend.location(chain.KEY_PATH)}); the register cannot be changed or "
                "verified without it"
            ) from None
        try:
            return chain.decode_key(text)
        except ValueError:  # binascii.Error too: not the base64 accessgov wrote
            raise BackendUnavailable(
                f"the audit key in the secret store ({self.backend.location(chain.KEY_PATH)}) "
                "is not one accessgov wrote (not base64): it was replaced or damaged; restore "
                "it from a backup of the store"
            ) from None

    @functools.cached_property
    def head_record(self) -> chain_head.HeadRecord:
        """Where the secret store keeps the audit chain's head."""
        from accessgov.audit import head

        return head.record_of(self.backend)

    def now(self, *, check_clock: bool = True) -> dt.datetime:
        """The time of a change: the OpenBao server's if the store has one (ClockSkew if this
        computer's clock is more than two minutes off it, unless `check_clock` is False),
        else this computer's clock."""
        from accessgov.audit import timeline

        return timeline.store_time(self.backend, self.clock(), check_clock=check_clock)

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
        """Whether a sensitive command by this operator would need a TOTP code typed now
        (only to decide whether to ask; the change itself checks everything)."""
        operator = self.operator_id(named)
        if operator is None or not authority.setup_claimed(self.register):
            return False
        ticket = self.ticket()
        return not (
            ticket
            and ticket.person == operator
            and sessions.claimed_session(self.register, ticket, self.clock())
        )

    @functools.cached_property
    def keys(self) -> seals.Keys:
        """The audit key and the keys derived from it."""
        return seals.Keys.derive(self.audit_key)

    def change(self, work: Callable[[Operation], T], *, operator: str | None = None,
               code: str | None = None, acknowledging_clock: bool = False) -> T:
        """Run `work` as one transaction with its audit events; all of it or none of it.

        A rejected code or a refused attempt is itself recorded, in the same transaction after
        the work was undone, so that the write lock is never let go between the check and
        the record (five wrong codes in parallel are five, not six). `acknowledging_clock`:
        the work is the acknowledgement of a clock that was wrong, the one change that may be
        dated before the log's last event.
        """
        from accessgov.audit.head import Tracker

        register = self.register
        keys, head = self.keys, Tracker(self.head_record)
        op: Operation | None = None
        failure: AccessGovError | None = None
        try:
            with register.transaction(), register.verified_by(Verifier(register, keys.rows)):
                # Dated under the write lock, so never before a change that committed first.
                op = self._operation(operator, code)
                seals.track(register)
                try:
                    with register.savepoint():
                        guard.guard(op, head, acknowledging_clock=acknowledging_clock)
                        expire_due_grants(op)
                        offboarding.carry_out_scheduled(op)
                        result = work(op)
                        offboarding.tick_satisfied(op)
                        self._seal(op, head)
                except (totp.CodeRejected, Refused) as refused:
                    if isinstance(refused, unrecorded()):
                        raise
                    failure = refused
                    self._record_failure(op, refused, head)
        except BaseException:
            if op is not None:
                op.undo_side_effects()
            raise
        self.warnings += head.publish(register, op.actor)
        if failure is not None:
            raise failure
        self.warnings += op.run_after_commit()
        return result

    def _operation(self, operator: str | None, code: str | None) -> Operation:
        keys = self.keys
        return Operation(
            self.register, chain.AuditLog(self.register, keys), self.now(), keys=keys,
            operator_id=self.operator_id(operator), code=code, store=lambda: self.backend,
            seat=Seat(self.db_path, self.runtime_folder, self.ticket),
        )

    @staticmethod
    def _seal(op: Operation, head: chain_head.Tracker) -> None:
        """Write the change's events, noting first (under the same seal) the chain head
        version the store will be moved to."""
        if isinstance(op.journal, chain.AuditLog) and op.journal.pending:
            head.note(op.register)
        op.journal.commit()

    def _record_failure(self, op: Operation, failure: AccessGovError,
                        head: chain_head.Tracker) -> None:
        """Undo the work's side effects, then put the attempt itself on record (never dated
        before the log's last event: see accessgov.audit.timeline)."""
        from accessgov.audit import timeline

        op.undo_side_effects()
        op.journal.discard()
        when = timeline.not_before_log(op)
        if isinstance(failure, totp.CodeRejected):
            record_code_failure(op.register, op.journal, failure.failure, when)
        else:
            action, subject = op.attempt or ("unknown", "-")
            op.journal.append(iso(when), op.actor, "refused", subject, {
                "attempted": action, "reason": str(failure),
                "verified_by": op.proof.describe() if op.proof else "not verified"})
        head.note_attempt()
        op.journal.commit()

    def close(self) -> None:
        """Close the register if it was opened."""
        if "register" in self.__dict__:
            self.register.close()
