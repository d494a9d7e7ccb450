"""The register file: where it lives, who can read it, and how its schema moves forward."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from accessgov.db import migrations
from accessgov.db import sqlite as register
from accessgov.db.register import Register, default_path
from accessgov.errors import InputError


def test_the_default_register_lives_in_the_user_data_folder(isolated_environment: Path) -> None:
    expected = isolated_environment / ".local" / "share" / "accessgov" / "register.db"
    assert default_path({}) == str(expected)
    elsewhere = isolated_environment / "elsewhere.db"
    assert default_path({"ACCESSGOV_DB": "~/elsewhere.db"}) == str(elsewhere)


def test_init_without_db_creates_a_private_folder_and_file(isolated_environment: Path,
                                                           store: dict) -> None:
    from click.testing import CliRunner

    from accessgov.cli import cli
    from accessgov.cli.app import App
    from tests.support.memory_backend import MemoryBackend

    result = CliRunner().invoke(
        cli, ["init", "--org", "InterAct", "--backend", "vault", "--vault-url", "https://v"],
        obj=App(backend_factory=lambda config: MemoryBackend("x", store)))
    assert result.exit_code == 0, result.output
    db = isolated_environment / ".local" / "share" / "accessgov" / "register.db"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700


def test_the_register_uses_wal_and_foreign_keys(tmp_path: Path) -> None:
    reg = Register.create(tmp_path / "r.db")
    assert reg.value("PRAGMA journal_mode") == "wal"
    assert reg.value("PRAGMA foreign_keys") == 1
    assert reg.value("PRAGMA busy_timeout") == register.BUSY_TIMEOUT_MS
    with pytest.raises(sqlite3.IntegrityError), reg.transaction():
        reg.insert("grants", {"id": "G-0001", "num": 1, "person": "ghost", "account": "none",
                              "role": "admin", "reason": "x", "requested_by": "ghost",
                              "requested_at": "2026-01-01T00:00:00Z", "status": "pending"})


def test_a_version_1_register_gains_the_credential_tables(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "r.db"
    monkeypatch.setattr(register, "LATEST_VERSION", 1)
    Register.create(path).close()
    tables = [row["name"] for row in Register.open(path).rows("SELECT name FROM sqlite_master")]
    assert "people" in tables and "credentials" not in tables
    monkeypatch.undo()
    reg = Register.open(path)
    assert reg.schema_version == register.LATEST_VERSION
    assert reg.rows("SELECT * FROM credentials") == []


def test_an_older_register_is_read_as_is_and_migrated_forward_by_a_change(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "r.db"
    reg = Register.create(path)
    with reg.transaction():
        reg.set_setting("org", "InterAct")
    reg.close()

    def v2_add_a_column(db: object) -> None:
        db.table("people").add_column("pronouns", str)  # type: ignore[attr-defined]

    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, v2_add_a_column])
    monkeypatch.setattr(register, "LATEST_VERSION", len(migrations.MIGRATIONS))
    original = path.read_bytes()
    reg = Register.open(path)
    # Read through an up-to-date copy: the file itself is not written.
    assert reg.upgrade_pending == len(migrations.MIGRATIONS) - 1
    assert "pronouns" in [c["name"] for c in reg.rows("PRAGMA table_info(people)")]
    assert reg.setting("org") == "InterAct"
    assert path.read_bytes() == original
    with reg.transaction():  # the first change brings the file itself up to date
        reg.set_setting("org", "InterAct UK")
    reg.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(migrations.MIGRATIONS)
        assert "pronouns" in [row[1] for row in conn.execute("PRAGMA table_info(people)")]
        assert [r[0] for r in conn.execute("SELECT version FROM schema_history")] == list(
            range(1, len(migrations.MIGRATIONS) + 1))


def test_a_register_from_a_newer_accessgov_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    Register.create(path).execute("PRAGMA user_version = 99")
    with pytest.raises(InputError, match="newer accessgov"):
        Register.open(path)


def test_a_file_that_is_not_a_register_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("shopping list\n" * 100)
    with pytest.raises(InputError, match="not a usable accessgov register"):
        Register.open(path)


def test_another_sqlite_file_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "notes" / "notes.db"
    path.parent.mkdir()
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes(x)")
        conn.execute("INSERT INTO notes VALUES ('buy milk')")
    conn.close()
    original = path.read_bytes()
    with pytest.raises(InputError, match="is not an accessgov register"):
        Register.open(path)
    assert path.read_bytes() == original
    assert [p.name for p in path.parent.iterdir()] == ["notes.db"]  # no WAL switched on


def test_an_empty_file_is_not_a_register(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()
    with pytest.raises(InputError, match="is not an accessgov register"):
        Register.open(path)
    assert path.read_bytes() == b""


def test_reading_a_register_never_writes_to_it(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    reg = Register.create(path)
    with reg.transaction():
        reg.set_setting("org", "InterAct")
    reg.close()
    original = path.read_bytes()
    reg = Register.open(path)
    assert not reg.writable
    assert reg.setting("org") == "InterAct"
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        reg.execute("UPDATE settings SET value = 'x'")
    reg.close()
    assert path.read_bytes() == original


@pytest.mark.parametrize("folder", ["with space", "per%25cent", "what?mode=rw", "hash#tag",
                                    "Zo\u00eb's files"])
def test_a_register_opens_read_only_from_a_path_with_any_characters(tmp_path: Path,
                                                                    folder: str) -> None:
    """A read command opens the file by a `file:` URI (read-only): characters a URI gives a
    meaning to must still name this very file, and never turn into options."""
    path = tmp_path / folder / "r.db"
    reg = Register.create(path)
    with reg.transaction():
        reg.set_setting("org", "InterAct")
    reg.close()
    reg = Register.open(str(path))
    assert reg.setting("org") == "InterAct"
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        reg.execute("UPDATE settings SET value = 'x'")
    reg.close()
    assert not (tmp_path / "what").exists()
