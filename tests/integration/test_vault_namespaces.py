"""Vault namespaces against the real OpenBao dev server (namespaces arrived in OpenBao 2.3).

The backend inside a namespace (the whole contract), separation from the root namespace,
interop with `bao kv -namespace=`, plain one-line failures, which namespace wins, and the
story through the real program: `init --vault-namespace`, `cred set`, `cred reveal`.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from accessgov.errors import BackendUnavailable, InputError
from accessgov.secrets.base import SecretNotFound
from accessgov.secrets.config import BackendConfig, check_namespace
from accessgov.secrets.vault import VaultBackend
from tests.secrets.contract import PATH, BackendContract, MakeBackend, new_org
from tests.support import servers
from tests.support.terminal import Terminal, clear_of_a_step_boundary, terminal

TEAM = "team-a"


# -- helpers ----------------------------------------------------------------------------------

def root_api(server: servers.OpenBaoServer, method: str, path: str,
             body: dict[str, Any] | None = None, *, namespace: str | None = None) -> Any:
    """Call OpenBao's HTTP API as root, in `namespace` (the root namespace if None)."""
    headers = {"X-Vault-Token": server.root_token}
    if namespace:
        headers["X-Vault-Namespace"] = namespace
    request = urllib.request.Request(
        f"{server.url}/v1/{path}", method=method, headers=headers,
        data=json.dumps(body).encode() if body is not None else None,
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=10) as response:
        raw = response.read()
    return json.loads(raw) if raw else None


def make_namespace(server: servers.OpenBaoServer, name: str, *, kv: bool = True) -> str:
    """Create namespace `name` (its parent must exist) with KV v2 at secret/ unless not `kv`."""
    parent, _, child = name.rpartition("/")
    root_api(server, "POST", f"sys/namespaces/{child}", {}, namespace=parent or None)
    if kv:
        root_api(server, "POST", "sys/mounts/secret",
                 {"type": "kv", "options": {"version": "2"}}, namespace=name)
    return name


def vault_backend(url: str, org: str | None = None, *, namespace: str | None = TEAM,
                  **options: str) -> VaultBackend:
    """A VaultBackend for `org` (a fresh one by default) in `namespace` on the server at `url`."""
    config = BackendConfig(kind="vault", org_slug=org or new_org(), vault_url=url,
                           vault_namespace=namespace, **options)
    return VaultBackend(config)


def bao_kv(server: servers.OpenBaoServer, namespace: str | None, *args: str) -> str:
    """`bao kv ARGS` in `namespace` (explicitly the root one if None); its stdout."""
    result = server.bao("kv", *args[:1], f"-namespace={namespace or ''}", *args[1:])
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="session")
def team_a(openbao_server: servers.OpenBaoServer) -> str:
    """The namespace team-a, with KV v2 at secret/, on the session's OpenBao."""
    version = openbao_server.bao("version").stdout
    try:
        return make_namespace(openbao_server, TEAM)
    except urllib.error.HTTPError as error:
        pytest.fail(f"{version.strip()} has no namespaces (OpenBao 2.3+ has): {error}")


@pytest.fixture(autouse=True)
def no_namespace_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own VAULT_NAMESPACE must not leak into these tests."""
    for name in ("VAULT_NAMESPACE", "BAO_NAMESPACE"):
        monkeypatch.delenv(name, raising=False)


# -- the namespace text -------------------------------------------------------------------------

@pytest.mark.parametrize("text, canonical", [
    (None, None), ("", None), ("team-a", "team-a"), ("team-a/", "team-a"), ("/team-a", "team-a"),
    ("admin/team-a", "admin/team-a"), ("a.b_c@d-1", "a.b_c@d-1"),
])
def test_a_namespace_is_kept_in_its_canonical_spelling(text: str | None,
                                                       canonical: str | None) -> None:
    assert check_namespace(text) == canonical
    assert BackendConfig("vault", "x", vault_namespace=text).vault_namespace == canonical


@pytest.mark.parametrize("text", [
    "/", "a//b", "//a", "a//", "..", "a/../b", "./a", "a/.", ".hidden", "team a", "a+b", "a*",
    "tëam", "a\nb", "a\\b", "root", "team-a/sys", "identity",
])
def test_a_namespace_with_an_empty_dot_reserved_or_odd_part_is_refused(text: str) -> None:
    with pytest.raises(InputError, match="not a valid Vault namespace"):
        check_namespace(text)
    with pytest.raises(InputError, match="not a valid Vault namespace"):
        BackendConfig("vault", "x", vault_namespace=text)


def test_the_namespace_is_stored_with_the_register_settings() -> None:
    config = BackendConfig("vault", "x", vault_url="http://v", vault_namespace="team-a/")

    settings = config.as_settings()

    assert settings["backend_vault_namespace"] == "team-a"
    assert BackendConfig.from_settings(settings) == config
    assert "backend_vault_namespace" not in BackendConfig("vault", "x").as_settings()


# -- the backend inside a namespace, on the real server ----------------------------------------

@pytest.mark.integration
class TestOpenBaoContractInANamespace(BackendContract):
    @pytest.fixture
    def make_backend(self, openbao: servers.OpenBaoServer, team_a: str) -> MakeBackend:
        return lambda org: vault_backend(openbao.url, org, namespace=team_a)


@pytest.mark.integration
class TestNamespaces:
    def test_the_same_path_in_the_root_namespace_and_in_a_namespace_are_separate(
        self, openbao: servers.OpenBaoServer, team_a: str
    ) -> None:
        org = new_org()
        in_root = vault_backend(openbao.url, org, namespace=None)
        in_team = vault_backend(openbao.url, org, namespace=team_a)

        in_root.write(PATH, "root's", expect_version=0)
        assert in_team.current_version(PATH) == 0
        with pytest.raises(SecretNotFound):
            in_team.read(PATH)
        assert in_team.write(PATH, "team's 1", expect_version=0) == 1
        assert in_team.write(PATH, "team's 2", expect_version=1) == 2
        in_team.discard(PATH, 2)

        assert in_root.read(PATH) == "root's" and in_root.current_version(PATH) == 1
        assert in_team.read(PATH) == "team's 1" and in_team.current_version(PATH) == 2
        in_team.delete(PATH)
        assert in_team.current_version(PATH) == 0
        assert in_root.read(PATH) == "root's"

    def test_location_names_the_namespace(self, team_a: str) -> None:
        backend = vault_backend("http://127.0.0.1:1", "interact", namespace=team_a)

        assert backend.location(PATH) == (
            f"vault kv secret/accessgov/interact/{PATH} (namespace team-a)")

    def test_what_accessgov_writes_bao_kv_get_reads_in_the_namespace(
        self, openbao: servers.OpenBaoServer, team_a: str
    ) -> None:
        org = new_org()
        vault_backend(openbao.url, org).write(PATH, "in team-a ✓", expect_version=0)

        value = bao_kv(openbao, team_a, "get", "-mount=secret", "-field=value",
                       f"accessgov/{org}/{PATH}")

        assert value == "in team-a ✓"
        missing = openbao.bao("kv", "get", "-namespace=", "-mount=secret",
                              f"accessgov/{org}/{PATH}")
        assert "No value found" in missing.stderr  # nothing in the root namespace

    def test_what_bao_kv_put_writes_in_the_namespace_accessgov_reads(
        self, openbao: servers.OpenBaoServer, team_a: str
    ) -> None:
        org = new_org()

        bao_kv(openbao, team_a, "put", "-mount=secret", f"accessgov/{org}/{PATH}", "value=by bao")

        backend = vault_backend(openbao.url, org)
        assert backend.read(PATH) == "by bao"
        assert backend.current_version(PATH) == 1

    def test_a_nested_namespace_works(self, openbao: servers.OpenBaoServer, team_a: str) -> None:
        nested = make_namespace(openbao, f"{team_a}/child-{secrets.token_hex(3)}")
        org = new_org()

        vault_backend(openbao.url, org, namespace=nested).write(PATH, "deep", expect_version=0)

        assert bao_kv(openbao, nested, "get", "-mount=secret", "-field=value",
                      f"accessgov/{org}/{PATH}") == "deep"
        assert vault_backend(openbao.url, org, namespace=team_a).current_version(PATH) == 0

    def test_a_namespace_that_does_not_exist_is_unavailable_with_one_plain_line(
        self, openbao: servers.OpenBaoServer
    ) -> None:
        backend = vault_backend(openbao.url, namespace="no-such-team")
        expected = (f"Vault at {openbao.url} has no namespace no-such-team (namespace not found):"
                    " check the namespace given at init")

        for attempt in (
            backend.check,
            lambda: backend.read(PATH),
            lambda: backend.current_version(PATH),
            lambda: backend.write(PATH, "hunter2-secret", expect_version=0),
            lambda: backend.discard(PATH, 1),
            lambda: backend.delete(PATH),
            lambda: backend.annotate(PATH, {"a": "b"}),
        ):
            with pytest.raises(BackendUnavailable) as failure:
                attempt()
            assert str(failure.value) == expected

    def test_a_namespace_without_the_kv_mount_is_unavailable(
        self, openbao: servers.OpenBaoServer
    ) -> None:
        bare = make_namespace(openbao, f"bare-{secrets.token_hex(3)}", kv=False)
        backend = vault_backend(openbao.url, namespace=bare)

        for attempt in (backend.check, lambda: backend.write(PATH, "pw", expect_version=0)):
            with pytest.raises(BackendUnavailable,
                               match=rf"^Vault has no KV version 2 engine at secret/ in namespace"
                                     rf" {bare} \(.*\): check the mount and namespace given at"
                                     " init$"):
                attempt()

    def test_a_refused_token_names_the_namespace(
        self, openbao: servers.OpenBaoServer, team_a: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # A token of the root namespace with only OpenBao's default policy: nothing in team-a.
        created = root_api(openbao, "POST", "auth/token/create",
                           {"policies": ["default"], "ttl": "10m"})
        monkeypatch.setenv("VAULT_TOKEN", created["auth"]["client_token"])
        backend = vault_backend(openbao.url, "interact")

        for attempt in (lambda: backend.read(PATH),
                        lambda: backend.write(PATH, "pw", expect_version=0)):
            with pytest.raises(BackendUnavailable) as refused:
                attempt()
            message = str(refused.value)
            assert message.startswith(
                f"Vault refused the token for vault kv secret/accessgov/interact/{PATH}"
                " (namespace team-a) (")
            assert message.endswith("secret/metadata/accessgov/interact/* in namespace team-a")
            assert "\n" not in message

    def test_vault_namespace_at_run_time_never_moves_a_backend(
        self, openbao: servers.OpenBaoServer, team_a: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        org = new_org()
        monkeypatch.setenv("VAULT_NAMESPACE", "no-such-team")
        vault_backend(openbao.url, org, namespace=team_a).write(PATH, "team", expect_version=0)
        vault_backend(openbao.url, org, namespace=None).write(PATH, "root", expect_version=0)

        assert bao_kv(openbao, team_a, "get", "-field=value", "-mount=secret",
                      f"accessgov/{org}/{PATH}") == "team"
        assert bao_kv(openbao, None, "get", "-field=value", "-mount=secret",
                      f"accessgov/{org}/{PATH}") == "root"


# -- the story through the real program --------------------------------------------------------

def setting(db: Path, key: str) -> str | None:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def reveal_with_import_check(term: Terminal, account: str) -> tuple[str, list[str]]:
    """`cred reveal ACCOUNT` in a fresh interpreter: (its stdout, slow modules it imported)."""
    probe = (
        "import runpy, sys\n"
        "sys.argv = ['accessgov', *sys.argv[1:]]\n"
        "try:\n"
        "    runpy.run_module('accessgov', run_name='__main__')\n"
        "finally:\n"
        "    slow = [m for m in ('hvac', 'requests', 'urllib3') if m in sys.modules]\n"
        "    print('IMPORTED', *slow, file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, "--db", str(term.db), "cred", "reveal", account],
        env=term.env, capture_output=True, text=True, timeout=120, check=False,
        stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    imported = result.stderr.strip().splitlines()[-1].split()[1:]
    return result.stdout, imported


@pytest.mark.integration
def test_the_cli_story_in_a_namespace(tmp_path: Path, openbao: servers.OpenBaoServer,
                                      team_a: str) -> None:
    slug = f"t{secrets.token_hex(4)}"
    term = terminal(tmp_path)
    term.run(f"init --org InterAct --slug {slug} --backend vault --vault-url {openbao.url} "
             f"--vault-namespace {team_a}")
    assert setting(term.db, "backend_vault_namespace") == team_a
    term.run('person add vperkins --name "Vickie Perkins" --email v@example.org --category ceo')
    # Entered during set-up, with the CEO as its owner (later nobody makes themselves owner).
    term.run("account add tiktok-main --platform tiktok --handle @interact --owner vperkins "
             "--purpose 'Short videos' --access shared-login --mfa totp")
    clear_of_a_step_boundary()
    term.enrol("vperkins")
    term.run(f"login --as vperkins --otp {term.code('vperkins')}")
    set_ = subprocess.run(
        [sys.executable, "-m", "accessgov", "--db", str(term.db), "cred", "set", "tiktok-main",
         "--kind", "password", "--stdin"],
        input="Tt-namespace-Canary-4417\n", env=term.env, capture_output=True, text=True,
        timeout=120, check=False)
    assert set_.returncode == 0, set_.stderr

    revealed, imported = reveal_with_import_check(term, "tiktok-main")

    assert revealed.strip() == "Tt-namespace-Canary-4417"
    assert imported == []  # reading from Vault stays on the standard library
    assert bao_kv(openbao, team_a, "get", "-mount=secret", "-field=value",
                  f"accessgov/{slug}/tiktok-main/password") == "Tt-namespace-Canary-4417"
    assert bao_kv(openbao, team_a, "get", "-mount=secret", "-field=value",
                  f"accessgov/{slug}/mfa/vperkins") == term.seeds["vperkins"]
    in_root = openbao.bao("kv", "get", "-namespace=", "-mount=secret",
                          f"accessgov/{slug}/audit/key")
    assert "No value found" in in_root.stderr  # the audit key too is only in team-a
    listed = json.loads(term.run("cred list --format json").stdout)
    assert [row["reference"] for row in listed] == [
        f"vault kv secret/accessgov/{slug}/tiktok-main/password (namespace {team_a})"]
    assert "intact" in term.run("audit verify").stdout


@pytest.mark.integration
def test_init_takes_the_namespace_from_vault_namespace_and_keeps_it(
        tmp_path: Path, openbao: servers.OpenBaoServer, team_a: str) -> None:
    slug = f"t{secrets.token_hex(4)}"
    term = terminal(tmp_path, VAULT_NAMESPACE=team_a)
    term.run(f"init --org InterAct --slug {slug} --backend vault --vault-url {openbao.url}")
    assert setting(term.db, "backend_vault_namespace") == team_a

    term.env["VAULT_NAMESPACE"] = "some-other-team"  # left over from other work
    term.run('person add vperkins --name "Vickie Perkins" --email v@example.org --category ceo')
    term.enrol("vperkins")

    assert bao_kv(openbao, team_a, "get", "-mount=secret", "-field=value",
                  f"accessgov/{slug}/mfa/vperkins") == term.seeds["vperkins"]


@pytest.mark.integration
def test_init_in_a_namespace_that_does_not_exist_fails_in_one_line_and_creates_nothing(
        tmp_path: Path, openbao: servers.OpenBaoServer) -> None:
    term = terminal(tmp_path)

    result = term.run(f"init --org InterAct --backend vault --vault-url {openbao.url} "
                      "--vault-namespace no-such-team", expect=4)

    assert result.stderr.strip().splitlines() == [
        f"Error: Vault at {openbao.url} has no namespace no-such-team (namespace not found):"
        " check the namespace given at init"]
    assert not term.db.exists()


@pytest.mark.parametrize("namespace", ["team-a//x", "../team-a", "team a"])
def test_init_with_an_invalid_namespace_is_an_input_error(tmp_path: Path, namespace: str) -> None:
    term = terminal(tmp_path, VAULT_TOKEN="any")

    result = term.run(f"init --org InterAct --backend vault --vault-url http://127.0.0.1:1 "
                      f"--vault-namespace '{namespace}'", expect=2)

    assert "not a valid Vault namespace" in result.stderr
    assert not term.db.exists()
