"""Issue 16, item 4: `store move --to vault|keyring`, between a real Secret Service keyring and
a real OpenBao, through the real program.

A charity that outgrows one laptop's keyring moves its register's secrets to its new Vault
(and back, if it must): every secret with its version numbers, checked before the register
switches, by the CEO or a trustee with MFA, audited; a failure half-way leaves both stores
and the register as they were; a register put back from a copy can be laundered into a new
store neither before nor after the move.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_credentials_on_real_stores import feed, set_up
from tests.support import servers
from tests.support.shell import dump
from tests.support.terminal import Terminal, terminal

pytestmark = pytest.mark.integration


def keyring_entry(term: Terminal, slug: str, username: str) -> str:
    found = subprocess.run(
        ["secret-tool", "lookup", "service", f"accessgov/{slug}", "username", username],
        env=term.env, capture_output=True, text=True, timeout=30, check=False)
    return found.stdout


def kv_keys(server: servers.OpenBaoServer, prefix: str, slug: str) -> list[str]:
    """Every key below the organisation's area, read as root (empty when there is none)."""
    found: list[str] = []
    folders = [""]
    while folders:
        folder = folders.pop()
        try:
            body = server.api("LIST", f"secret/metadata/{prefix}/{slug}/{folder}")
        except Exception:  # 404: nothing there
            continue
        for key in body["data"]["keys"]:
            (folders if key.endswith("/") else found).append(folder + key)
    return sorted(found)


def kv_versions(server: servers.OpenBaoServer, path: str) -> dict[int, bool]:
    """{version: live?} of one KV path, as root."""
    body = server.api("GET", f"secret/metadata/{path}")
    return {int(number): not (info["destroyed"] or info["deletion_time"])
            for number, info in body["data"]["versions"].items()}


def copy_register(term: Terminal, where: Path) -> None:
    where.mkdir()
    for suffix in ("", "-wal", "-shm"):
        source = term.db.with_name(term.db.name + suffix)
        if source.exists():
            shutil.copy2(source, where / (term.db.name + suffix))


def put_back(term: Terminal, where: Path) -> None:
    for suffix in ("-wal", "-shm"):
        term.db.with_name(term.db.name + suffix).unlink(missing_ok=True)
    for suffix in ("", "-wal", "-shm"):
        copy = where / (term.db.name + suffix)
        if copy.exists():
            shutil.copy2(copy, term.db.with_name(term.db.name + suffix))


@pytest.fixture
def on_keyring(tmp_path: Path, secret_service: servers.SecretServiceSession,
               openbao: servers.OpenBaoServer) -> tuple[Terminal, str]:
    """A register on the Secret Service keyring with two versions of a password (the first
    since discarded) and an account's TOTP seed; OpenBao's root token in the environment."""
    term = terminal(tmp_path)
    slug = set_up(term, "--backend keyring")
    feed(term, "cred set tiktok-main --kind password --stdin", "First-password-1\n")
    feed(term, "cred rotate tiktok-main --stdin", "Second-password-2\n")
    feed(term, "cred set insta --kind recovery-codes --stdin", "aaaa-1111 bbbb-2222\n")
    # Version 1 gone from the keyring (as after a discarded write): numbers must still match.
    subprocess.run(["secret-tool", "clear", "service", f"accessgov/{slug}", "username",
                    "tiktok-main/password@v1"], env=term.env, check=True, timeout=30)
    return term, slug


def test_the_ceo_moves_a_keyring_register_to_openbao(
        on_keyring: tuple[Terminal, str], openbao: servers.OpenBaoServer, tmp_path: Path) -> None:
    term, slug = on_keyring
    prefix = f"moved{secrets.token_hex(3)}"
    before_move = tmp_path / "before-move"
    copy_register(term, before_move)
    to_vault = f"store move --to vault --vault-url {openbao.url} --vault-prefix {prefix}"

    # A wrong code: refused, recorded, and nothing was copied.
    refused = term.run(f"{to_vault} --as vperkins --otp 000000", expect=3)
    assert len(refused.stderr.strip().splitlines()) == 1
    assert kv_keys(openbao, prefix, slug) == []
    assert json.loads(term.run("store show --format json").stdout)["backend"] == "keyring"

    moved = term.run(f"{to_vault} --as vperkins --otp {term.code('vperkins')}")
    assert "Moved 5 secrets (5 versions)" in moved.stdout
    shown = json.loads(term.run("store show --format json").stdout)
    assert (shown["backend"], shown["vault_url"], shown["vault_prefix"]) == (
        "vault", openbao.url, prefix)

    # Every secret is there, under the same version numbers the register records.
    assert kv_keys(openbao, prefix, slug) == [
        "audit/head", "audit/key", "audit/setup-complete",
        "insta/recovery-codes", "mfa/vperkins", "tiktok-main/password"]
    assert kv_versions(openbao, f"{prefix}/{slug}/tiktok-main/password") == {1: False, 2: True}
    assert term.run("cred reveal tiktok-main").stdout == "Second-password-2"
    assert term.run("cred reveal insta --kind recovery-codes").stdout == "aaaa-1111 bbbb-2222"
    rows = json.loads(term.run("cred list --format json").stdout)
    assert {row["backend"] for row in rows} == {"vault"}
    assert all(prefix in row["reference"] for row in rows)

    # The log says who moved what where; the chain verifies; the store checks clean.
    event = json.loads(term.run("audit log --action store.move --format json").stdout)[0]
    assert event["actor"] == "vperkins"
    assert (event["details"]["before"]["backend"], event["details"]["after"]["backend"]) == (
        "keyring", "vault")
    assert "intact" in term.run("audit verify").stdout
    # Canaries: no secret moved through the register, the log or the terminal.
    written = term.db.read_bytes() + b"".join(
        path.read_bytes() for path in term.db.parent.glob(term.db.name + "-wal"))
    written += term.run("audit log --format json").stdout.encode()
    written += "".join(result.stdout + result.stderr for result in term.transcript
                       if "reveal" not in result.args).encode()  # reveal prints it: its job
    for secret in ("First-password-1", "Second-password-2", "aaaa-1111 bbbb-2222"):
        assert secret.encode() not in written
    check = json.loads(feed(term, "check --format json", expect=None).stdout)
    assert not [f for f in _findings(check) if str(f["rule"]).startswith("STO")]
    # Changes go on, against the new store's record of the head.
    term.run('person add kim --name Kim --email k@example.org --category volunteer')

    # A copy of the register from before the move, put back: the keyring's record of the
    # head names the move, so the copy is refused there.
    put_back(term, before_move)
    stale = term.run('person add lee --name Lee --email l@example.org --category volunteer',
                     expect=3)
    assert "restored from a copy" in stale.stderr


def _findings(document: Any) -> list[dict[str, Any]]:
    return document["findings"] if isinstance(document, dict) else document


def test_a_register_put_back_from_a_copy_cannot_be_laundered_into_a_new_store(
        on_keyring: tuple[Terminal, str], openbao: servers.OpenBaoServer, tmp_path: Path) -> None:
    term, slug = on_keyring
    old = tmp_path / "old"
    copy_register(term, old)
    term.run('person add kim --name Kim --email k@example.org --category volunteer')
    put_back(term, old)
    before = dump(term.db)
    prefix = f"launder{secrets.token_hex(3)}"
    refused = term.run(f"store move --to vault --vault-url {openbao.url} --vault-prefix "
                       f"{prefix} --as vperkins --otp {term.code('vperkins')}", expect=3)
    assert "restored from a copy" in refused.stderr
    assert kv_keys(openbao, prefix, slug) == []
    assert dump(term.db) == before


def test_a_move_into_an_occupied_area_is_refused_and_overwrites_nothing(
        on_keyring: tuple[Terminal, str], openbao: servers.OpenBaoServer) -> None:
    term, slug = on_keyring
    prefix = f"taken{secrets.token_hex(3)}"
    openbao.api("POST", f"secret/data/{prefix}/{slug}/tiktok-main/password",
                {"data": {"value": "someone else's"}})
    before = dump(term.db)
    refused = term.run(f"store move --to vault --vault-url {openbao.url} --vault-prefix "
                       f"{prefix} --as vperkins --otp {term.code('vperkins')}", expect=2)
    assert "already holds a secret" in refused.stderr
    assert kv_keys(openbao, prefix, slug) == ["tiktok-main/password"]
    assert "Vickie" not in json.dumps(openbao.api(
        "GET", f"secret/data/{prefix}/{slug}/tiktok-main/password"))
    # Only the refusal was recorded; the register still uses the keyring.
    assert json.loads(term.run("store show --format json").stdout)["backend"] == "keyring"
    assert dump(term.db)["credentials"] == before["credentials"]


def test_a_store_failing_half_way_leaves_nothing_behind(
        on_keyring: tuple[Terminal, str], openbao: servers.OpenBaoServer) -> None:
    """The new store's token may write the audit entries but not the operators' seeds: the
    move fails at the seed, and what it had copied is removed again."""
    term, slug = on_keyring
    prefix = f"half{secrets.token_hex(3)}"
    area = f"secret/+/{prefix}/{slug}"
    policy = (f'path "{area}/*" {{ capabilities = ["create", "read", "update", "delete", '
              f'"list"] }}\n'
              f'path "{area}/mfa/*" {{ capabilities = ["deny"] }}\n'
              'path "sys/health" { capabilities = ["read"] }\n')
    openbao.api("PUT", f"sys/policies/acl/{prefix}", {"policy": policy})
    token = openbao.api("POST", "auth/token/create",
                        {"policies": [prefix]})["auth"]["client_token"]
    before = dump(term.db)
    term.env["VAULT_TOKEN"] = token
    failed = term.run(f"store move --to vault --vault-url {openbao.url} --vault-prefix {prefix} "
                      f"--as vperkins --otp {term.code('vperkins')}", expect=4)
    assert len(failed.stderr.strip().splitlines()) == 1
    assert token not in failed.stderr
    assert kv_keys(openbao, prefix, slug) == []
    after = dump(term.db)
    assert {table: rows for table, rows in after.items() if table != "audit"} == {
        table: rows for table, rows in before.items() if table != "audit"}
    assert term.run("cred reveal tiktok-main").stdout == "Second-password-2"
    assert "intact" in term.run("audit verify").stdout


def test_an_openbao_register_moves_back_to_the_keyring_and_clears_the_old_copies(
        tmp_path: Path, secret_service: servers.SecretServiceSession,
        openbao: servers.OpenBaoServer) -> None:
    term = terminal(tmp_path)
    slug = set_up(term, f"--backend vault --vault-url {openbao.url}")
    feed(term, "cred set tiktok-main --kind password --stdin", "Vault-held-1\n")
    term.run(f"store move --to keyring --remove-old --as vperkins --otp {term.code('vperkins')}")
    assert json.loads(term.run("store show --format json").stdout)["backend"] == "keyring"
    assert keyring_entry(term, slug, "tiktok-main/password") == "Vault-held-1"
    assert keyring_entry(term, slug, "audit/key")
    # Only the head record stays in OpenBao, naming the move, so an old copy is refused.
    assert kv_keys(openbao, "accessgov", slug) == ["audit/head"]
    assert term.run("cred reveal tiktok-main").stdout == "Vault-held-1"
    assert "intact" in term.run("audit verify").stdout
    term.run("logout")
    term.run(f"login --as vperkins --otp {term.code('vperkins')}")  # the seed moved too
