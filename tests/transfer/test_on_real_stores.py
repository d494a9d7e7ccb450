"""Import and offboarding through the real program on a real OpenBao: a progress bar on a
terminal (and none when piped), and a leaver's MFA seed gone from the store."""

from __future__ import annotations

import os
import pty
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import servers
from tests.support.terminal import Terminal, terminal

pytestmark = pytest.mark.integration


def _set_up(tmp_path: Path, openbao: servers.OpenBaoServer) -> tuple[Terminal, str]:
    slug = f"interact-{secrets.token_hex(4)}"
    term = terminal(tmp_path)
    term.run(f"init --org InterAct --slug {slug} --backend vault --vault-url {openbao.url}")
    term.run('person add vperkins --name "Vickie Perkins" --email v@example.org --category ceo')
    term.enrol("vperkins")
    term.run(f"login --as vperkins --otp {term.code('vperkins')}")
    return term, slug


def _on_a_terminal(term: Terminal, command: list[str]) -> tuple[int, str, str]:
    """Run accessgov with stderr on a pseudo-terminal; (exit code, stdout, what the terminal
    showed)."""
    controller, device = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "accessgov", "--db", str(term.db), *command],
        env=term.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=device)
    os.close(device)
    shown = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the program has closed its end
            break
        if not chunk:
            break
        shown += chunk
    stdout = process.stdout.read() if process.stdout else b""
    process.wait(timeout=120)
    os.close(controller)
    return process.returncode, stdout.decode(), shown.decode(errors="replace")


def test_a_long_import_shows_progress_only_on_a_terminal(
        tmp_path: Path, openbao: servers.OpenBaoServer) -> None:
    term, _ = _set_up(tmp_path, openbao)
    people = tmp_path / "people.csv"
    people.write_text("id,name,email,category\n" + "".join(
        f"p{n:05d},Person {n},p{n}@example.org,volunteer\n" for n in range(3000)),
        encoding="utf-8")
    code, stdout, shown = _on_a_terminal(term, ["import", str(people), "--kind", "people"])
    assert code == 0, shown
    assert "Importing" in shown and "100%" in shown
    assert "3,000 rows read" in stdout
    more = tmp_path / "more.csv"
    more.write_text("id,name,email,category\nq1,Q One,q@example.org,volunteer\n",
                    encoding="utf-8")
    piped = term.run(f"import {more} --kind people")
    assert piped.stderr == ""  # nothing drawn when stderr is not a terminal


def test_offboarding_removes_the_leavers_seed_from_openbao(
        tmp_path: Path, openbao: servers.OpenBaoServer) -> None:
    term, slug = _set_up(tmp_path, openbao)
    term.run('person add jdoe --name "Jo Doe" --email j@example.org --category employee')
    term.enrol("jdoe", invited=True)
    path = f"accessgov/{slug}/mfa/jdoe"
    bao = ["bao", "kv", "get", "-mount=secret", path]
    environment = {**os.environ, **openbao.env}
    assert subprocess.run(bao, env=environment, capture_output=True).returncode == 0
    result = term.run("offboard start jdoe")
    assert "O-0001: jdoe has left" in result.stdout
    gone = subprocess.run(bao, env=environment, capture_output=True, text=True)
    assert gone.returncode != 0 and "No value found" in gone.stdout + gone.stderr
    assert "intact" in term.run("audit verify").stdout
