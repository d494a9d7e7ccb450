"""Messaging groups (WhatsApp and the like): each overseen by someone still here, for a
stated purpose.

"Where messaging groups are used: groups should normally be created and overseen by authorised
InterAct staff; the purpose of the group should be clear" ("WhatsApp, Messaging Apps and Group
Chats").
"""

from __future__ import annotations

from collections.abc import Iterator

from accessgov.db.queries import findings as rows
from accessgov.governance.checks.base import MESSAGING, Context, Finding, PolicyRule

NO_OVERSEER = PolicyRule("MSG-001", "medium", "a messaging group without an active overseer",
                         MESSAGING)
NO_PURPOSE = PolicyRule("MSG-002", "medium", "a messaging group without a stated purpose",
                        MESSAGING)
RULES = (NO_OVERSEER, NO_PURPOSE)


def findings(context: Context) -> Iterator[Finding]:
    """Every finding of this family."""
    for group in rows.messaging_groups(context.register):
        name = group["id"]
        if group["overseer"] is None:
            yield NO_OVERSEER.finding(
                name, f"The messaging group {name} has no overseer: name a member of staff "
                f"who oversees it with 'accessgov account update {name} --overseer PERSON'.")
        elif group["overseer_status"] != "active":
            yield NO_OVERSEER.finding(
                name, f"The overseer of the messaging group {name}, "
                f"{context.name(group['overseer'])}, has left: name someone who is still here "
                f"with 'accessgov account update {name} --overseer PERSON'.", group["overseer"])
        if not (group["purpose"] or "").strip():
            yield NO_PURPOSE.finding(
                name, f"The messaging group {name} has no stated purpose: record what it is "
                f"for with 'accessgov account update {name} --purpose TEXT'.")
