"""The `accessgov` program with the test's memory store among its backends.

`python -m tests.support.memory_cli ARGS...` is `accessgov ARGS...` in a subprocess of its
own (for tests that run the real program, under `faketime` for instance) whose register may
keep its secrets in a JSON file: `init --backend memory --memory-file F`.
"""

from __future__ import annotations

import sys

from accessgov.cli import cli
from accessgov.cli.app import App
from tests.support.memory_backend import WITH_MEMORY

if __name__ == "__main__":
    cli.main(args=sys.argv[1:], obj=App(backend_factory=WITH_MEMORY), prog_name="accessgov")
