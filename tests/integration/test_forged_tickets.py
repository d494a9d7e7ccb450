"""The two forged-ticket attacks of issue 15, through the real program against real OpenBao:
a session file naming the CEO's session with a made-up token, then `logout` or one's own
`login`. Both are refused and recorded as someone unknown's; the CEO's session stays open."""

from __future__ import annotations

import json
import secrets
import sqlite3
from pathlib import Path

import pytest

from accessgov.identity import sessions
from tests.support import servers
from tests.support.terminal import Terminal, terminal

pytestmark = pytest.mark.integration


def session_rows(term: Terminal) -> list[tuple[object, ...]]:
    with sqlite3.connect(term.db) as conn:
        rows = conn.execute("SELECT * FROM sessions ORDER BY id").fetchall()
    conn.close()
    return rows


def forge(term: Terminal, device: str) -> Path:
    """The insider's own session file, naming the CEO's session S-0001."""
    folder = Path(term.device_env(device)["XDG_RUNTIME_DIR"]) / "accessgov"
    return sessions.write_ticket(folder, sessions.Ticket(
        str(term.db.resolve()), "vperkins", "S-0001", "made-up-by-the-insider"))


def assert_refused_as_unknown(term: Terminal, command: str, device: str) -> None:
    before = session_rows(term)
    result = term.run(command, device=device, expect=3)
    (line,) = result.stderr.strip().splitlines()  # one line, no traceback
    assert "claims vperkins's session S-0001, but its token does not match" in line
    assert session_rows(term) == before
    event = json.loads(term.run("audit log --format json").stdout)[-1]
    assert (event["actor"], event["action"], event["subject"]) == ("unknown", "refused",
                                                                   "S-0001")
    assert event["details"]["claimed_person"] == "vperkins"


def test_forged_tickets_end_no_session_on_openbao(tmp_path: Path,
                                                   openbao: servers.OpenBaoServer) -> None:
    term = terminal(tmp_path)
    term.run(f"init --org InterAct --slug interact-{secrets.token_hex(4)} --backend vault "
             f"--vault-url {openbao.url}")
    term.run('person add vperkins --name "Vickie Perkins" --email v@example.org --category ceo')
    term.enrol("vperkins")
    term.run(f"login --as vperkins --otp {term.code('vperkins')}")
    term.run('person add spatel --name "Sonal Patel" --email s@example.org --category trustee '
             '--board-minute "BM 2026/01 item 2"')
    term.enrol("spatel", invited=True)

    ticket = forge(term, "spatel")
    assert_refused_as_unknown(term, "logout", "spatel")
    assert not ticket.exists()
    forge(term, "spatel")
    assert_refused_as_unknown(term, f"login --as spatel --otp {term.code('spatel')}", "spatel")

    whoami = json.loads(term.run("whoami --format json").stdout)
    assert (whoami["person"], whoami["session"]) == ("vperkins", "S-0001")
    term.run('person add jdoe --name "Jo Doe" --email j@example.org --category employee')
    assert "intact" in term.run("audit verify").stdout
