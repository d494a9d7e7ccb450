"""Forward migrations of the register's schema, written with sqlite-utils.

Each migration takes the schema from version N-1 to N and runs inside the caller's
transaction; `PRAGMA user_version` records where a file stands, and LATEST_VERSION is
simply how many there are. Never edit a released migration: add a new one. Importing this
module is cheap: sqlite-utils is loaded only when a migration runs.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING

from accessgov import __version__
from accessgov.common.timeutil import iso, utc_now

if TYPE_CHECKING:
    import sqlite_utils


def _v1_initial(db: sqlite_utils.Database) -> None:
    db.create_table("settings", {"key": str, "value": str}, pk="key", not_null={"value"})
    db.create_table("schema_history",
        {"version": int, "applied_at": str, "accessgov_version": str}, pk="version"
    )
    db.create_table("people",
        {
            "id": str, "name": str, "email": str, "category": str, "title": str,
            "manager": str, "status": str, "start_date": str, "leave_date": str,
            "created_at": str, "updated_at": str,
        },
        pk="id",
        not_null={"name", "email", "category", "status", "created_at", "updated_at"},
        foreign_keys=[("manager", "people", "id")],
    )
    db.create_table("accounts",
        {
            "id": str, "platform": str, "handle": str, "url": str, "purpose": str,
            "owner": str, "kind": str, "access": str, "mfa_method": str,
            "mfa_verified_on": str, "recovery_email": str, "recovery_phone": str,
            "overseer": str, "status": str, "created_at": str, "updated_at": str,
            "archived_at": str,
        },
        pk="id",
        not_null={"platform", "handle", "purpose", "owner", "kind", "access", "mfa_method",
                  "status", "created_at", "updated_at"},
        foreign_keys=[("owner", "people", "id"), ("overseer", "people", "id")],
    )
    db.create_table("grants",
        {
            "id": str, "num": int, "person": str, "account": str, "role": str, "reason": str,
            "requested_by": str, "requested_at": str, "expires": str, "status": str,
            "decided_at": str, "revoked_by": str, "revoked_at": str, "revoke_reason": str,
        },
        pk="id",
        not_null={"num", "person", "account", "role", "reason", "requested_by",
                  "requested_at", "status"},
        foreign_keys=[("person", "people", "id"), ("account", "accounts", "id"),
                      ("requested_by", "people", "id"), ("revoked_by", "people", "id")],
    )
    db.create_table("approvals",
        {
            "id": int, "grant_id": str, "decision": str, "approver": str, "authority": str,
            "board_minute": str, "mfa_verified": int, "verified_by": str, "at": str,
        },
        pk="id",
        not_null={"grant_id", "decision", "approver", "authority", "mfa_verified", "at"},
        foreign_keys=[("grant_id", "grants", "id"), ("approver", "people", "id")],
    )
    db.create_table("delegations",
        {
            "id": str, "num": int, "delegate": str, "all_accounts": int, "granted_by": str,
            "mfa_verified": int, "verified_by": str, "valid_from": str, "valid_until": str,
            "created_at": str, "revoked_by": str, "revoked_at": str, "revoke_reason": str,
        },
        pk="id",
        not_null={"num", "delegate", "all_accounts", "granted_by", "mfa_verified",
                  "valid_from", "created_at"},
        foreign_keys=[("delegate", "people", "id"), ("granted_by", "people", "id"),
                      ("revoked_by", "people", "id")],
    )
    db.create_table("delegation_accounts",
        {"delegation": str, "account": str},
        pk=("delegation", "account"),
        foreign_keys=[("delegation", "delegations", "id"), ("account", "accounts", "id")],
    )
    db.create_table("mfa",
        {
            "person": str, "status": str, "seed_version": int, "enrolled_by": str,
            "enrolled_at": str, "confirmed_at": str, "last_step": int, "failures": int,
            "locked_until": str,
        },
        pk="person",
        not_null={"status", "seed_version", "enrolled_at", "last_step", "failures"},
        foreign_keys=[("person", "people", "id")],
    )
    db.create_table("sessions",
        {
            "id": str, "num": int, "person": str, "token_hash": str, "proof": str,
            "created_at": str, "expires_at": str, "ended_at": str, "ended_reason": str,
        },
        pk="id",
        not_null={"num", "person", "token_hash", "created_at", "expires_at"},
        foreign_keys=[("person", "people", "id")],
    )
    db.create_table("audit",
        {
            "seq": int, "at": str, "actor": str, "action": str, "subject": str,
            "details": str, "prev": str, "mac": str,
        },
        pk="seq",
        not_null={"at", "actor", "action", "subject", "details", "prev", "mac"},
    )
    for table, columns in [
        ("people", ["category", "status"]),
        ("people", ["manager"]),
        ("accounts", ["owner"]),
        ("accounts", ["overseer"]),
        ("grants", ["num"]),
        ("grants", ["person", "status"]),
        ("grants", ["account", "status"]),
        ("grants", ["status", "expires"]),
        ("approvals", ["grant_id"]),
        ("delegations", ["delegate"]),
        ("delegation_accounts", ["account"]),
        ("sessions", ["person"]),
    ]:
        db.table(table).create_index(columns, unique=columns == ["num"])


def _v2_credentials(db: sqlite_utils.Database) -> None:
    """Credential metadata (never the secret) and who has been exposed to which version."""
    db.create_table(
        "credentials",
        {
            "id": int, "account": str, "kind": str, "backend": str, "reference": str,
            "version": int, "set_by": str, "set_at": str, "rotated_by": str, "rotated_at": str,
        },
        pk="id",
        not_null={"account", "kind", "backend", "reference", "version", "set_by", "set_at"},
        foreign_keys=[("account", "accounts", "id"), ("set_by", "people", "id"),
                      ("rotated_by", "people", "id")],
    )
    db.create_table(
        "credential_versions",
        {"id": int, "account": str, "kind": str, "version": int, "how": str, "by": str,
         "at": str},
        pk="id",
        not_null={"account", "kind", "version", "how", "by", "at"},
        foreign_keys=[("account", "accounts", "id"), ("by", "people", "id")],
    )
    db.create_table(
        "exposures",
        {"id": int, "person": str, "account": str, "kind": str, "version": int, "at": str,
         "how": str, "grant_id": str},
        pk="id",
        not_null={"person", "account", "kind", "version", "at", "how"},
        foreign_keys=[("person", "people", "id"), ("account", "accounts", "id"),
                      ("grant_id", "grants", "id")],
    )
    db.table("credentials").create_index(["account", "kind"], unique=True)
    db.table("credential_versions").create_index(["account", "kind", "version"])
    db.table("exposures").create_index(["account", "kind", "version"])
    db.table("exposures").create_index(["person"])


# The tables whose rows carry a seal (accessgov.db.seals.SEALED lists them with their keys).
_SEALED_V3 = ("settings", "people", "accounts", "grants", "approvals", "delegations",
              "delegation_accounts", "mfa", "sessions", "credentials", "credential_versions",
              "exposures")


def _v3_seals(db: sqlite_utils.Database) -> None:
    """Row seals, the row list of each audit event, and MFA invitations.

    Rows already in the file have no seal yet: the first change made with the audit key seals
    them, once, in a `register.seal` event (accessgov.workspace).
    """
    for table in _SEALED_V3:
        db.table(table).add_column("sealed_seq", int)
        db.table(table).add_column("seal", str)
        # Empty unless rows are waiting for their first seal: finding them is one lookup.
        db.execute(f"CREATE INDEX idx_{table}_unsealed ON {table}(sealed_seq) WHERE seal IS NULL")
    db.execute("ALTER TABLE audit ADD COLUMN rows TEXT NOT NULL DEFAULT ''")
    db.table("audit").create_index(["action"])
    db.table("audit").create_index(["subject"])
    db.table("mfa").add_column("invited_by", str)
    db.table("mfa").add_column("invited_at", str)


def _sealed_table(db: sqlite_utils.Database, name: str, columns: dict[str, type],
                  pk: str | tuple[str, ...], **options: object) -> None:
    """A new table whose rows carry seals (the columns and the index of unsealed rows)."""
    db.create_table(name, columns | {"sealed_seq": int, "seal": str}, pk=pk,
                    **options)  # type: ignore[arg-type]
    db.execute(f"CREATE INDEX idx_{name}_unsealed ON {name}(sealed_seq) WHERE seal IS NULL")


def _v4_reviews(db: sqlite_utils.Database) -> None:
    """The annual policy review, and quarterly access review campaigns with their decisions.

    A campaign's snapshot is the list of the grants live when it started, kept in the
    campaign's own sealed row as a JSON array of grant ids (item N is the Nth): one seal covers
    the whole snapshot, so starting a review of 100,000 grants seals one row, not 100,000.
    A grant's person, account and role never change, and its approval is written once, so the
    snapshot's details are read from them. Each decision is a sealed row of its own.
    """
    _sealed_table(db, "policy_reviews", {
        "id": str, "num": int, "reviewed_on": str, "board_minute": str, "recorded_by": str,
        "authority": str, "verified_by": str, "at": str,
    }, pk="id", not_null={"num", "reviewed_on", "recorded_by", "authority", "at"},
        foreign_keys=[("recorded_by", "people", "id")])
    _sealed_table(db, "review_campaigns", {
        "id": str, "started_by": str, "started_at": str, "due": str, "status": str,
        "grants": str, "items": int, "decided": int, "snapshot_sha256": str,
        "closed_by": str, "closed_at": str, "closed_verified_by": str, "revoked": int,
        "head_seq": int, "head_mac": str,
    }, pk="id", not_null={"started_by", "started_at", "due", "status", "grants", "items",
                          "decided", "snapshot_sha256"},
        foreign_keys=[("started_by", "people", "id"), ("closed_by", "people", "id")])
    _sealed_table(db, "review_decisions", {
        "campaign": str, "item": int, "grant_id": str, "decision": str, "decided_by": str,
        "authority": str, "verified_by": str, "decided_at": str, "note": str,
    }, pk=("campaign", "item"), not_null={"grant_id", "decision", "decided_by", "authority",
                                          "decided_at"},
        foreign_keys=[("campaign", "review_campaigns", "id"), ("grant_id", "grants", "id"),
                      ("decided_by", "people", "id")])
    db.table("policy_reviews").create_index(["num"], unique=True)
    db.table("policy_reviews").create_index(["reviewed_on"])
    db.table("review_campaigns").create_index(["status"])
    db.table("review_decisions").create_index(["grant_id"])


def _v5_offboarding(db: sqlite_utils.Database) -> None:
    """Offboarding cases and their numbered checklist items.

    A case is `scheduled` (leave date ahead), `open` (carried out, items to do), `closed`
    (every item done), `reinstated` (the person came back while it was open) or `cancelled`
    (reinstated before the leave date). Items record what the leaver could still use: the
    platform role of a grant, the credential version they could know, an account they own,
    oversee or recover, a delegation, their own MFA.
    """
    _sealed_table(db, "offboarding_cases", {
        "id": str, "num": int, "person": str, "leave_date": str, "reason": str,
        "status": str, "started_by": str, "started_at": str, "authority": str,
        "verified_by": str, "board_minute": str, "carried_out_at": str, "closed_at": str,
        "closed_by": str,
    }, pk="id", not_null={"num", "person", "leave_date", "status", "started_by",
                          "started_at", "authority"},
        foreign_keys=[("person", "people", "id"), ("started_by", "people", "id")])
    _sealed_table(db, "offboarding_items", {
        "case_id": str, "item": int, "kind": str, "account": str, "credential_kind": str,
        "version": int, "grant_id": str, "delegation_id": str, "field": str, "action": str,
        "steps": str, "status": str, "done_by": str, "done_at": str, "note": str,
    }, pk=("case_id", "item"), not_null={"kind", "action", "steps", "status"},
        foreign_keys=[("case_id", "offboarding_cases", "id")])
    db.table("offboarding_cases").create_index(["num"], unique=True)
    db.table("offboarding_cases").create_index(["person"])
    db.table("offboarding_cases").create_index(["status", "leave_date"])
    db.table("offboarding_items").create_index(["status", "kind"])
    db.table("offboarding_items").create_index(["account"])


def _v6_child_counts(db: sqlite_utils.Database) -> None:
    """How many rows of each child table a person or a grant has (`delegations=1;exposures=3`),
    in the parent's sealed row: a child row deleted behind the log then no longer matches the
    count its parent's seal vouches for. The column is added last and left empty, so existing
    seals still hold; the first change made with the audit key counts them all, once."""
    for table in ("people", "grants"):
        db.execute(f"ALTER TABLE {table} ADD COLUMN counts TEXT")
        db.execute(f"CREATE INDEX idx_{table}_uncounted ON {table}(id) WHERE counts IS NULL")


def _v7_signatures(db: sqlite_utils.Database) -> None:
    """Who signed each change, and their signature (registers whose changes are signed by
    their actors; empty in a register sealed with an audit key)."""
    db.execute("ALTER TABLE audit ADD COLUMN signer TEXT")
    db.execute("ALTER TABLE audit ADD COLUMN signature TEXT")


def _v8_approval_claims(db: sqlite_utils.Database) -> None:
    """What an imported grant's file says about its approval (who, with what authority, when),
    kept as a claim beside the importer's own approval, until the person named confirms it."""
    _sealed_table(db, "approval_claims", {
        "grant_id": str, "claimed_by": str, "authority": str, "claimed_at": str,
        "board_minute": str, "imported_by": str, "imported_at": str, "confirmed_at": str,
        "confirmed_verified_by": str,
    }, pk="grant_id", not_null={"claimed_by", "authority", "claimed_at", "imported_by",
                                "imported_at"},
        foreign_keys=[("grant_id", "grants", "id"), ("claimed_by", "people", "id"),
                      ("imported_by", "people", "id")])
    db.table("approval_claims").create_index(["claimed_by", "confirmed_at"])


def _v9_platform_removals(db: sqlite_utils.Database) -> None:
    """Who confirmed that a grant which ended in the register (revoked, expired, taken away by
    a review) was also removed on the platform. A grant that ended and has no row here is on
    the to-do list (`accessgov todo`); a leaver's grants are on their offboarding checklist."""
    _sealed_table(db, "platform_removals", {
        "grant_id": str, "done_by": str, "done_at": str, "authority": str,
        "verified_by": str, "note": str,
    }, pk="grant_id", not_null={"done_by", "done_at", "authority"},
        foreign_keys=[("grant_id", "grants", "id"), ("done_by", "people", "id")])
    # The to-do list leaves out a leaver's grants (on their checklist): one lookup per grant.
    db.table("offboarding_items").create_index(["grant_id"])


def _v10_account_exceptions(db: sqlite_utils.Database) -> None:
    """A shared login is an exception to "everyone has their own account" (Cyber Essentials'
    user access control): the CEO or a trustee records it, with its compensating controls."""
    _sealed_table(db, "account_exceptions", {
        "account": str, "kind": str, "controls": str, "recorded_by": str, "recorded_at": str,
        "authority": str, "verified_by": str,
    }, pk="account", not_null={"kind", "controls", "recorded_by", "recorded_at", "authority"},
        foreign_keys=[("account", "accounts", "id"), ("recorded_by", "people", "id")])


def _v11_incidents(db: sqlite_utils.Database) -> None:
    """Incidents (an account compromised, a phone with access lost, a wrong post) and their
    numbered checklists; each incident counts its items, so none is deleted behind the log."""
    _sealed_table(db, "incidents", {
        "id": str, "num": int, "subject_kind": str, "subject": str, "kind": str,
        "summary": str, "status": str, "opened_by": str, "opened_at": str,
        "opened_verified_by": str, "report": str, "report_reason": str, "decided_by": str,
        "decided_at": str, "decided_authority": str, "closed_by": str, "closed_at": str,
        "counts": str,
    }, pk="id", not_null={"num", "subject_kind", "subject", "kind", "summary", "status",
                          "opened_by", "opened_at"})
    db.table("incidents").create_index(["num"], unique=True)
    db.table("incidents").create_index(["status", "opened_at"])
    db.execute("CREATE INDEX idx_incidents_uncounted ON incidents(id) WHERE counts IS NULL")
    _sealed_table(db, "incident_items", {
        "incident_id": str, "item": int, "kind": str, "account": str, "credential_kind": str,
        "version": int, "grant_id": str, "person": str, "action": str, "steps": str,
        "status": str, "done_by": str, "done_at": str, "note": str,
    }, pk=("incident_id", "item"), not_null={"kind", "action", "steps", "status"},
        foreign_keys=[("incident_id", "incidents", "id")])
    db.table("incident_items").create_index(["status", "kind"])


def _v12_offboarding_counts(db: sqlite_utils.Database) -> None:
    """Each offboarding case counts its checklist items, as incidents count theirs: an item
    deleted behind the log can then no longer let the last honest tick close the case. The
    column is added last and left empty, so existing seals hold; the first change made with
    the register's key or signatures counts every sealed case, once (as v6's counts)."""
    db.execute("ALTER TABLE offboarding_cases ADD COLUMN counts TEXT")
    db.execute("CREATE INDEX idx_offboarding_cases_uncounted ON offboarding_cases(id) "
               "WHERE counts IS NULL")


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _v1_initial, _v2_credentials, _v3_seals, _v4_reviews, _v5_offboarding, _v6_child_counts,
    _v7_signatures, _v8_approval_claims, _v9_platform_removals, _v10_account_exceptions,
    _v11_incidents, _v12_offboarding_counts,
]
LATEST_VERSION = len(MIGRATIONS)


def apply_migrations(conn: sqlite3.Connection, current: int, target: int) -> None:
    """Run the migrations after `current` up to `target`, inside the caller's transaction."""
    # sqlite-utils reads rows as tuples; the Register's dict row factory would confuse it.
    import sqlite_utils  # 85 ms: only when a schema is created or migrated

    row_factory, conn.row_factory = conn.row_factory, None
    try:
        db = sqlite_utils.Database(conn)
        for version, migration in enumerate(MIGRATIONS[current:target], start=current + 1):
            migration(db)
            db.table("schema_history").insert(
                {"version": version, "applied_at": iso(utc_now()),
                 "accessgov_version": __version__}
            )
            conn.execute(f"PRAGMA user_version = {version}")
    finally:
        conn.row_factory = row_factory
