"""Fixtures shared by the whole test suite.

Every test runs cut off from the real user's world (`isolated_environment`, autouse): its
own HOME and XDG folders, no Vault address or token, a D-Bus address that leads nowhere. A
test that needs a real store asks for `openbao` or `secret_service`, which start the server
once per session and point only that test's environment at it.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import pytest

from accessgov.db.register import DatabaseUrl
from tests.support import servers
from tests.support.shell import Shell

if TYPE_CHECKING:
    from tests.support.postgres import PostgresServer

# Variables that would let a test reach a real Vault, register, operator or keyring choice.
FOREIGN_VARIABLES = (
    "VAULT_ADDR",
    "VAULT_TOKEN",
    "VAULT_CACERT",
    "BAO_ADDR",
    "BAO_TOKEN",
    "ACCESSGOV_DB",
    "ACCESSGOV_OPERATOR",
    "ACCESSGOV_BACKEND",
    "PYTHON_KEYRING_BACKEND",
    "VAULT_NAMESPACE",
    "BAO_NAMESPACE",
    "COLUMNS",  # a narrow terminal of the developer's would reshape every table
    "LINES",
)


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep every test away from the real home folder, keyring, Vault and shared temporary
    folder; returns HOME."""
    home = tmp_path / "home"
    folders = {
        "HOME": home,
        "XDG_DATA_HOME": home / ".local" / "share",
        "XDG_CONFIG_HOME": home / ".config",
        "XDG_STATE_HOME": home / ".local" / "state",
        "XDG_RUNTIME_DIR": tmp_path / "run",
    }
    for name, folder in folders.items():
        folder.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(name, str(folder))
    for name in FOREIGN_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    # The shared temporary folder is shared with every other run on the machine: whatever
    # asks for a temporary file (this process, or a program a test starts) gets one here.
    private_tmp = tmp_path / "temporary-files"
    private_tmp.mkdir(exist_ok=True)
    monkeypatch.setenv("TMPDIR", str(private_tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))
    # keyring and secretstorage read this at every connection: a dead socket, never the user's.
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/no-such-bus")
    return home


@pytest.fixture(scope="session")
def openbao_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.OpenBaoServer]:
    """One OpenBao dev server for the whole session (skips if bao is not installed)."""
    server = servers.start_or_skip(servers.start_openbao, tmp_path_factory.mktemp("openbao"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def openbao(
    openbao_server: servers.OpenBaoServer,
    isolated_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> servers.OpenBaoServer:
    """The session's OpenBao, with VAULT_ADDR and VAULT_TOKEN (root) set for this test."""
    # Depending on isolated_environment makes this run after it, so these settings win.
    for name, value in openbao_server.env.items():
        monkeypatch.setenv(name, value)
    return openbao_server


@pytest.fixture(scope="session")
def secret_service_session(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[servers.SecretServiceSession]:
    """One private D-Bus bus with gnome-keyring for the session (skips if not installed)."""
    tmpdir = tmp_path_factory.mktemp("secret-service")
    session = servers.start_or_skip(servers.start_secret_service, tmpdir)
    try:
        yield session
    finally:
        session.stop()


@pytest.fixture
def secret_service(
    secret_service_session: servers.SecretServiceSession,
    isolated_environment: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> servers.SecretServiceSession:
    """The session's Secret Service (started again if its daemon has gone), with
    DBUS_SESSION_BUS_ADDRESS set for this test."""
    secret_service_session.revive()
    for name, value in secret_service_session.env.items():
        monkeypatch.setenv(name, value)
    return secret_service_session


# -- the user's story: a register run through the command line ---------------------------

@pytest.fixture
def store() -> dict[str, object]:
    """The memory backend's contents, shared by every command of one test."""
    return {}


# Which engine the register tests run on: ACCESSGOV_TEST_ENGINE=postgresql runs every test
# that uses the `shell` fixture on a real PostgreSQL server the suite starts (see .ci/run).
ENGINE = os.environ.get("ACCESSGOV_TEST_ENGINE", "sqlite")


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL cluster for the session (skips if PostgreSQL is missing)."""
    from tests.support.postgres import start_postgres

    server = servers.start_or_skip(start_postgres, tmp_path_factory.mktemp("postgres"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def register_location(tmp_path: Path, request: pytest.FixtureRequest) -> Path | DatabaseUrl:
    """Where a test's register lives: a file in its own folder, or (ACCESSGOV_TEST_ENGINE=
    postgresql) a fresh database of the session's PostgreSQL server."""
    if ENGINE == "postgresql":
        server = request.getfixturevalue("postgres_server")
        template = request.getfixturevalue("prepared_tables")
        return DatabaseUrl(server.new_database(template))
    return tmp_path / "data" / "register.db"


@pytest.fixture(scope="session")
def prepared_tables(postgres_server: PostgresServer) -> str:
    """A database holding a register's tables and nothing else, as 'accessgov db setup'
    leaves it, copied for each test: making the schema once instead of in every test (the
    suite's `init` then starts the register in them, as the CEO's does after db setup)."""
    from accessgov.db.postgres import PostgresRegister

    url = postgres_server.new_database()
    PostgresRegister.prepare(DatabaseUrl(url)).close()
    return urlparse(url).path.lstrip("/")


@pytest.fixture
def shell(tmp_path: Path, store: dict[str, object],
          register_location: Path | DatabaseUrl) -> Shell:
    """A new InterAct register bound to the in-memory store (fast unit-level CLI tests).

    The register is made by the core's `initialise` with a config that names the memory
    store, so its settings say what really holds its secrets; `init` itself, with the real
    keyring and OpenBao, is tested in tests/integration/.
    """
    from accessgov.initialise import initialise
    from accessgov.secrets.config import BackendConfig
    from tests.support.memory_backend import MemoryBackend

    def factory(config: BackendConfig) -> MemoryBackend:
        assert config.kind == "memory", config
        return MemoryBackend(config.org_slug, store)  # type: ignore[arg-type]

    sh = Shell(register_location, factory, workdir=tmp_path)
    initialise(sh.db, "InterAct", BackendConfig("memory", "interact"), factory).close()
    # The test's clock starts after `init` was dated by the real one (making a PostgreSQL
    # register's schema can take more than a second).
    sh.clock.now = max(sh.clock.now, dt.datetime.now(dt.UTC))
    return sh


@pytest.fixture
def org(shell: Shell) -> Shell:
    """InterAct after set-up: the CEO and a trustee with MFA, a member of staff, an account.

    The Board's first members are entered during set-up, so the trustee was put in place by
    nobody in the register: she may decide the CEO's access (see the proxy rule)."""
    shell.run('person add vperkins --name "Vickie Perkins" --email v@example.org --category ceo')
    shell.run('person add spatel --name "Sonal Patel" --email s@example.org --category trustee')
    shell.enrol("vperkins")
    shell.enrol("spatel", by="vperkins")
    shell.run(f'person add jdoe --name "Jo Doe" --email j@example.org --category employee '
              f'--title "Young Adults Lead" {shell.as_("vperkins")}')
    # Nobody makes themselves an account's owner: the trustee registers the CEO's accounts.
    shell.run(f'account add instagram-main --platform instagram --handle @interact '
              f'--owner vperkins --purpose "Events and news" --mfa totp --access delegated '
              f'{shell.as_("spatel")}')
    return shell


@pytest.fixture
def shared(org: Shell) -> Shell:
    """org plus a shared-login TikTok account with its password, and jdoe holding a grant."""
    org.run(f"account add tiktok-main --platform tiktok --handle @interact --owner vperkins "
            f"--purpose 'Short videos' --access shared-login --mfa totp {org.as_('spatel')}")
    org.run(f"cred set tiktok-main --kind password --stdin {org.as_('vperkins')}",
            input="Tt-first-Canary-7731\n")
    org.run(f"grant add jdoe tiktok-main --role member --reason 'Posts clips' "
            f"{org.as_('vperkins')}")
    return org
