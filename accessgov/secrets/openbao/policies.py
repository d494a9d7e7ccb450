"""The text of accessgov's OpenBao policies (see `layout` for the design they serve).

OpenBao applies the most specific matching path of a policy, so the narrower rules for
`audit/*`, `audit/key` and `mfa/*` below win over the organisation-wide `<area>/*` rules.
"""

from __future__ import annotations

from accessgov.secrets.openbao.layout import KEY_PREFIX, PERSON_METADATA, Layout


def operator_policy(layout: Layout) -> str:
    """What every operator's token may do: sign as itself only, read every operator's public
    key, work in the organisation's KV area, and move (never delete) the chain head."""
    kv, area, transit = layout.kv_mount, layout.area, layout.transit_mount
    own_key = KEY_PREFIX + "{{identity.entity.metadata." + PERSON_METADATA + "}}"
    return _rules(
        f"accessgov operators of {layout.org}: each signs with its own key only",
        (f"{transit}/sign/{own_key}", '"update"'),
        (f"{transit}/keys/{KEY_PREFIX}*", '"read"'),
        (f"{transit}/keys", '"list"'),
        (f"{kv}/data/{area}/*", '"create", "read", "update"'),
        (f"{kv}/metadata/{area}/*", '"read", "list", "update", "delete"'),
        (f"{kv}/metadata/{area}", '"list"'),
        (f"{kv}/destroy/{area}/*", '"update"'),
        # The chain head and markers: written by every change, never deleted or pruned, so
        # their KV versions only go up (metadata update could shrink max_versions).
        (f"{kv}/data/{area}/audit/*", '"create", "read", "update"'),
        (f"{kv}/metadata/{area}/audit/*", '"read", "list"'),
        (f"{kv}/metadata/{area}/audit", '"list"'),
        (f"{kv}/destroy/{area}/audit/*", '"deny"'),
        # In this mode OpenBao keeps the TOTP seeds and signs: no seed and no HMAC key in KV.
        (f"{kv}/data/{area}/audit/key", '"deny"'),
        (f"{kv}/data/{area}/mfa/*", '"deny"'),
        ("identity/mfa/method/totp/generate", '"update"'),
        ("identity/mfa/method/totp", '"list"'),
        # Accounts' TOTP seeds go into the TOTP engine and never come out: keys are made and
        # removed, never read; codes are read.
        (f"{layout.totp_mount}/keys/accessgov-{layout.org}-*", '"create", "update", "delete"'),
        (f"{layout.totp_mount}/code/accessgov-{layout.org}-*", '"read"'),
        ("auth/token/lookup-self", '"read"'),
        ("sys/health", '"read"'),
    )


def enrol_policy() -> str:
    """What an enrolment token may do: make its own entity's TOTP key, once."""
    return _rules(
        "accessgov enrolment: a TOTP key for the token's own entity, nothing else",
        ("identity/mfa/method/totp/generate", '"update"'),
        ("identity/mfa/method/totp", '"list"'),
        ("auth/token/lookup-self", '"read"'),
    )


def _rules(heading: str, *rules: tuple[str, str]) -> str:
    """HCL: a comment line, then one `path` block per (path, capabilities)."""
    blocks = [f"# {heading}"]
    blocks += [f'path "{path}" {{\n  capabilities = [{capabilities}]\n}}' for path, capabilities
               in rules]
    return "\n".join(blocks) + "\n"
