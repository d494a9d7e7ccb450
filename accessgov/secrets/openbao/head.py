"""The chain head: the newest audit event's sequence and digest, kept in OpenBao's KV v2 at
`<prefix>/<org>/audit/head` and moved with check-and-set by every change.

A register file can be copied back from last week, but OpenBao's KV versions only go up and
operators may not delete or destroy this record's versions (see `policies`): so a register
whose newest event is older than the head has been rolled back, and two changes that raced
for the same head see a VersionConflict instead of forking the chain. Since every operator
may write the head, its content alone does not stop an insider writing an old head back; the
KV version the register's newest event wrote does (`standing`'s `recorded_version`).
"""

from __future__ import annotations

import dataclasses
import enum
from typing import TYPE_CHECKING, Any

from accessgov.errors import Tampered
from accessgov.secrets.base import VersionConflict
from accessgov.secrets.openbao.layout import HEAD_PATH, Layout

# The client (http.client and ssl, ~25 ms) is imported where it is used: a register in the
# keyring reads `Head` and `RolledBack` from here on every change, and never talks to OpenBao.
if TYPE_CHECKING:
    from accessgov.secrets.openbao.client import OpenBaoClient

_CAS_MISMATCH = "check-and-set parameter did not match"


class RolledBack(Tampered):
    """The register is behind (or beside) the chain head in OpenBao: restored or forked."""


@dataclasses.dataclass(frozen=True)
class Head:
    """The newest event of the audit chain, as the change that wrote it saw it."""

    sequence: int
    digest: str
    actor: str = ""
    signature: str = ""  # the actor's signature over the event, if the caller keeps it here


@dataclasses.dataclass(frozen=True)
class StoredHead:
    """The head record and its KV version (0: never written, the check-and-set for a first
    write). `head` is None if it was never written, or was deleted by an administrator."""

    head: Head | None
    version: int


class Standing(enum.Enum):
    """Where a register stands against the head in OpenBao."""

    FIRST = "no head yet"  # nothing was ever written: a new register
    SAME = "at the head"
    AHEAD = "ahead of the head"  # events the head has not seen: a head write was lost
    BEHIND = "behind the head"  # the register was rolled back
    FORKED = "beside the head"  # same sequence, another event: a fork
    ERASED = "the head was deleted"  # only an administrator can delete it


def read_head(client: OpenBaoClient, layout: Layout) -> StoredHead:
    """The head record and its KV version: one GET."""
    status, body = client.request("GET", layout.kv_data(HEAD_PATH))
    data = (body or {}).get("data") or {}
    if status == 200:
        return StoredHead(_head_of(data.get("data") or {}), int(data["metadata"]["version"]))
    if status == 404 and body is not None and not body.get("errors"):
        # A version that was deleted or destroyed still names itself in the metadata.
        return StoredHead(None, int((data.get("metadata") or {}).get("version") or 0))
    raise client.failure(status, body, "reading the chain head")


def write_head(client: OpenBaoClient, layout: Layout, head: Head, expect_version: int) -> int:
    """Store `head` as the next version if the current one is `expect_version`; the new
    version. VersionConflict if another change moved the head first."""
    from accessgov.secrets.openbao.client import OpenBaoError

    try:
        body = client.write(layout.kv_data(HEAD_PATH), {
            "options": {"cas": expect_version},
            "data": dataclasses.asdict(head),
        }, what="moving the chain head")
    except OpenBaoError as error:
        if error.status != 400 or _CAS_MISMATCH not in error.detail:
            raise
        # The answer to our own write may be what was lost (a retried request): if so, the
        # version after ours holds exactly our record.
        current = read_head(client, layout)
        if current.version == expect_version + 1 and current.head == head:
            return current.version
        raise VersionConflict(
            f"the chain head in OpenBao is at version {current.version}, not {expect_version}:"
            " another change was recorded at the same time; look again and retry") from None
    return int((body.get("data") or {})["version"])


def standing(stored: StoredHead, sequence: int, digest: str,
             recorded_version: int | None = None) -> Standing:
    """Where a register whose newest event is (`sequence`, `digest`) stands against `stored`.

    Every operator may write the head, so an insider could write an old (sequence, digest)
    back as a new version. Its KV version still goes up, and no operator can make it go
    down: give `recorded_version`, the KV version the register's newest event wrote (a
    check-and-set write of version V makes exactly V + 1), and a head moved by anyone since
    shows as BEHIND whatever its content says.
    """
    head = stored.head
    if head is None:
        return Standing.FIRST if stored.version == 0 else Standing.ERASED
    if recorded_version is not None and stored.version != recorded_version:
        return Standing.BEHIND if stored.version > recorded_version else Standing.AHEAD
    if sequence == head.sequence:
        return Standing.SAME if digest == head.digest else Standing.FORKED
    return Standing.AHEAD if sequence > head.sequence else Standing.BEHIND


def check_not_rolled_back(stored: StoredHead, sequence: int, digest: str,
                          recorded_version: int | None = None) -> Standing:
    """`standing`, or RolledBack if the register is behind, beside, or the head was erased."""
    found = standing(stored, sequence, digest, recorded_version)
    if found in (Standing.BEHIND, Standing.FORKED, Standing.ERASED):
        at = (f"event {stored.head.sequence}, version {stored.version}" if stored.head
              else f"version {stored.version}")
        raise RolledBack(
            f"the register's newest event is {sequence}, but OpenBao's chain head is at {at}"
            f" ({found.value}): this register was restored from an older copy or changed behind"
            " the log; nothing in it can be trusted until it is reconciled")
    return found


def _head_of(data: dict[str, Any]) -> Head | None:
    try:
        return Head(sequence=int(data["sequence"]), digest=str(data["digest"]),
                    actor=str(data.get("actor") or ""),
                    signature=str(data.get("signature") or ""))
    except (KeyError, TypeError, ValueError):
        return None
