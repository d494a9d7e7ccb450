"""A TCP proxy in front of a real OpenBao that fails at one exact HTTP request.

    proxy = FlakyProxy(openbao.url)        # listens on a free loopback port: proxy.url
    proxy.fail_at(2, "die")                # requests 0 and 1 pass, then OpenBao "dies"
    ... run accessgov with --vault-url proxy.url ...
    proxy.revive()                         # OpenBao is back, on the same address
    proxy.close()

How requests are counted (robustly, whatever the client does with keep-alive): the proxy
parses the HTTP/1.1 stream of every client connection itself: the request head up to the
blank line, then the body by Content-Length or by chunked framing. Each request is counted
(index 0, 1, 2 ... since the last `fail_at`/`revive`) as soon as it has been read whole,
before anything is forwarded. Every request is then sent to OpenBao on a fresh upstream
connection with `Connection: close`, and the answer is read to its end; the proxy removes that
`Connection: close` from the answer again (Vault always frames its answers by Content-Length
or chunking), so the *client's* connection stays keep-alive exactly as it would against
OpenBao itself. So the client's connection pooling and its retry logic are exercised as they
are in real life, while the proxy always knows which request is which, and a request that
the proxy lets through has been fully processed by OpenBao before the proxy decides what to
do with its answer.

Faults (the request at index n; earlier requests pass untouched):

- ``die``: request n never reaches OpenBao. The proxy goes down at that moment: the client's
  connection is reset, every other open connection is closed, and new connections are
  refused (the port is closed), as when the server process dies.
- ``die-after-commit``: request n is forwarded and OpenBao carries it out; then its answer is
  lost and the proxy goes down as above: the server died after doing the work and before
  answering.
- ``drop``: request n alone never reaches OpenBao (its connection is reset); everything
  before and after passes: a network blip.
- ``drop-answer``: request n is carried out by OpenBao but its answer is lost (connection
  reset); everything else passes.

`hold_at(n)` makes request n wait at the proxy, before it is forwarded, until `release()`:
`held` is set while it waits, so a test can kill the real server at that exact point. After
`release()` the request is forwarded; if the upstream is dead, the client's connection is
reset (and every later request meets the same fate until the upstream answers again).
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
import time
import urllib.parse
from types import TracebackType
from typing import Literal, get_args

FaultKind = Literal["die", "die-after-commit", "drop", "drop-answer"]
FAULTS: tuple[str, ...] = get_args(FaultKind)
_HOP_BY_HOP = (b"connection", b"keep-alive", b"proxy-connection")


class FlakyProxy:
    """A loopback HTTP/1.1 proxy for one upstream (plain http only)."""

    def __init__(self, upstream_url: str) -> None:
        parts = urllib.parse.urlsplit(upstream_url)
        if parts.scheme != "http" or not parts.hostname or not parts.port:
            raise ValueError(f"FlakyProxy needs an http://host:port upstream, not {upstream_url}")
        self._upstream = (parts.hostname, parts.port)
        self._lock = threading.Lock()
        self._clients: set[socket.socket] = set()
        self._count = 0
        self._fault: tuple[int, str] | None = None
        self._hold: int | None = None
        self._released = threading.Event()
        self._closed = False
        self.held = threading.Event()
        self.log: list[str] = []  # "METHOD /v1/path" of every request counted since the reset
        self._listener: socket.socket | None = self._listen(0)
        self.port: int = self._listener.getsockname()[1]
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True,
                                          name="flaky-proxy-accept")
        self._acceptor.start()

    # -- control ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The address to give accessgov instead of OpenBao's."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def down(self) -> bool:
        """True after a `die` fault, until `revive()`."""
        return self._listener is None

    def fail_at(self, index: int, fault: FaultKind) -> None:
        """Arm `fault` for request `index`, counting from 0 again now."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; choose one of {FAULTS}")
        with self._lock:
            self._count, self._fault, self._hold = 0, (index, fault), None
            self.log = []

    def hold_at(self, index: int) -> None:
        """Make request `index` (counting from 0 again now) wait until `release()`."""
        with self._lock:
            self._count, self._fault, self._hold = 0, None, index
            self.log = []
        self.held.clear()
        self._released.clear()

    def release(self) -> None:
        """Let a held request go on."""
        self._released.set()

    def revive(self) -> None:
        """Healthy again, listening on the same port; the request count starts from 0."""
        with self._lock:
            self._count, self._fault, self._hold = 0, None, None
            self.log = []
            if self._listener is None:
                self._listener = self._listen(self.port)
        self._released.set()

    def close(self) -> None:
        """Stop listening and drop every connection (safe to call twice)."""
        self._closed = True
        self._released.set()
        self._go_down()
        self._acceptor.join(timeout=5)

    def __enter__(self) -> FlakyProxy:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    # -- the connections ----------------------------------------------------------------

    @staticmethod
    def _listen(port: int) -> socket.socket:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(64)
        return listener

    def _go_down(self) -> None:
        """Close the port (new connections are refused) and every open connection."""
        with self._lock:
            listener, self._listener = self._listener, None
            clients = list(self._clients)
        if listener is not None:
            # shutdown() first: it stops the listening at once even while the accept thread's
            # select() still holds the socket open (close() alone would wait for that).
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        for client in clients:  # wakes the thread serving it, which then resets it
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)

    def _accept_loop(self) -> None:
        while not self._closed:
            listener = self._listener
            if listener is None:
                time.sleep(0.02)
                continue
            try:
                ready, _, _ = select.select([listener], [], [], 0.02)
                if not ready:
                    continue
                client, _ = listener.accept()
            except (OSError, ValueError):  # closed under us by _go_down
                continue
            with self._lock:
                if self._listener is None:
                    _reset(client)
                    continue
                self._clients.add(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True,
                             name="flaky-proxy-conn").start()

    def _serve(self, client: socket.socket) -> None:
        buffer, outcome = b"", "reset"
        try:
            while True:
                request = _read_request(client, buffer)
                if request is None:
                    outcome = "close"  # the client hung up between requests
                    return
                head, body, buffer = request
                outcome = self._pass_one(client, head, body)
                if outcome != "keep":
                    return
        except OSError:
            outcome = "reset"
        finally:
            with self._lock:
                self._clients.discard(client)
            if outcome == "close":  # an orderly end: the answer already sent must arrive
                with contextlib.suppress(OSError):
                    client.shutdown(socket.SHUT_WR)
                client.close()
            else:
                _reset(client)

    def _pass_one(self, client: socket.socket, head: bytes, body: bytes) -> str:
        """Handle one request: "keep" the client's connection, "close" it, or "reset" it."""
        with self._lock:
            index = self._count
            self._count += 1
            self.log.append(" ".join(head.split(b"\r\n", 1)[0].decode("latin-1").split()[:2]))
            fault = self._fault[1] if self._fault and self._fault[0] == index else None
            hold = self._hold == index
            if self._listener is None:
                return "reset"  # already down
        if hold:
            self.held.set()
            self._released.wait(timeout=60)
        if fault in ("die", "drop"):
            if fault == "die":
                self._go_down()
            return "reset"
        try:
            answer, keep_open = _forward(self._upstream, head, body)
        except OSError:
            return "reset"  # the upstream is dead: the client sees its connection reset
        if fault in ("die-after-commit", "drop-answer"):
            if fault == "die-after-commit":
                self._go_down()
            return "reset"
        client.sendall(answer)
        return "keep" if keep_open and not _wants_close(head) else "close"


# -- HTTP/1.1, just enough ----------------------------------------------------------------


def _reset(sock: socket.socket) -> None:
    """Close with a TCP reset, as a dying server's kernel does."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


def _recv_more(sock: socket.socket, buffer: bytes) -> bytes:
    chunk = sock.recv(65536)
    if not chunk:
        raise ConnectionResetError("peer closed mid-message")
    return buffer + chunk


def _read_request(sock: socket.socket, buffer: bytes) -> tuple[bytes, bytes, bytes] | None:
    """(head without the blank line, body as sent, what follows) or None at a clean EOF."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        buffer += chunk
    head, _, rest = buffer.partition(b"\r\n\r\n")
    headers = _headers(head)
    if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
        body, rest = _read_chunked(sock, rest)
    else:
        length = int(headers.get(b"content-length", b"0") or 0)
        while len(rest) < length:
            rest = _recv_more(sock, rest)
        body, rest = rest[:length], rest[length:]
    return head, body, rest


def _read_chunked(sock: socket.socket, rest: bytes) -> tuple[bytes, bytes]:
    """A chunked body exactly as sent (sizes, data and trailers), and what follows it."""
    position = 0
    while True:
        while b"\r\n" not in rest[position:]:
            rest = _recv_more(sock, rest)
        line_end = rest.index(b"\r\n", position)
        size = int(rest[position:line_end].split(b";")[0].strip() or b"0", 16)
        position = line_end + 2
        if size == 0:
            while b"\r\n\r\n" not in rest[position - 2:]:
                rest = _recv_more(sock, rest)
            end = rest.index(b"\r\n\r\n", position - 2) + 4
            return rest[:end], rest[end:]
        while len(rest) < position + size + 2:
            rest = _recv_more(sock, rest)
        position += size + 2


def _headers(head: bytes) -> dict[bytes, bytes]:
    fields = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        fields[name.strip().lower()] = value.strip()
    return fields


def _wants_close(head: bytes) -> bool:
    return _headers(head).get(b"connection", b"").lower() == b"close"


def _without_hop_by_hop(head: bytes) -> list[bytes]:
    lines = head.split(b"\r\n")
    return [lines[0], *(line for line in lines[1:]
                        if line.partition(b":")[0].strip().lower() not in _HOP_BY_HOP)]


def _forward(upstream: tuple[str, int], head: bytes, body: bytes) -> tuple[bytes, bool]:
    """Send one request upstream with `Connection: close`; (the answer, keep client open)."""
    request = b"\r\n".join([*_without_hop_by_hop(head), b"Connection: close"]) + b"\r\n\r\n"
    with socket.create_connection(upstream, timeout=30) as server:
        server.sendall(request + body)
        answer = b""
        while chunk := server.recv(65536):
            answer += chunk
    answer_head, separator, answer_body = answer.partition(b"\r\n\r\n")
    if not separator:
        raise ConnectionResetError("the upstream closed before a whole answer")
    fields = _headers(answer_head)
    status = int(answer_head.split(b" ", 2)[1])
    framed = (b"content-length" in fields or b"chunked" in fields.get(b"transfer-encoding", b"")
              or status in (204, 304) or 100 <= status < 200
              or head.startswith(b"HEAD "))
    if not framed:  # delimited by the end of the connection: the client's must end too
        return answer, False
    return b"\r\n".join(_without_hop_by_hop(answer_head)) + b"\r\n\r\n" + answer_body, True
