"""A throwaway PostgreSQL server for the tests, from Debian's `postgresql` package.

initdb refuses to run as root, so as root the cluster belongs to the `postgres` user (the
package makes it) and the folders leading to it are made traversable for that user; as anyone
else it belongs to whoever runs the tests. The cluster lives in the test session's own
temporary folder, listens on loopback only, on a free port, with trust authentication (a
private throwaway), and is stopped (its process group killed) at the end.

    server = start_postgres(folder)
    url = server.new_database()     # a fresh, empty database for one test
    ... server.stop()
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import os
import secrets
import signal
import subprocess
import time
from pathlib import Path

from tests.support.servers import ServerFailedToStart, ServerNotInstalled, free_port

START_TIMEOUT_SECONDS = 30.0
SUPERUSER = "postgres"


def _binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise ServerNotInstalled("PostgreSQL is not installed: apt-get install postgresql")
    return Path(found[-1]).parent


def _as_owner() -> list[str]:
    """The command prefix that runs a program as the cluster's owner."""
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", SUPERUSER, "--"]


def _let_owner_reach(folder: Path) -> None:
    """As root: the postgres user may traverse every folder down to `folder` (only ours,
    below the filesystem's top) and owns `folder` itself."""
    if os.geteuid() != 0:
        return
    import pwd

    owner = pwd.getpwnam(SUPERUSER)
    for parent in reversed(folder.parents):
        if parent == Path("/") or parent.parent == Path("/"):
            continue
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod((mode & 0o7777) | 0o001)
    os.chown(folder, owner.pw_uid, owner.pw_gid)


@dataclasses.dataclass
class PostgresServer:
    """A running cluster on 127.0.0.1:`port`."""

    port: int
    folder: Path
    process: subprocess.Popen[bytes]

    def url(self, database: str = "postgres", user: str = SUPERUSER) -> str:
        """A libpq URL for `database` as `user`, through the server's Unix socket (a
        register makes thousands of small queries in a test: the socket answers them faster
        than TCP on loopback)."""
        return (f"postgresql://{user}@/{database}?host={self.folder / 'sockets'}"
                f"&port={self.port}")

    def new_database(self, template: str | None = None) -> str:
        """A fresh database, empty or a copy of `template` (a database's name); its URL."""
        name = f"t_{secrets.token_hex(6)}"
        self.sql(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
        return self.url(name)

    def sql(self, statement: str, *, database: str = "postgres", user: str = SUPERUSER
            ) -> None:
        """Run one statement as `user` (autocommit)."""
        import psycopg

        with psycopg.connect(self.url(database, user), autocommit=True) as conn:
            conn.execute(statement)

    def require_passwords(self) -> None:
        """From now on, every login but the superuser's gives its password over TCP (SCRAM),
        as a real server asks; the superuser stays trusted, for the test's own set-up."""
        hba = self.folder / "data" / "pg_hba.conf"
        hba.write_text("local all all trust\n"
                       f"host all {SUPERUSER} 127.0.0.1/32 trust\n"
                       "host all all 127.0.0.1/32 scram-sha-256\n", encoding="utf-8")
        self.sql("SELECT pg_reload_conf()")

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


def start_postgres(folder: Path) -> PostgresServer:
    """initdb a cluster in `folder`/data and start it; ServerNotInstalled if PostgreSQL is
    not installed, ServerFailedToStart (with its log) if it does not come up."""
    binaries = _binaries()
    folder.mkdir(parents=True, exist_ok=True)
    _let_owner_reach(folder)
    data, sockets, log = folder / "data", folder / "sockets", folder / "server.log"
    for path in (sockets,):
        path.mkdir(exist_ok=True)
        _let_owner_reach(path)
    initdb = subprocess.run(
        [*_as_owner(), str(binaries / "initdb"), "-D", str(data), "-U", SUPERUSER,
         "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"],
        capture_output=True, text=True, check=False, timeout=120)
    if initdb.returncode != 0:
        raise ServerFailedToStart(f"initdb failed: {initdb.stderr or initdb.stdout}")
    port = free_port()
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [*_as_owner(), str(binaries / "postgres"), "-D", str(data), "-p", str(port),
             "-k", str(sockets), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
             "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
             "-c", "max_connections=200"],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    server = PostgresServer(port, folder, process)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            server.sql("SELECT 1")
            return server
        except Exception:
            time.sleep(0.2)
    server.stop()
    raise ServerFailedToStart(f"PostgreSQL did not start: {log.read_text(errors='replace')}")
