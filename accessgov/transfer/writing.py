"""Writing accepted rows, each with its audit event; grants in batches (100,000 of them must
import in seconds)."""

from __future__ import annotations

from typing import Any

from accessgov.access import exposures
from accessgov.db.queries import people, transfer
from accessgov.identity.rules import is_approver_category
from accessgov.operation import Operation
from accessgov.transfer.world import World

BATCH = 5_000


class Writer:
    """Writes accepted rows in the import's change, each with its audit event; grants in
    batches (100,000 of them must import in seconds)."""

    def __init__(self, op: Operation, world: World, board_minute: str | None) -> None:
        self.op = op
        self.world = world
        self.board_minute = board_minute
        self.grants: list[tuple[Any, ...]] = []
        self.approvals: list[tuple[Any, ...]] = []
        self.claims: list[tuple[Any, ...]] = []
        proof = op.proof
        self.verified_by = proof.describe() if proof is not None else None
        self.exposed: list[tuple[str, str, int, str]] = []

    def write(self, kind: str, number: int, record: dict[str, Any]) -> None:
        """Store one accepted row and record its event."""
        getattr(self, f"_{kind}")(number, record)

    def update(self, kind: str, number: int, record: dict[str, Any],
               changed: tuple[str, ...]) -> None:
        """`--update`: change the columns of a record already present, as `person update`
        would, with its event (what was, what is)."""
        assert kind == "people"
        op = self.op
        # Through the checked path: a row changed behind the log is refused, not resealed.
        current = people.get(op.register, record["id"])
        before = {key: current[key] for key in changed}
        op.register.update("people", {"id": record["id"]},
                           {key: record[key] for key in changed} | {"updated_at": op.at})
        op.record("person.update", record["id"], row=number, via="import", before=before,
                  after={key: record[key] for key in changed})

    def _people(self, number: int, record: dict[str, Any]) -> None:
        op = self.op
        op.register.insert("people", record | {"created_at": op.at, "updated_at": op.at})
        minute = self.board_minute if is_approver_category(record["category"]) else None
        op.record("person.import", record["id"], row=number, board_minute=minute,
                  **_details(record))

    def _accounts(self, number: int, record: dict[str, Any]) -> None:
        op = self.op
        op.register.insert("accounts", record | {"created_at": op.at, "updated_at": op.at})
        op.record("account.import", record["id"], row=number, **_details(record))

    def _delegations(self, number: int, record: dict[str, Any]) -> None:
        op = self.op
        values = {key: value for key, value in record.items()
                  if key not in ("accounts", "_num")}
        op.register.insert("delegations", values | {
            "num": record["_num"], "all_accounts": int(record["all_accounts"]),
            "mfa_verified": 0, "verified_by": None})
        for account in record["accounts"]:
            op.register.insert("delegation_accounts", {"delegation": record["id"],
                                                       "account": account})
        op.record("delegation.import", record["id"], row=number, **_details(values) | {
            "accounts": record["accounts"] or None})

    def _grants(self, number: int, record: dict[str, Any]) -> None:
        op = self.op
        decided = record["decided_by"] is not None
        decision = "declined" if record["status"] == "declined" else "approved"
        self.grants.append((
            record["id"], record["_num"], record["person"], record["account"], record["role"],
            record["reason"], record["requested_by"], record["requested_at"],
            record["expires"], record["status"], op.at if decided else None,
            record["revoked_by"], record["revoked_at"], record["revoke_reason"]))
        if decided:
            # The importer's own decision, on their own authority and MFA; what the file says
            # of the decision is kept beside it as a claim.
            self.approvals.append((record["id"], decision, op.operator["id"],
                                   op.operator["category"], None, int(self.verified_by is not None),
                                   self.verified_by,
                                   op.at))
            self.claims.append((record["id"], record["decided_by"], record["authority"],
                                record["decided_at"], record["board_minute"],
                                op.operator["id"], op.at))
        version = self.world.shared_passwords.get(record["account"])
        if record["status"] == "active" and version is not None:
            self.exposed.append((record["person"], record["account"], version, record["id"]))
        details = {key: value for key, value in record.items()
                   if key not in ("id", "_num") and value is not None}
        if decided:
            details["approved_by"] = op.operator["id"]
        op.record("grant.import", record["id"], row=number, **details)
        if len(self.grants) >= BATCH:
            self.flush()

    def flush(self) -> None:
        """Write the grants waiting in the batch."""
        if self.grants:
            transfer.insert_grants(self.op.register, self.grants)
        if self.approvals:
            transfer.insert_approvals(self.op.register, self.approvals)
            transfer.insert_claims(self.op.register, self.claims)
        for person, account, version, grant_id in self.exposed:
            exposures.expose(self.op.register, person, account, "password", version,
                             "shared-login grant", grant_id, self.op.at)
        self.grants, self.approvals, self.claims, self.exposed = [], [], [], []


def _details(record: dict[str, Any]) -> dict[str, Any]:
    """An imported row's values for its audit event (its id is the subject)."""
    return {key: value for key, value in record.items()
            if key not in ("id", "_num") and value is not None}
