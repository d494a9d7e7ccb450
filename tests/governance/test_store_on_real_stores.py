"""The reconciliation of `check` with the real stores: OpenBao is listed (its KV metadata),
the Secret Service keyring is probed where accessgov wrote."""

from __future__ import annotations

import json
import secrets
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support import servers
from tests.support.schemas import validate_output
from tests.support.terminal import Terminal, terminal

pytestmark = pytest.mark.integration


def checked(term: Terminal) -> dict[str, Any]:
    result = term.run("check --format json", expect=1)  # a new register has findings
    data = validate_output("check", result.stdout)
    assert isinstance(data, dict)
    return data


def store_findings(data: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f["rule"], f["subject"]) for f in data["findings"] if f["rule"].startswith("STO")}


def set_up(term: Terminal) -> None:
    """The CEO enrolled and logged in, a shared-login account and its password."""
    term.run('person add vperkins --name "Vickie Perkins" --email v@example.org --category ceo')
    term.run("account add tiktok-main --platform tiktok --handle @interact --owner vperkins "
             "--purpose Clips --access shared-login --mfa totp")
    term.enrol("vperkins")
    term.run(f"login --as vperkins --otp {term.code('vperkins')}")
    subprocess.run([*_accessgov(term), "cred", "set", "tiktok-main", "--kind", "password",
                    "--stdin"], input="First-Pass-1\n", env=term.env, text=True, check=True,
                   capture_output=True)


def _accessgov(term: Terminal) -> list[str]:
    import sys

    return [sys.executable, "-m", "accessgov", "--db", str(term.db)]


def test_openbao_is_listed_and_reconciled(tmp_path: Path,
                                          openbao: servers.OpenBaoServer) -> None:
    slug = f"interact-{secrets.token_hex(4)}"
    term = terminal(tmp_path)
    term.run(f"init --org InterAct --slug {slug} --backend vault --vault-url {openbao.url}")
    set_up(term)
    data = checked(term)
    assert data["store_checked"] is True and store_findings(data) == set()

    area = f"accessgov/{slug}"
    openbao.bao("kv", "put", "-mount=secret", f"{area}/orphan/password", "value=Outside-1")
    openbao.bao("kv", "put", "-mount=secret", f"{area}/tiktok-main/password", "value=Newer-2")
    assert store_findings(checked(term)) == {("STO-001", "orphan/password"),
                                             ("STO-001", "tiktok-main/password")}
    openbao.bao("kv", "metadata", "delete", "-mount=secret", f"{area}/tiktok-main/password")
    data = checked(term)
    assert store_findings(data) == {("STO-001", "orphan/password"),
                                    ("STO-002", "tiktok-main/password")}
    gone = next(f for f in data["findings"] if f["rule"] == "STO-002")
    assert f"vault kv secret/{area}/tiktok-main/password" in gone["message"]


def test_a_token_that_may_not_list_is_reported(tmp_path: Path,
                                               openbao: servers.OpenBaoServer) -> None:
    slug = f"interact-{secrets.token_hex(4)}"
    term = terminal(tmp_path)
    term.run(f"init --org InterAct --slug {slug} --backend vault --vault-url {openbao.url}")
    set_up(term)
    area = f"secret/metadata/accessgov/{slug}"
    policy = (f'path "secret/data/accessgov/{slug}/*" {{ capabilities = ["read"] }}\n'
              f'path "{area}/*" {{ capabilities = ["read"] }}')
    openbao.api("PUT", f"sys/policies/acl/no-list-{slug}", {"policy": policy})
    token = openbao.api("POST", "auth/token/create", {"policies": [f"no-list-{slug}"],
                                                       "no_default_policy": True})
    term.env["VAULT_TOKEN"] = token["auth"]["client_token"]
    data = checked(term)
    (finding,) = [f for f in data["findings"] if f["rule"] == "STO-003"]
    assert "'list' capability" in finding["message"]
    assert data["store_checked"] is False
    assert json.loads(term.run("check --format json --no-store", expect=1).stdout)[
        "store_note"] == "not checked (--no-store)"


def test_the_keyring_is_probed_where_accessgov_wrote(
        tmp_path: Path, secret_service: servers.SecretServiceSession) -> None:
    slug = f"interact-{secrets.token_hex(4)}"
    term = terminal(tmp_path)
    term.run(f"init --org InterAct --slug {slug} --backend keyring")
    set_up(term)
    assert store_findings(checked(term)) == set()

    def secret_tool(*args: str, value: str | None = None) -> None:
        subprocess.run(["secret-tool", *args], input=value, env=term.env, text=True,
                       check=True, capture_output=True, timeout=30)

    service = f"accessgov/{slug}"
    secret_tool("clear", "service", service, "username", "tiktok-main/password@v1")
    secret_tool("clear", "service", service, "username", "tiktok-main/password")
    data = checked(term)
    assert store_findings(data) == {("STO-002", "tiktok-main/password")}
    # A secret accessgov never wrote cannot be found on a keyring: it cannot list.
    secret_tool("store", "--label", "x", "service", service, "username", "orphan/password",
                value="Outside-1")
    assert store_findings(checked(term)) == {("STO-002", "tiktok-main/password")}
