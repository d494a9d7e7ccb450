"""Issue 17, item 1: accounts' TOTP seeds in OpenBao's TOTP engine, on a real OpenBao.

Contributors take codes; nobody, through accessgov or with a token of their own, reads the
seed back; a code taken is not an exposure of the seed; seeds already in KV move with
`cred move-to-totp-engine`, which destroys the KV versions that held them."""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pyotp
import pytest

from tests.integration.test_credentials_on_real_stores import feed, set_up
from tests.support import servers
from tests.support.terminal import Terminal, terminal

pytestmark = pytest.mark.integration


def mount_engine(server: servers.OpenBaoServer) -> str:
    path = f"totp-{secrets.token_hex(3)}"
    server.api("POST", f"sys/mounts/{path}", {"type": "totp"})
    return path


def call(server: servers.OpenBaoServer, token: str, method: str, path: str,
         body: dict[str, Any] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"{server.url}/v1/{path}", method=method, headers={"X-Vault-Token": token},
        data=json.dumps(body).encode() if body is not None else None)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as error:
        return error.code, None


def uri(seed: str) -> str:
    return f"otpauth://totp/TikTok:interact?secret={seed}&issuer=TikTok\n"


def current_code(term: Terminal, seed: str) -> None:
    started = time.time()
    code = term.run("otp tiktok-main").stdout.strip()
    totp = pyotp.TOTP(seed)
    assert code in {totp.at(started), totp.at(time.time())}


def exposure_ways(term: Terminal) -> list[str]:
    with sqlite3.connect(term.db) as conn:
        return [row[0] for row in conn.execute(
            "SELECT how FROM exposures WHERE kind = 'totp-seed' ORDER BY id")]


def test_the_seed_goes_into_the_engine_and_only_codes_come_out(
        tmp_path: Path, openbao: servers.OpenBaoServer) -> None:
    mount = mount_engine(openbao)
    term = terminal(tmp_path)
    slug = set_up(term, f"--backend vault --vault-url {openbao.url} --vault-totp-mount {mount}")
    seed = pyotp.random_base32()
    stored = feed(term, "cred set tiktok-main --kind totp-seed --stdin", uri(seed))
    assert "Warning" not in stored.stderr
    # KV holds a pointer, never the seed.
    kv = openbao.bao("kv", "get", "-mount=secret", "-field=value",
                     f"accessgov/{slug}/tiktok-main/totp-seed").stdout.strip()
    assert kv == f"openbao-totp:{mount}/accessgov-{slug}-tiktok-main-v1#30" and seed not in kv
    # Not even root reads the seed from the engine: only its settings.
    key = openbao.api("GET", f"{mount}/keys/accessgov-{slug}-tiktok-main-v1")
    assert seed not in json.dumps(key) and key["data"]["period"] == 30

    current_code(term, seed)
    assert exposure_ways(term) == ["set"]  # the code taken is not an exposure of the seed
    event = json.loads(term.run("audit log --action cred.otp --format json").stdout)[-1]
    assert event["details"]["seed_exposed"] is False
    refused = term.run("cred reveal tiktok-main --kind totp-seed", expect=2)
    assert "never gives it back" in refused.stderr and seed not in refused.stdout

    # A new seed: a new engine key; the old one is gone.
    new_seed = pyotp.random_base32()
    feed(term, "cred rotate tiktok-main --kind totp-seed --stdin", uri(new_seed))
    keys = openbao.api("LIST", f"{mount}/keys")["data"]["keys"]
    assert keys == [f"accessgov-{slug}-tiktok-main-v2"]
    current_code(term, new_seed)
    assert "intact" in term.run("audit verify").stdout


def test_a_contributors_token_reads_codes_but_never_the_key(
        tmp_path: Path, openbao: servers.OpenBaoServer) -> None:
    mount = mount_engine(openbao)
    term = terminal(tmp_path)
    slug = set_up(term, f"--backend vault --vault-url {openbao.url} --vault-totp-mount {mount}")
    feed(term, "cred set tiktok-main --kind totp-seed --stdin", uri(pyotp.random_base32()))
    name = f"accessgov-{slug}-tiktok-main-v1"
    policy = f'path "{mount}/code/accessgov-{slug}-*" {{ capabilities = ["read"] }}\n'
    openbao.api("PUT", f"sys/policies/acl/contributor-{slug}", {"policy": policy})
    token = openbao.api("POST", "auth/token/create",
                        {"policies": [f"contributor-{slug}"]})["auth"]["client_token"]
    status, body = call(openbao, token, "GET", f"{mount}/code/{name}")
    assert status == 200 and len(body["data"]["code"]) == 6
    assert call(openbao, token, "GET", f"{mount}/keys/{name}")[0] == 403
    assert call(openbao, token, "POST", f"{mount}/keys/{name}",
                {"generate": True, "exported": True, "issuer": "x",
                 "account_name": "y"})[0] == 403
    assert call(openbao, token, "GET", f"secret/data/accessgov/{slug}/tiktok-main/totp-seed"
                )[0] == 403


def test_a_seed_kept_in_kv_moves_into_the_engine(tmp_path: Path,
                                                 openbao: servers.OpenBaoServer) -> None:
    later = f"totp-{secrets.token_hex(3)}"  # not enabled yet
    term = terminal(tmp_path)
    slug = set_up(term, f"--backend vault --vault-url {openbao.url} --vault-totp-mount {later}")
    seed = pyotp.random_base32()
    kept = feed(term, "cred set tiktok-main --kind totp-seed --stdin", uri(seed))
    assert f"not enabled at {later}/" in kept.stderr and "move-to-totp-engine" in kept.stderr
    path = f"accessgov/{slug}/tiktok-main/totp-seed"
    assert seed in openbao.bao("kv", "get", "-mount=secret", "-field=value", path).stdout
    refused = term.run("cred move-to-totp-engine tiktok-main", expect=2)
    assert "bao secrets enable" in refused.stderr
    openbao.api("POST", f"sys/mounts/{later}", {"type": "totp"})
    term.run("cred move-to-totp-engine tiktok-main")
    versions = openbao.api("GET", f"secret/metadata/{path}")["data"]["versions"]
    assert versions["1"]["destroyed"] is True and not versions["2"]["destroyed"]
    assert seed not in openbao.bao("kv", "get", "-mount=secret", "-field=value", path).stdout
    # The CEO typed the seed in: she could still know it, under its new version.
    rows = json.loads(term.run("cred list --format json").stdout)
    totp = next(row for row in rows if row["kind"] == "totp-seed")
    assert (totp["version"], totp["exposed_to_current"]) == (2, ["vperkins"])
    current_code(term, seed)
    assert "intact" in term.run("audit verify").stdout
