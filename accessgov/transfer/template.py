"""`accessgov import template --kind K`: a CSV a charity fills in, with the columns of the
kind's schema (the required ones first) and one example row that imports as it stands."""

from __future__ import annotations

import csv
import io

from accessgov.transfer import rowschema

EXAMPLES: dict[str, dict[str, str]] = {
    "people": {"id": "jdoe", "name": "Jo Doe", "email": "jo.doe@example.org",
               "category": "volunteer", "title": "Youth events lead", "manager": "",
               "status": "active", "start_date": "01/09/2025", "leave_date": ""},
    "accounts": {"id": "instagram-main", "platform": "instagram", "handle": "@ourcharity",
                 "owner": "jdoe", "purpose": "Events and news",
                 "url": "https://www.instagram.com/ourcharity", "kind": "social",
                 "access": "delegated", "mfa_method": "totp", "mfa_verified_on": "",
                 "recovery_email": "", "recovery_phone": "", "overseer": "",
                 "status": "active", "archived_at": ""},
    "delegations": {"delegate": "jdoe", "granted_by": "vperkins", "valid_from": "01/12/2026",
                    "id": "", "all_accounts": "no", "accounts": "instagram-main",
                    "valid_until": "31/03/2027", "created_at": "", "revoked_by": "",
                    "revoked_at": "", "revoke_reason": ""},
    "grants": {"person": "jdoe", "account": "instagram-main", "role": "editor",
               "reason": "Posts youth events", "id": "", "status": "active",
               "expires": "31/08/2027", "requested_by": "", "requested_at": "",
               "decided_by": "vperkins", "authority": "ceo", "decided_at": "01/09/2025",
               "board_minute": "", "revoked_by": "", "revoked_at": "", "revoke_reason": ""},
}


def template(kind: str) -> str:
    """The template's text: a header row and one example row (dates as dd/mm/yyyy)."""
    schema = rowschema.load(kind)
    first = ["id"] if "id" in schema.columns else []  # ids first, as a register lists them
    columns = [*first, *(name for name in schema.required if name not in first),
               *(name for name in schema.columns if name not in schema.required
                 and name not in first)]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerow([EXAMPLES[kind].get(name, "") for name in columns])
    return out.getvalue()
