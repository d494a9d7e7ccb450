"""`pip install .` (what `pipx install .` runs) gives a working `accessgov` on PATH.

The project is copied into this test's folder (a build writes build/ and *.egg-info beside
the sources) and installed, not editable, into a new virtualenv there. The new virtualenv
borrows the test virtualenv's installed dependencies through a .pth line, so only the build
backend is fetched (from the package index, as `make test` itself installs) and the test
takes seconds; what it proves is the packaging: the wheel builds, holds the package data,
and its console script runs from outside the source tree.
"""

from __future__ import annotations

import shutil
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

PROJECT = Path(__file__).resolve().parents[2]


def test_pip_install_gives_a_working_accessgov(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(PROJECT / name, source / name)
    shutil.copytree(PROJECT / "accessgov", source / "accessgov",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    target = tmp_path / "venv"
    venv.create(target, with_pip=True)
    python = target / "bin" / "python"
    packages = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True).stdout.strip()
    # Only the dependencies: a plain path line, so the test venv's own .pth files (its
    # editable accessgov) are not processed.
    (Path(packages) / "borrowed-dependencies.pth").write_text(
        "\n".join(site.getsitepackages()) + "\n")
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps",
         "--disable-pip-version-check", str(source)],
        capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path)
    assert install.returncode == 0, install.stderr
    program = target / "bin" / "accessgov"
    version = subprocess.run([str(program), "--version"], capture_output=True, text=True,
                             check=False, cwd=tmp_path, timeout=60)
    assert version.returncode == 0 and version.stdout.startswith("accessgov, version")
    where = subprocess.run(
        [str(python), "-c", "import accessgov, accessgov.access.catalogue as c; "
         "print(accessgov.__file__); print(c.platform('instagram').name)"],
        capture_output=True, text=True, check=True, cwd=tmp_path).stdout.split()
    assert where[0].startswith(packages) and where[1] == "Instagram"
    # The JSON Schemas ship inside the package: the import reads its own, `schema` prints them.
    template = subprocess.run([str(program), "import", "template", "--kind", "people"],
                              capture_output=True, text=True, check=False, cwd=tmp_path,
                              timeout=60)
    assert template.returncode == 0 and template.stdout.startswith("id,name,email,category")
    schema = subprocess.run([str(program), "schema", "grant-list"], capture_output=True,
                            text=True, check=False, cwd=tmp_path, timeout=60)
    assert schema.returncode == 0 and '"$schema"' in schema.stdout
    assert sys.executable  # the test venv itself is untouched: nothing was installed in it
