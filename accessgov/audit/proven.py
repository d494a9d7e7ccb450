"""What this computer's last `audit verify` proved of a signed log, kept so that the next one
checks only the signatures made since (Ed25519 checks are most of a signed log's verify).

The record names a head (seq and mac) and a digest of every signature up to it
(accessgov.audit.chain.Proven). It saves work, never trust: the next verify still recomputes
the whole chain, and relies on the record only where the log recomputes to the same head with
the same signatures; anything else, and the signatures are checked again. It lives in the
user's own state folder (0700, the file 0600): someone who can write there is that user.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from accessgov.audit.chain import Proven
from accessgov.db.register import DatabaseUrl, Location


def record_file(folder: Path, register: Location) -> Path:
    """Where the record for `register` is kept in `folder`."""
    name = register.url if isinstance(register, DatabaseUrl) else str(register.resolve())
    return folder / f"verified-{hashlib.sha256(name.encode()).hexdigest()[:24]}.json"


def load(path: Path) -> Proven | None:
    """The record at `path`, or None if there is none or it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        proven = Proven(int(data["seq"]), str(data["mac"]), str(data["signatures"]))
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return None
    return proven if proven.seq > 0 else None


def save(path: Path, proven: Proven) -> None:
    """Keep `proven` at `path` (0600 in a 0700 folder), replacing the record before; a
    record that cannot be written is only work the next verify does again."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"seq": proven.seq, "mac": proven.mac,
                       "signatures": proven.signatures}, handle)
        os.replace(partial, path)
    except OSError:
        return
