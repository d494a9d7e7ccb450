"""Type commands at a real terminal (a pseudo-terminal), as a person does, and answer prompts.

Each command runs through `bash -c`, exactly as written, in a new session whose controlling
terminal is the pty: stdin and stdout are terminals (so accessgov asks for codes and draws
QR codes), and hidden prompts read the terminal itself, with echo off, as getpass does.
"""

from __future__ import annotations

import dataclasses
import fcntl
import os
import pty
import re
import select
import signal
import struct
import termios
import time
from collections.abc import Callable

# A prompt waiting for an answer: the text since the last answer ends with it.
Answer = Callable[[str], str | None]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclasses.dataclass
class Typed:
    """One command at the terminal: what it was, its exit code, and the screen's text."""

    command: str
    exit_code: int
    screen: str


def run_at_terminal(command: str, env: dict[str, str], answer: Answer, *,
                    timeout: float = 120, columns: int = 100) -> Typed:
    """Run `command` with bash on a new pseudo-terminal; `answer(text_so_far)` returns a line
    to type when the program waits for one (None: keep waiting)."""
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child becomes bash
        try:
            os.execvpe("bash", ["bash", "--noprofile", "--norc", "-c", command], env)
        finally:
            os._exit(127)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    screen, answered_at = b"", 0
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                raise TimeoutError(f"{command!r} still running after {timeout} s:\n"
                                   f"{screen.decode(errors='replace')}")
            ready, _, _ = select.select([fd], [], [], min(left, 0.5))
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the program ended and closed the terminal
                break
            if not chunk:
                break
            screen += chunk
            reply = answer(plain(screen[answered_at:].decode(errors="replace")))
            if reply is not None:
                os.write(fd, reply.encode() + b"\r")
                answered_at = len(screen)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return Typed(command, os.waitstatus_to_exitcode(status),
                 plain(screen.decode(errors="replace")))


def plain(text: str) -> str:
    """Terminal output as text: no colour codes, \\n line ends."""
    return ANSI.sub("", text).replace("\r\n", "\n").replace("\r", "\n")
