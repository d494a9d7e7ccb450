"""The organisation's official online accounts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from accessgov.access import catalogue
from accessgov.common import validate
from accessgov.db.queries import accounts, grants, people
from accessgov.db.register import Register, Row
from accessgov.db.seals import strip
from accessgov.errors import AlreadyExists, InputError, NotFound
from accessgov.identity.authority import authorise
from accessgov.identity.rules import ACCOUNTABLE_FIELDS

if TYPE_CHECKING:
    from accessgov.operation import Operation

KINDS = catalogue.KINDS
ACCESS_MODELS = ("delegated", "shared-login")
# Who answers for an account: changing these is an approval-level decision.
REASSIGNABLE = ACCOUNTABLE_FIELDS


def list_accounts(register: Register, today: str, *, status: str | None = None,
                  platform: str | None = None) -> list[Row]:
    """Accounts ordered by id, with how many people hold active grants on each."""
    if status:
        validate.one_of(status, ("active", "archived"), "status")
    return accounts.listing(register, today, status=status,
                            platform=catalogue.platform(platform).id if platform else None)


def show_account(register: Register, account_id: str, today: str) -> Row:
    """An account with its live and pending grants (and, for a shared login, its recorded
    exception)."""
    account = strip(accounts.get(register, account_id))
    if account["access"] == "shared-login":
        exception = accounts.shared_login_exception(register, account_id)
        account["shared_login_exception"] = (
            {key: exception[key] for key in ("controls", "recorded_by", "recorded_at")}
            if exception else None)
    account["grants"] = grants.held_or_asked(register, today=today, account=account_id)
    return account


def record_shared_login_exception(op: Operation, account_id: str, controls: str) -> None:
    """Record (or replace) why a shared-login account is an accepted exception to "everyone
    has their own account", with its compensating controls (the CEO or a trustee)."""
    account = accounts.get(op.register, account_id)
    if account["access"] != "shared-login":
        raise InputError(f"{account_id} is not a shared login (everyone has their own login "
                         "and role there): it needs no exception")
    controls = validate.text(controls, "shared-login exception")
    authority = authorise(op, "account.exception", account_id, account=account)
    before = accounts.shared_login_exception(op.register, account_id)
    values = {"kind": "shared-login", "controls": controls, "recorded_by": op.operator["id"],
              "recorded_at": op.at, "authority": str(authority),
              "verified_by": op.proof.describe() if op.proof else None}
    if before is None:
        op.register.insert("account_exceptions", {"account": account_id, **values})
    else:
        op.register.update("account_exceptions", {"account": account_id}, values)
    op.record("account.exception", account_id, kind="shared-login", controls=controls,
              before=before["controls"] if before else None, authority=str(authority))


def add_account(op: Operation, account_id: str, *, platform: str, handle: str, owner: str,
                purpose: str, url: str | None = None, kind: str | None = None,
                access: str | None = None, mfa_method: str | None = None,
                recovery_email: str | None = None, recovery_phone: str | None = None,
                overseer: str | None = None) -> Row:
    """Register an official account (during set-up anyone may; afterwards an approver)."""
    validate.slug(account_id, "account id")
    entry = catalogue.platform(platform)
    if accounts.exists(op.register, account_id):
        raise AlreadyExists(f"there is already an account {account_id!r} in the register")
    access = access or entry.default_access
    validate.one_of(access, ACCESS_MODELS, "access model")
    if access == "delegated" and not entry.delegated_access:
        raise InputError(
            f"{entry.name} gives no per-person roles on an organisation's account; "
            "use --access shared-login"
        )
    mfa_method = validate.one_of(mfa_method or "unknown", catalogue.MFA_METHODS, "MFA method")
    account = {
        "id": account_id,
        "platform": entry.id,
        "handle": validate.text(handle, "handle", max_length=200),
        "url": validate.text(url, "url") if url else None,
        "purpose": validate.text(purpose, "purpose"),
        "owner": _active_person(op.register, owner, "owner"),
        "kind": validate.one_of(kind or entry.kind, KINDS, "kind"),
        "access": access,
        "mfa_method": mfa_method,
        "mfa_verified_on": op.today if mfa_method != "unknown" else None,
        "recovery_email": validate.email(recovery_email, "recovery email")
        if recovery_email else None,
        "recovery_phone": validate.phone(recovery_phone, "recovery phone")
        if recovery_phone else None,
        "overseer": _active_person(op.register, overseer, "overseer") if overseer else None,
        "status": "active",
        "created_at": op.at,
        "updated_at": op.at,
        "archived_at": None,
    }
    authorise(op, "account.add", account_id,
              assigns={field: account[field] for field in REASSIGNABLE})
    op.register.insert("accounts", account)
    op.record("account.add", account_id, platform=entry.id, handle=account["handle"],
              owner=account["owner"], access=access, mfa_method=mfa_method,
              overseer=account["overseer"])
    return account


def update_account(op: Operation, account_id: str, changes: dict[str, Any]) -> Row:
    """Change an account's details; only the fields given change. Its owner, overseer and
    recovery contacts are an approver's decision, and nobody assigns them to themselves."""
    account = accounts.get(op.register, account_id)
    clean: dict[str, Any] = {}
    for field, value in changes.items():
        if value is None:
            continue
        clean[field] = _clean_field(op.register, field, value)
    if not clean:
        raise InputError("nothing to change: give at least one field to update")
    reassigned = [field for field in clean if field in REASSIGNABLE]
    if len(reassigned) < len(clean):
        authorise(op, "account.update", account_id, account=account)
    if reassigned:
        authorise(op, "account.reassign", account_id, account=account,
                  assigns={field: clean[field] for field in reassigned})
    if "mfa_method" in clean:
        clean["mfa_verified_on"] = op.today if clean["mfa_method"] != "unknown" else None
    op.register.update("accounts", {"id": account_id}, clean | {"updated_at": op.at})
    op.record("account.update", account_id,
              before={field: account[field] for field in clean}, after=clean)
    return strip(accounts.get(op.register, account_id))


def archive_account(op: Operation, account_id: str, reason: str) -> Row:
    """Retire an account that is no longer used; its grants must be revoked first."""
    account = accounts.get(op.register, account_id)
    if account["status"] == "archived":
        raise InputError(f"{account_id} is already archived")
    authorise(op, "account.archive", account_id, account=account)
    live = grants.open_count_on(op.register, account_id)
    if live:
        raise InputError(
            f"{account_id} still has {live} active or pending grant(s); revoke or decline "
            "them first (accessgov grant list --account " + account_id + ")"
        )
    op.register.update("accounts", {"id": account_id},
                       {"status": "archived", "archived_at": op.at, "updated_at": op.at})
    op.record("account.archive", account_id, reason=validate.text(reason, "reason"))
    return strip(accounts.get(op.register, account_id))


def _clean_field(register: Register, field: str, value: str) -> str:
    if field in ("handle", "purpose", "url"):
        return validate.text(value, field)
    if field in ("owner", "overseer"):
        return _active_person(register, value, field)
    if field == "kind":
        return validate.one_of(value, KINDS, "kind")
    if field == "mfa_method":
        return validate.one_of(value, catalogue.MFA_METHODS, "MFA method")
    if field == "recovery_email":
        return validate.email(value, "recovery email")
    if field == "recovery_phone":
        return validate.phone(value, "recovery phone")
    raise InputError(f"{field} cannot be changed with account update")


def _active_person(register: Register, person_id: str, role: str) -> str:
    status = people.status(register, person_id)
    if status is None:
        raise NotFound(f"the {role} {person_id!r} is not a person in the register")
    if status != "active":
        raise InputError(f"the {role} {person_id!r} has left; choose someone still here")
    return person_id
