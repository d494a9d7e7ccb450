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
from accessgov.db.register import Location, Register, Row
from accessgov.db.trust import Verifier
from accessgov.errors import AccessGovError, BackendUnavailable, MfaRequired, Refused
from accessgov.governance import incidents, offboarding
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
        db_path: Location,
        *,
        env: Mapping[str, str],
        backend_factory: BackendFactory = open_backend,
        clock: Callable[[], dt.datetime] = utc_now,
        register: Register | None = None,
        tickets_of: Location | None = None,
    ) -> None:
        if register is not None:
            self.__dict__["register"] = register  # already open: reuse it (cached_property)
        self.db_path = db_path
        # Whose session tickets this machine holds: the register's own, or (checking a copy
        # of it, a backup) the register it is a copy of.
        self.tickets_of = tickets_of or db_path
        self.env = dict(env)
        # Where the secret store is for this run, when not where the register says (only
        # `store set-address`, whose change must prove itself through the new address).
        self.store_address: str | None = None
        self.backend_factory = backend_factory
        self.clock = clock
        self.warnings: list[str] = []

    @functools.cached_property
    def register(self) -> Register:
        """The register, opened (and migrated) on first use."""
        return Register.open(self.db_path)

    @functools.cached_property
    def backend(self) -> SecretBackend:
        """The secret store this register was set up with (where each operator is their own
        identity in it, with the token of this machine's session, if there is one)."""
        settings = self.register.settings()
        if self.store_address is not None:  # `store set-address`: the change runs on the new
            settings = settings | {"backend_vault_url": self.store_address}
        backend = self.backend_factory(BackendConfig.from_settings(settings))
        if backend.signs:
            ticket = self.ticket()
            if ticket is not None:
                backend.use_token(ticket.token)
        return backend

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

    def seat(self) -> Seat:
        """Where this command runs: the register and this user's session folder."""
        return Seat(self.db_path, self.runtime_folder, self.ticket)

    def ticket(self) -> sessions.Ticket | None:
        """The session ticket on this machine for this register, if any: a claim, unchecked."""
        return sessions.read_ticket(self.runtime_folder, self.tickets_of)

    @property
    def signed(self) -> bool:
        """Whether each operator is their own identity in the secret store, which signs every
        change (OpenBao): their login there is their session."""
        return self.backend.signs

    def session(self) -> Row | None:
        """This machine's open session, its ticket's token checked against the register
        (read-only: to show it). A forged ticket is refused, and the attempt recorded."""
        row = self._ticket_row(record=True)
        return row if row is not None and sessions.is_open(row, self.clock()) else None

    def operator_id(self, named: str | None) -> str | None:
        """The operator: `--as` / ACCESSGOV_OPERATOR, else the person of this machine's
        session once its ticket's token is checked (a forged ticket is refused, and the
        attempt recorded). Only for deciding what to ask: each change identifies its
        operator again, under the write lock (`sessions.identify`)."""
        if named:
            return named
        if self.signed:
            ticket = self.ticket()  # its token is checked by OpenBao, by each change
            return ticket.person if ticket else None
        row = self._ticket_row(record=True)
        return str(row["person"]) if row is not None else None

    def needs_code(self, named: str | None) -> bool:
        """Whether a sensitive command by this operator would need a TOTP code typed now
        (only to decide whether to ask; the change itself checks everything)."""
        if named is None and self.ticket() is None:
            return False
        if not authority.setup_claimed(self.register) or self.signed:
            return False  # set-up; or codes are typed at the store's login, not per change
        try:
            row = self._ticket_row(record=False)
        except sessions.ForgedTicket:
            return False  # the change refuses it, and records it, before any code is checked
        operator = named or (row["person"] if row is not None else None)
        if operator is None:
            return False
        return not (row is not None and row["person"] == operator
                    and sessions.is_open(row, self.clock()))

    def _ticket_row(self, *, record: bool) -> Row | None:
        """The session row this machine's ticket stands for, in whatever state, once its
        token checks out; None without a ticket or when it names no session here. With
        `record`, a forged ticket is put on record by a change of its own, whose first step
        checks the ticket again under the write lock, refuses it and records the attempt."""
        ticket = self.ticket()
        if ticket is None:
            return None
        try:
            return sessions.check_ticket(self.register, ticket, self.trust.sessions)
        except sessions.ForgedTicket:
            if record:
                self.change(_nothing)
            raise

    @functools.cached_property
    def trust(self) -> seals.Trust:
        """What this register's seals rest on: the audit key, or (where each operator is their
        own identity in the store) their signatures."""
        backend = self.backend
        if backend.signs:
            return chain.signed_trust(self._sign, backend.signature_problem)
        return chain.keyed_trust(self.audit_key)

    def _sign(self, mac: bytes) -> tuple[str, str]:
        """A change signed by whoever the store's token belongs to."""
        person = self.backend.operator()
        return person, self.backend.sign(person, mac)

    def change(self, work: Callable[[Operation], T], *, operator: str | None = None,
               code: str | None = None, ticket: sessions.Ticket | None = None,
               acknowledging_clock: bool = False, restoring: bool = False,
               moving_to: SecretBackend | None = None) -> T:
        """Run `work` as one transaction with its audit events; all of it or none of it.

        A rejected code or a refused attempt is itself recorded, in the same transaction after
        the work was undone, so that the write lock is never let go between the check and
        the record (five wrong codes in parallel are five, not six). The change first checks
        this machine's session ticket (or `ticket`, when the caller has already removed the
        file: logout); without `operator`, a genuine ticket's person is the operator.
        `acknowledging_clock`: the work is the acknowledgement of a clock that was wrong, the
        one change that may be dated before the log's last event. `restoring`: the work is
        the deliberate restore of this register from a backup (accessgov.governance.restore),
        the one change that builds on a register behind the store's record of its head.
        `moving_to`: the work moves the register's secrets to this store
        (accessgov.governance.store_move), whose record of the head starts with this change.
        """
        from accessgov.audit.head import Moving, Tracker, record_of

        register = self.register
        head = (Tracker(self.head_record) if moving_to is None
                else Moving(self.head_record, record_of(moving_to)))
        trust = self.trust
        op: Operation | None = None
        failure: AccessGovError | None = None
        try:
            verifier = Verifier(register, trust.rows, trust.events.holds)
            with register.transaction(), register.verified_by(verifier):
                # Dated under the write lock, so never before a change that committed first.
                op = self._operation(operator, code, ticket)
                seals.track(register)
                try:
                    with register.savepoint():
                        sessions.identify(op)
                        guard.guard(op, head, acknowledging_clock=acknowledging_clock,
                                    restoring=restoring)
                        expire_due_grants(op)
                        offboarding.carry_out_scheduled(op)
                        result = work(op)
                        offboarding.tick_satisfied(op)
                        incidents.tick_satisfied(op)
                        self._seal(op, head)
                except (totp.CodeRejected, Refused) as refused:
                    if isinstance(refused, unrecorded()) or restoring:
                        raise  # a refused restore's copy is not kept: recorded by the caller
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

    def _operation(self, operator: str | None, code: str | None,
                   ticket: sessions.Ticket | None) -> Operation:
        trust = self.trust
        read_ticket = self.ticket if ticket is None else lambda: ticket
        # Only a named operator here: a ticket's person becomes the operator once the change
        # has checked its token (sessions.identify), never on the file's word.
        return Operation(
            self.register, chain.AuditLog(self.register, trust), self.now(), trust=trust,
            operator_id=operator or None, code=code, store=lambda: self.backend,
            seat=Seat(self.db_path, self.runtime_folder, read_ticket),
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
        elif isinstance(failure, sessions.ForgedTicket):
            # Whoever holds a forged ticket is unknown; the person it names is its target.
            op.journal.append(iso(when), sessions.UNKNOWN_ACTOR, "refused",
                              failure.ticket.session_id,
                              {"attempted": "session.use", "reason": str(failure),
                               **failure.details(), "verified_by": "not verified"})
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


def _nothing(_op: Operation) -> None:
    """A change with no work of its own (its first step may refuse, and record, a ticket)."""
