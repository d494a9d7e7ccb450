"""A failure anywhere leaves nothing half-written: not in the register, not in the store."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import pytest

from accessgov.audit import chain as audit
from accessgov.errors import BackendUnavailable
from accessgov.workspace import Workspace
from tests.support.memory_backend import History, MemoryBackend
from tests.support.shell import Shell, dump, one_line_error


class FailingStore(MemoryBackend):
    """The shared test store, failing on one named operation (or every one)."""

    def __init__(self, store: dict[str, History], fail_on: str) -> None:
        super().__init__("interact", store)
        self.fail_on = fail_on

    def _enter(self, operation: str) -> None:
        super()._enter(operation)
        if self.fail_on in (operation, "everything"):
            raise BackendUnavailable(f"test: the store failed during {operation}")


def break_store(sh: Shell, store: dict, fail_on: str) -> None:
    sh.backend_factory = lambda config: FailingStore(store, fail_on)


def test_an_unreachable_store_refuses_changes_with_exit_4(org: Shell, store: dict) -> None:
    before = dump(org.db)
    break_store(org, store, "everything")
    result = org.run(f"grant add jdoe instagram-main --role editor --reason x "
                     f"{org.as_('vperkins')}", expect=4)
    assert "the store failed" in one_line_error(result)
    assert dump(org.db) == before


def test_logout_works_even_when_the_store_is_down(org: Shell, store: dict) -> None:
    org.run(f"login --as vperkins --otp {org.code('vperkins')}")
    break_store(org, store, "everything")
    org.run("logout", expect=4)
    break_store(org, store, "nothing")
    assert "No session is open" in org.run("whoami").stdout


def test_logout_with_the_store_down_ends_no_session_it_cannot_check(
        org: Shell, store: dict) -> None:
    """Without the store the token cannot be checked: the file goes (so the session cannot be
    used), the register's session stays open until it expires, and the user is told so."""
    org.run(f"login --as vperkins --otp {org.code('vperkins')}")
    before = dump(org.db)
    break_store(org, store, "everything")
    line = one_line_error(org.run("logout", expect=4))
    assert "the session file was removed, so session S-0001 cannot be used here" in line
    assert dump(org.db) == before
    assert not list(org.session_folder().iterdir())
    break_store(org, store, "nothing")
    assert org.run("logout").stdout == "No session was open.\n"
    result = org.run("person update jdoe --title Lead --as vperkins", expect=3)
    assert "needs vperkins's MFA" in one_line_error(result)


def test_read_commands_do_not_need_the_store(org: Shell, store: dict) -> None:
    break_store(org, store, "everything")
    org.run("grant list")
    org.run("person show jdoe")


def test_a_store_failure_while_writing_a_seed_records_nothing(org: Shell, store: dict) -> None:
    org.run(f'person add kim --name Kim --email k@example.org --category volunteer '
            f'{org.as_("vperkins")}')
    org.run(f"mfa enrol kim {org.as_('vperkins')}")  # the invitation
    before = dump(org.db)
    break_store(org, store, "write")
    org.run("mfa enrol kim --as kim", expect=4)
    assert dump(org.db) == before
    assert "interact/mfa/kim" not in store


def test_a_register_failure_after_the_store_write_undoes_the_write(
        org: Shell, store: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    org.run(f'person add kim --name Kim --email k@example.org --category volunteer '
            f'{org.as_("vperkins")}')
    org.run(f"mfa enrol kim {org.as_('vperkins')}")  # the invitation
    before = dump(org.db)

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(audit.AuditLog, "commit", disk_full)
    result = org.run("mfa enrol kim --as kim", expect=70)
    assert "unexpected error" in one_line_error(result)
    # The traceback went to this user's own state folder (inside the test's tmp_path here),
    # never to the shared temporary folder.
    state = Path(os.environ["XDG_STATE_HOME"]) / "accessgov"
    (written,) = state.glob("accessgov-error-*.txt")
    assert str(written) in result.stderr
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert "nothing was changed" in result.stderr
    assert dump(org.db) == before
    assert store["interact/mfa/kim"].versions == {}  # the seed written was discarded again


def test_init_against_an_unreachable_store_creates_no_register(tmp_path: Path,
                                                              store: dict) -> None:
    sh = Shell(tmp_path / "new" / "register.db", lambda config: FailingStore(store, "everything"))
    result = sh.run("init --org InterAct --backend vault --vault-url http://127.0.0.1:1",
                    expect=4)
    one_line_error(result)
    assert not sh.db.exists()


def test_two_writers_at_once_both_succeed(shell: Shell, store: dict) -> None:
    """BEGIN IMMEDIATE makes writers queue instead of failing half-way."""
    errors: list[BaseException] = []

    def add_people(prefix: str) -> None:
        workspace = Workspace(shell.db, env=os.environ, backend_factory=shell.backend_factory)
        from accessgov.access.people import add_person

        try:
            for n in range(15):
                workspace.change(lambda op, n=n: add_person(
                    op, f"{prefix}{n}", name=f"{prefix} {n}", email=f"{prefix}{n}@example.org",
                    category="volunteer"))
        except BaseException as error:
            errors.append(error)
        finally:
            workspace.close()

    threads = [threading.Thread(target=add_people, args=(prefix,)) for prefix in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(dump(shell.db)["people"]) == 30
    assert "intact: 31 events" in shell.run("audit verify").stdout


def test_mfa_reset_never_leaves_the_register_claiming_a_seed_the_store_lost(
        org: Shell, store: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    """The seed is deleted only after the register has let go of it: a crash before the
    commit keeps both; a store failure after it leaves an unused seed, and says so."""
    org.enrol("jdoe", by="vperkins")
    seed_versions = dict(store["interact/mfa/jdoe"].versions)

    def crash(*args: object, **kwargs: object) -> None:
        raise OSError(5, "Input/output error")

    with monkeypatch.context() as patch:  # the process dies before COMMIT
        patch.setattr(audit.AuditLog, "commit", crash)
        before = dump(org.db)
        org.run(f"mfa reset jdoe --reason lost {org.as_('vperkins')}", expect=70)
        assert dump(org.db) == before
        assert store["interact/mfa/jdoe"].versions == seed_versions

    break_store(org, store, "delete")  # the store fails just after COMMIT
    result = org.run(f"mfa reset jdoe --reason lost {org.as_('vperkins')}")
    assert "Warning: test: the store failed during delete" in result.stderr
    assert "jdoe" not in [row[0] for row in dump(org.db)["mfa"]]
    assert "interact/mfa/jdoe" in store  # left behind, unused; the next enrolment replaces it
    break_store(org, store, "nothing")
    org.enrol("jdoe", by="vperkins")
    assert json.loads(org.run("person show jdoe --format json").stdout)["mfa"]["status"] == \
        "confirmed"
