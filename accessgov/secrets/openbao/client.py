"""A small, fast OpenBao client: the standard library's http.client over one keep-alive
connection, JSON in and out, and every failure turned into one plain line.

Every register change signs, asks the server's time and moves the chain head: three or four
calls, each well under a millisecond on loopback, where `import hvac` alone (it pulls in
requests) would cost more than a whole `bao kv get`. So nothing here imports hvac.

Failures: OpenBao's 401 and 403 become `OpenBaoRefused` (exit 3: the token has expired, was
revoked or disabled, or its policy does not allow this); everything else that is not a success
becomes `OpenBaoError` (exit 4), which keeps the status and OpenBao's detail so that callers
can tell a check-and-set conflict or a wrong password apart. Failing to talk to OpenBao at all
is `BackendUnavailable` in the words the vault backend uses.
"""

from __future__ import annotations

import http.client
import json
import re
import ssl
import urllib.parse
from typing import Any

from accessgov.errors import BackendUnavailable, Refused
from accessgov.secrets.vault import transport_message

# Seconds to wait for OpenBao to connect or answer: a person is waiting at a prompt.
TIMEOUT_SECONDS = 5.0

_MULTIERROR_HEADING = re.compile(r"\d+ errors? occurred:")
_RETRYABLE = (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected)


class OpenBaoRefused(Refused):
    """OpenBao refused the token for this request (HTTP 401 or 403)."""

    def __init__(self, message: str, status: int, detail: str) -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail


class OpenBaoError(BackendUnavailable):
    """OpenBao answered, but not with a success (sealed, no such engine, bad request ...)."""

    def __init__(self, message: str, status: int, detail: str) -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail


class OpenBaoClient:
    """Calls to one OpenBao server (and namespace) with one token, over one connection.

    `with_token` gives a client for another token that shares the connection, so a login
    followed by work with the new token opens one TCP connection only.
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        namespace: str | None = None,
        cacert: str | None = None,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self.url = url.rstrip("/")
        self.namespace = namespace.strip("/") if namespace else None
        self._token = token
        self._link = _Link(self.url, cacert, timeout)

    def with_token(self, token: str | None) -> OpenBaoClient:
        """A client for `token` on the same server, namespace and connection."""
        other = OpenBaoClient.__new__(OpenBaoClient)
        other.url, other.namespace, other._token, other._link = \
            self.url, self.namespace, token, self._link
        return other

    def close(self) -> None:
        """Close the connection (the next call opens a new one)."""
        self._link.close()

    # -- calls that succeed or raise --------------------------------------------------------

    def read(self, path: str, *, what: str, missing_ok: bool = False) -> dict[str, Any] | None:
        """GET `path`; its JSON body, or None for a 404 when `missing_ok`."""
        status, body = self.request("GET", path)
        if status == 404 and missing_ok and not no_route(body):
            return None
        return self._success(status, body, what)

    def write(self, path: str, data: dict[str, Any] | None = None, *, what: str,
              headers: dict[str, str] | None = None) -> dict[str, Any]:
        """POST `data` to `path`; its JSON body ({} for 204)."""
        status, body = self.request("POST", path, data if data is not None else {}, headers)
        return self._success(status, body, what)

    def list(self, path: str, *, what: str) -> list[str]:
        """LIST `path`: its keys ([] if there are none)."""
        status, body = self.request("LIST", path)
        if status == 404 and not no_route(body):
            return []
        keys = (self._success(status, body, what).get("data") or {}).get("keys") or []
        return [key for key in keys if isinstance(key, str)]

    def delete(self, path: str, *, what: str) -> None:
        """DELETE `path`."""
        status, body = self.request("DELETE", path)
        self._success(status, body, what)

    # -- the transport --------------------------------------------------------------------

    def request(self, method: str, path: str, data: dict[str, Any] | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any] | None]:
        """One call: (status, parsed JSON body or None if the body is not JSON)."""
        sent = {"Accept": "application/json"}
        if self._token:
            sent["X-Vault-Token"] = self._token
        if self.namespace:
            sent["X-Vault-Namespace"] = self.namespace
        payload = None
        if data is not None:
            payload = json.dumps(data).encode()
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        path, _, query = path.partition("?")
        target = f"/v1/{urllib.parse.quote(path.strip('/'))}" + (f"?{query}" if query else "")
        status, raw = self._link.exchange(method, target, payload, sent)
        return status, _json_object(raw)

    def _success(self, status: int, body: dict[str, Any] | None, what: str) -> dict[str, Any]:
        if status in (200, 204) and body is not None:
            return body
        raise self.failure(status, body, what)

    def failure(self, status: int, body: dict[str, Any] | None,
                what: str) -> OpenBaoRefused | OpenBaoError:
        """The error for an answer that is not a success; `what` names the request in words
        ("signing as alice") for the message."""
        if body is None:
            return OpenBaoError(
                f"OpenBao at {self.url} answered HTTP {status} with something that is not"
                " OpenBao's JSON: check the address and its scheme (http or https)", status, "")
        detail = detail_of(body)
        if status in (401, 403):
            return OpenBaoRefused(
                f"OpenBao refused {what} ({detail or 'permission denied'}): the token has"
                " expired, been revoked or disabled, or its policy does not allow this",
                status, detail)
        if status == 503 and ("sealed" in detail.lower() or body.get("sealed") is True):
            message = f"OpenBao at {self.url} is sealed: unseal it ('bao operator unseal')"
        elif status == 404 and no_route(body):
            message = (f"OpenBao has no engine for {what} ({detail}): run accessgov's OpenBao"
                       " set-up with an administrator's token")
        elif status == 429:
            message = f"OpenBao at {self.url} is too busy for {what} (HTTP 429): try again"
        else:
            message = f"OpenBao could not do {what} (HTTP {status}: {detail or 'no detail'})"
        return OpenBaoError(message + self._in_namespace(), status, detail)

    def _in_namespace(self) -> str:
        return f" [namespace {self.namespace}]" if self.namespace else ""


class _Link:
    """One keep-alive HTTP(S) connection to a server, opened on first use."""

    def __init__(self, url: str, cacert: str | None, timeout: float) -> None:
        self.url = url
        self.cacert = cacert
        self.timeout = timeout
        self._connection: http.client.HTTPConnection | None = None
        self._prefix = ""

    def exchange(self, method: str, target: str, payload: bytes | None,
                 headers: dict[str, str]) -> tuple[int, bytes]:
        for attempt in (1, 2):
            reused = self._connection is not None
            connection = self._connect()
            try:
                connection.request(method, self._prefix + target, body=payload, headers=headers)
                response = connection.getresponse()
                return response.status, response.read()
            except _RETRYABLE as exc:
                self.close()
                # The server may have closed an idle keep-alive connection: once more, anew.
                if reused and attempt == 1:
                    continue
                raise BackendUnavailable(transport_message(self.url, exc)) from exc
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                raise BackendUnavailable(transport_message(self.url, exc)) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            parts = _parsed(self.url)
            self._prefix = parts.path.rstrip("/")
            if parts.scheme == "https":
                self._connection = http.client.HTTPSConnection(
                    parts.hostname or "", parts.port, timeout=self.timeout,
                    context=self._tls_context())
            else:
                self._connection = http.client.HTTPConnection(
                    parts.hostname or "", parts.port, timeout=self.timeout)
        return self._connection

    def _tls_context(self) -> ssl.SSLContext:
        try:
            return ssl.create_default_context(cafile=self.cacert)
        except (OSError, ssl.SSLError) as exc:
            raise BackendUnavailable(
                f"cannot load the OpenBao CA bundle {self.cacert} ({exc.__class__.__name__}):"
                " check VAULT_CACERT or the CA file given at init") from exc


def _parsed(url: str) -> urllib.parse.SplitResult:
    if not url:
        raise BackendUnavailable("no OpenBao address: set VAULT_ADDR or give it at init")
    parts = urllib.parse.urlsplit(url)
    try:
        parts.port  # noqa: B018 - a bad port only raises when read
    except ValueError:
        parts = parts._replace(scheme="")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BackendUnavailable(f"the OpenBao address {url!r} is not an http:// or https:// URL")
    return parts


def _json_object(raw: bytes) -> dict[str, Any] | None:
    """The JSON object a body holds ({} if empty), or None if it is not one."""
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def detail_of(body: dict[str, Any]) -> str:
    """OpenBao's `errors` on one short line. Some arrive as a Go multierror, a line "1 error
    occurred:" and then lines "* permission denied": keep only the items."""
    items = []
    for error in body.get("errors") or []:
        for line in str(error).splitlines():
            line = line.strip().removeprefix("* ")
            if line and not _MULTIERROR_HEADING.fullmatch(line):
                items.append(line)
    return "; ".join(items)[:200]


def no_route(body: dict[str, Any] | None) -> bool:
    """OpenBao's 404 for a path no engine serves (as opposed to a key that does not exist)."""
    return any("no handler for route" in str(error)
               or "unsupported path" in str(error)
               or "namespace not found" in str(error)
               for error in (body or {}).get("errors") or [])
