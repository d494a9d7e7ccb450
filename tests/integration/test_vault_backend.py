"""VaultBackend against a real OpenBao dev server: the contract, interop with `bao`, failures."""

from __future__ import annotations

import http.server
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from accessgov.errors import BackendUnavailable, InputError
from accessgov.secrets import vault as vault_module
from accessgov.secrets.base import SecretNotFound, VersionConflict
from accessgov.secrets.config import BackendConfig
from accessgov.secrets.vault import VaultBackend
from tests.secrets.contract import PATH, BackendContract, MakeBackend, new_org
from tests.support import servers


def vault_backend(url: str, org: str | None = None, **options: str) -> VaultBackend:
    """A VaultBackend for `org` (a fresh one by default) on the server at `url`."""
    config = BackendConfig(kind="vault", org_slug=org or new_org(), vault_url=url, **options)
    return VaultBackend(config)


def closed_port_url() -> str:
    """A loopback URL where nothing listens: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def token_with_policy(server: servers.OpenBaoServer, name: str, policy: str) -> str:
    """A short-lived token holding only `policy` (plus OpenBao's default policy)."""
    server.api("PUT", f"sys/policies/acl/{name}", {"policy": policy})
    created = server.api("POST", "auth/token/create", {"policies": [name], "ttl": "10m"})
    token: str = created["auth"]["client_token"]
    return token


@pytest.fixture(autouse=True)
def no_namespace_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's own VAULT_NAMESPACE must not send the `bao` CLI to another namespace."""
    for name in ("VAULT_NAMESPACE", "BAO_NAMESPACE"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.integration
class TestOpenBaoContract(BackendContract):
    @pytest.fixture
    def make_backend(self, openbao: servers.OpenBaoServer) -> MakeBackend:
        return lambda org: vault_backend(openbao.url, org)


@pytest.mark.integration
class TestInteropWithTheBaoCli:
    def test_what_accessgov_writes_bao_kv_get_reads(self, openbao: servers.OpenBaoServer) -> None:
        backend = vault_backend(openbao.url, "interact")
        backend.delete(PATH)
        backend.write(PATH, "line one\nline two ✓", expect_version=0)

        result = openbao.bao(
            "kv", "get", "-mount=secret", "-field=value", f"accessgov/interact/{PATH}"
        )

        assert result.returncode == 0, result.stderr
        assert result.stdout == "line one\nline two ✓"
        assert backend.location(PATH) == f"vault kv secret/accessgov/interact/{PATH}"

    def test_what_bao_kv_put_writes_accessgov_reads(self, openbao: servers.OpenBaoServer) -> None:
        backend = vault_backend(openbao.url)
        full_path = backend.location(PATH).removeprefix("vault kv secret/")

        result = openbao.bao("kv", "put", "-mount=secret", full_path, "value=put by bao")

        assert result.returncode == 0, result.stderr
        assert backend.read(PATH) == "put by bao"
        assert backend.current_version(PATH) == 1

    def test_a_secret_deleted_with_bao_kv_delete_stays_deleted(
        self, openbao: servers.OpenBaoServer
    ) -> None:
        backend = vault_backend(openbao.url)
        backend.write(PATH, "old", expect_version=0)
        backend.write(PATH, "deleted by hand", expect_version=1)
        full_path = backend.location(PATH).removeprefix("vault kv secret/")

        deleted = openbao.bao("kv", "delete", "-mount=secret", full_path)

        assert deleted.returncode == 0, deleted.stderr
        with pytest.raises(SecretNotFound):
            backend.read(PATH)
        assert backend.read(PATH, version=1) == "old"

    def test_custom_metadata_is_visible_to_bao(self, openbao: servers.OpenBaoServer) -> None:
        backend = vault_backend(openbao.url)
        backend.write(PATH, "pw", expect_version=0, metadata={"account": "instagram-main"})
        full_path = backend.location(PATH).removeprefix("vault kv secret/")

        result = openbao.bao("kv", "metadata", "get", "-mount=secret", "-format=json", full_path)

        assert '"account": "instagram-main"' in result.stdout


@pytest.mark.integration
class TestTokens:
    def test_the_token_helper_file_is_used_without_vault_token(
        self, openbao: servers.OpenBaoServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        monkeypatch.delenv("VAULT_TOKEN")
        (Path.home() / ".vault-token").write_text(openbao.root_token + "\n")

        vault_backend(openbao.url).check()

    def test_no_token_at_all_is_unavailable(
        self, openbao: servers.OpenBaoServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("VAULT_TOKEN")

        with pytest.raises(BackendUnavailable, match="no Vault token: set VAULT_TOKEN"):
            vault_backend(openbao.url).read(PATH)

    def test_an_invalid_token_is_refused(
        self, openbao: servers.OpenBaoServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("VAULT_TOKEN", "not-a-real-token")
        backend = vault_backend(openbao.url)

        with pytest.raises(BackendUnavailable, match=r"^Vault refused the token"):
            backend.check()
        with pytest.raises(BackendUnavailable, match=r"^Vault refused the token") as refused:
            backend.write(PATH, "hunter2-secret", expect_version=0)
        assert "hunter2" not in str(refused.value)

    def test_a_token_whose_policy_denies_the_path_is_refused(
        self, openbao: servers.OpenBaoServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        policy = 'path "secret/*" { capabilities = ["deny"] }'
        monkeypatch.setenv("VAULT_TOKEN", token_with_policy(openbao, "deny-all", policy))
        backend = vault_backend(openbao.url)

        for attempt in (
            backend.check,
            lambda: backend.read(PATH),
            lambda: backend.current_version(PATH),
            lambda: backend.write(PATH, "pw", expect_version=0),
            lambda: backend.delete(PATH),
        ):
            with pytest.raises(BackendUnavailable, match=r"^Vault refused the token"):
                attempt()

    def test_a_write_whose_metadata_is_refused_leaves_no_version_behind(
        self, openbao: servers.OpenBaoServer, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # May write data and destroy versions, but not change metadata: the write half-fails.
        org = new_org()
        area = f"accessgov/{org}/*"
        policy = (
            f'path "secret/data/{area}" {{ capabilities = ["create", "update", "read"] }}\n'
            f'path "secret/metadata/{area}" {{ capabilities = ["read"] }}\n'
            f'path "secret/destroy/{area}" {{ capabilities = ["update"] }}\n'
        )
        monkeypatch.setenv("VAULT_TOKEN", token_with_policy(openbao, f"no-meta-{org}", policy))

        with pytest.raises(BackendUnavailable, match="refused the token"):
            vault_backend(openbao.url, org).write(PATH, "pw", expect_version=0, metadata={"a": "b"})

        monkeypatch.setenv("VAULT_TOKEN", openbao.root_token)
        as_root = vault_backend(openbao.url, org)
        with pytest.raises(SecretNotFound):
            as_root.read(PATH)
        assert as_root.current_version(PATH) == 1


@pytest.mark.integration
class TestUnreachableVault:
    def test_a_closed_port_fails_fast_with_a_plain_message(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("VAULT_TOKEN", "any")
        url = closed_port_url()
        backend = vault_backend(url)

        for attempt in (
            backend.check,
            lambda: backend.read(PATH),
            lambda: backend.write(PATH, "hunter2-secret", expect_version=0),
            lambda: backend.discard(PATH, 1),
        ):
            started = time.monotonic()
            with pytest.raises(BackendUnavailable) as failure:
                attempt()
            assert time.monotonic() - started < 6
            assert str(failure.value) == (
                f"cannot reach Vault at {url} (connection refused): is the server running? "
                "check the address ('accessgov store show'; 'accessgov store set-address URL' "
                "changes it)"
            )

    def test_a_server_that_never_answers_times_out(
        self, monkeypatch: pytest.MonkeyPatch, silent_server: str
    ) -> None:
        monkeypatch.setattr(vault_module, "TIMEOUT_SECONDS", 0.3)
        monkeypatch.setenv("VAULT_TOKEN", "any")
        backend = vault_backend(silent_server)

        with pytest.raises(BackendUnavailable, match=r"did not answer within 0\.3 s"):
            backend.read(PATH)
        with pytest.raises(BackendUnavailable, match=r"did not answer within 0\.3 s"):
            backend.write(PATH, "pw", expect_version=0)

    def test_no_address_at_all_is_unavailable(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("VAULT_TOKEN", "any")
        backend = VaultBackend(BackendConfig(kind="vault", org_slug="x"))

        with pytest.raises(BackendUnavailable, match="no Vault address: set VAULT_ADDR"):
            backend.read(PATH)
        with pytest.raises(BackendUnavailable, match="no Vault address: set VAULT_ADDR"):
            backend.write(PATH, "pw", expect_version=0)

    def test_a_mount_that_does_not_exist_is_unavailable(
        self, openbao: servers.OpenBaoServer
    ) -> None:
        backend = vault_backend(openbao.url, vault_mount="no-such-mount")

        with pytest.raises(BackendUnavailable, match="no KV version 2 engine at no-such-mount/"):
            backend.read(PATH)


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A URL whose listener accepts connections (in the kernel) but never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


@pytest.fixture
def scratch_openbao(tmp_path: Path) -> Iterator[servers.OpenBaoServer]:
    """A dev server of this test's own, for tests that break it (seal it, for example)."""
    server = servers.start_or_skip(servers.start_openbao, tmp_path / "scratch-openbao")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def tls_openbao(tmp_path: Path) -> Iterator[servers.OpenBaoServer]:
    """A dev server speaking TLS with a certificate from a CA of its own."""
    server = servers.start_or_skip(servers.start_openbao, tmp_path / "tls", tls=True)
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.integration
def test_a_sealed_vault_says_so(
    scratch_openbao: servers.OpenBaoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAULT_TOKEN", scratch_openbao.root_token)
    backend = vault_backend(scratch_openbao.url)
    backend.write(PATH, "before the seal", expect_version=0)

    sealed = scratch_openbao.bao("operator", "seal")

    assert sealed.returncode == 0, sealed.stderr
    for attempt in (backend.check, lambda: backend.read(PATH)):
        with pytest.raises(BackendUnavailable, match=r"is sealed: unseal it"):
            attempt()
    with pytest.raises(BackendUnavailable, match=r"is sealed: unseal it"):
        backend.write(PATH, "after the seal", expect_version=1)


@pytest.mark.integration
def test_tls_is_verified_against_the_configured_ca(
    tls_openbao: servers.OpenBaoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAULT_TOKEN", tls_openbao.root_token)
    org = new_org()
    assert tls_openbao.ca_cert is not None

    untrusting = vault_backend(tls_openbao.url, org)
    with pytest.raises(BackendUnavailable, match="cannot verify the TLS certificate"):
        untrusting.read(PATH)
    with pytest.raises(BackendUnavailable, match="cannot verify the TLS certificate"):
        untrusting.write(PATH, "pw", expect_version=0)

    trusting = vault_backend(tls_openbao.url, org, vault_cacert=str(tls_openbao.ca_cert))
    trusting.write(PATH, "over tls", expect_version=0)
    assert trusting.read(PATH) == "over tls"

    monkeypatch.setenv("VAULT_CACERT", str(tls_openbao.ca_cert))
    assert vault_backend(tls_openbao.url, org).read(PATH) == "over tls"


@pytest.mark.integration
def test_plain_http_to_a_tls_server_is_unavailable(
    tls_openbao: servers.OpenBaoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VAULT_TOKEN", tls_openbao.root_token)
    backend = vault_backend(tls_openbao.url.replace("https://", "http://"))

    with pytest.raises(BackendUnavailable, match="not Vault's JSON"):
        backend.read(PATH)


@pytest.mark.integration
def test_the_read_path_never_imports_hvac(openbao: servers.OpenBaoServer) -> None:
    backend = vault_backend(openbao.url, "speed")
    backend.delete(PATH)
    backend.write(PATH, "fast", expect_version=0)
    script = (
        "import sys\n"
        "from accessgov.secrets.config import BackendConfig, open_backend\n"
        f"config = BackendConfig(kind='vault', org_slug='speed', vault_url={openbao.url!r})\n"
        "backend = open_backend(config)\n"
        f"print(backend.read({PATH!r}), backend.current_version({PATH!r}))\n"
        "print(sorted(m for m in ('hvac', 'requests', 'urllib3') if m in sys.modules))\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )

    assert result.stdout.splitlines() == ["fast 1", "[]"]


@pytest.mark.parametrize(
    "path", ["", "/abs/path", "a/../b", "a//b", "a/./b", "trailing/", "sp ace"]
)
def test_paths_that_could_leave_the_org_area_are_refused(path: str) -> None:
    backend = vault_backend("http://127.0.0.1:1")

    with pytest.raises(InputError, match="not a valid secret path"):
        backend.read(path)
    with pytest.raises(InputError, match="not a valid secret path"):
        backend.write(path, "pw", expect_version=0)


def test_importing_the_vault_backend_does_not_import_hvac() -> None:
    script = (
        "import sys, accessgov.secrets.vault\n"
        "print(sorted(m for m in ('hvac', 'requests', 'urllib3') if m in sys.modules))\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "[]"


# -- one mapping of Vault's answers for both paths (reads: http.client, writes: hvac) -----------

class CannedVault:
    """A loopback HTTP server answering every request with one canned status and body."""

    def __init__(self) -> None:
        self.status, self.body = 200, b"{}"
        canned = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def answer(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(canned.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(canned.body)))
                self.end_headers()
                self.wfile.write(canned.body)

            do_GET = do_POST = do_PUT = do_DELETE = answer

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, status: int, body: bytes) -> None:
        self.status, self.body = status, body

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def canned_vault(monkeypatch: pytest.MonkeyPatch) -> Iterator[CannedVault]:
    monkeypatch.setenv("VAULT_TOKEN", "any")
    server = CannedVault()
    try:
        yield server
    finally:
        server.close()


def failures_on_both_paths(backend: VaultBackend) -> tuple[str, str]:
    """(the message of a failed read, the message of a failed write)."""
    with pytest.raises(BackendUnavailable) as read:
        backend.read(PATH)
    with pytest.raises(BackendUnavailable) as written:
        backend.write(PATH, "hunter2-secret", expect_version=0)
    return str(read.value), str(written.value)


@pytest.mark.parametrize("status, errors, expected", [
    # hvac has no exception class for 412 (it raises UnexpectedError): the status survives.
    (412, ["required index state not present"],
     "could not do this (HTTP 412: required index state not present)"),
    (429, ["request path \"secret/data/x\": rate limit quota exceeded"],
     "could not do this (HTTP 429: request path \"secret/data/x\": rate limit quota exceeded)"),
    (500, [], "could not do this (HTTP 500: no detail)"),
    (503, ["Vault is sealed"], "is sealed: unseal it"),
    (403, ["1 error occurred:\n\t* permission denied\n\n"], "(permission denied): log in again"),
    (404, ["no handler for route \"secret/data/x\""], "no KV version 2 engine at secret/"),
])
def test_both_paths_map_every_status_to_the_same_one_line_message(
    canned_vault: CannedVault, status: int, errors: list[str], expected: str
) -> None:
    canned_vault.answer(status, json.dumps({"errors": errors}).encode())

    read, written = failures_on_both_paths(vault_backend(canned_vault.url, "canned"))

    assert read == written
    assert expected in read and "\n" not in read and "hunter2" not in read


def test_both_paths_say_an_answer_that_is_not_json_is_not_vaults(
    canned_vault: CannedVault,
) -> None:
    canned_vault.answer(502, b"<html>Bad Gateway</html>")

    read, written = failures_on_both_paths(vault_backend(canned_vault.url))

    assert read == written == (
        f"Vault at {canned_vault.url} answered HTTP 502 with something that is not Vault's JSON:"
        " check the address and its scheme (http or https)"
    )


def test_a_check_and_set_mismatch_is_a_conflict_only_on_a_write(
    canned_vault: CannedVault,
) -> None:
    mismatch = "check-and-set parameter did not match the current version"
    canned_vault.answer(400, json.dumps({"errors": [mismatch]}).encode())
    backend = vault_backend(canned_vault.url, "canned")

    with pytest.raises(VersionConflict, match="is no longer at version 3: someone else"):
        backend.write(PATH, "pw", expect_version=3)
    with pytest.raises(BackendUnavailable, match=rf"could not do this \(HTTP 400: {mismatch}\)"):
        backend.read(PATH)


@pytest.mark.integration
def test_a_refusal_from_openbao_is_one_line_on_both_paths(
    openbao: servers.OpenBaoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # OpenBao words this refusal as a multi-line Go multierror.
    policy = 'path "secret/*" { capabilities = ["deny"] }'
    monkeypatch.setenv("VAULT_TOKEN", token_with_policy(openbao, "deny-all-lines", policy))

    read, written = failures_on_both_paths(vault_backend(openbao.url, "refused"))

    assert read == written
    assert read.startswith(
        f"Vault refused the token for vault kv secret/accessgov/refused/{PATH}"
        " (permission denied): log in again"
    )
