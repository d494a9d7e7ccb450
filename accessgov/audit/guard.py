"""Before every change: the log must be this register's own, as new as the secret store
says, dated no earlier than its last event, and every row sealed.

The log must start with the register's own `init` event, sealed with this key (a log
emptied, cut or altered refuses every change); the register must not be behind the chain
head recorded in the secret store (accessgov.audit.head: a copy put back is refused); the
change must not be dated before the log's last event (accessgov.audit.timeline: a clock set
back is refused); rows still waiting for their first seal (a register made before seals
existed) are sealed once, in a `register.seal` event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from accessgov.audit import chain
from accessgov.db import seals
from accessgov.db.queries import events
from accessgov.errors import Tampered
from accessgov.operation import Operation

if TYPE_CHECKING:  # `whoami` imports the workspace, and with it this module: keep it light
    from accessgov.audit.head import Tracker

SEALED_MARKER = "audit/sealed"  # in the secret store: seals are in force for this register


def guard(op: Operation, head: Tracker | None = None, *,
          acknowledging_clock: bool = False, restoring: bool = False) -> None:
    """Refuse to build on a log that does not start with this register's sealed `init`, on
    a register behind the store's chain head (unless this change is its deliberate restore),
    or at a time before the log's last event; give rows from before seals existed their
    first seal."""
    first = events.first(op.register)
    if first is None or first["action"] != "register.init" or first["prev"] != chain.GENESIS \
            or not op.trust.events.holds(first):
        raise Tampered("the audit log does not start with this register's sealed 'init' event "
                       "(it was emptied, cut or altered): nothing can be changed; run "
                       "'accessgov audit verify'")
    from accessgov.audit import timeline

    if head is not None and restoring:
        from accessgov.audit.head import ADOPTED

        op.facts[ADOPTED] = head.adopt(op.register)
    elif head is not None:
        head.check(op.register)
    timeline.check(op, acknowledging=acknowledging_clock)
    if seals.has_unsealed_rows(op.register):
        _seal_legacy_rows(op)
    if seals.has_uncounted_rows(op.register):
        _count_legacy_rows(op)


def _count_legacy_rows(op: Operation) -> None:
    """A register from before child counts: count the children of every sealed parent, once,
    and say so in the log."""
    verifier = op.register.verifier
    assert verifier is not None, "a change counts legacy rows through its own checks"
    counted = seals.count_sealed_uncounted(op.register, verifier.holds)
    if counted:
        op.record_system("register.count", op.register.setting("org_slug") or "register",
                         rows_counted=counted)


def _seal_legacy_rows(op: Operation) -> None:
    """A register from before seals: seal what it holds, once, and say so in the log.

    Only while no change has ever been sealed: after that an unsealed row was written behind
    the log. The marker in the secret store keeps a log cut back to before the first seal
    from opening this door again."""
    if events.any_row_list(op.register) or op.store.exists(SEALED_MARKER):
        return  # decisions refuse such rows one by one, and audit verify names them
    count = 0
    for table in seals.SEALED:
        for pk in seals.unsealed_keys(op.register, table):
            seals.note_written(op.register, table, pk)
            count += 1
    op.write_secret(SEALED_MARKER, op.at, expect_version=0)
    op.record_system("register.seal", op.register.setting("org_slug") or "register",
                     rows_sealed=count)
