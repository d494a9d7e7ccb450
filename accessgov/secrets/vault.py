"""Secrets in HashiCorp Vault or OpenBao, on a KV version 2 engine.

A secret lives at `<mount>/<prefix>/<org-slug>/<path>` under the data key `value`, so the
store's own tools find it: `bao kv get -mount=secret -field=value accessgov/interact/x/password`.
Every write is check-and-set, and a credential's version is the KV version.

A Vault namespace (HCP Vault, Vault Enterprise, OpenBao 2.3+) is chosen once, at init, and
stored with the register; both paths send it as `X-Vault-Namespace`. VAULT_NAMESPACE is only
init's default: at run time it is ignored, so a variable left over from other work can never
move a register's secrets to another namespace (`bao` would need `-namespace=` to follow).

Reads (`read`, `current_version`, `check`) use only the standard library over one keep-alive
connection: `cred reveal` must run about as fast as `bao kv get`, and `import hvac` alone (it
pulls in requests) costs more than that whole command. Writes are rarer and go through hvac,
imported inside the methods that need it. Both paths turn every answer that is not a success
into an error through one function, `_failure(status, errors)`: the read path passes the
status it read, and the write path gets the real status too, because a `requests` response hook
on hvac's session raises `_VaultAnswer` (status and Vault's `errors`) before hvac turns the
answer into an exception class that forgets the status. Failures to talk to Vault at all go
through `transport_message` on both paths.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import urllib.parse
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from accessgov.common import validate
from accessgov.errors import BackendUnavailable, InputError
from accessgov.secrets.base import (
    SecretBackend,
    SecretNotFound,
    VersionConflict,
    check_path,
    check_value,
)
from accessgov.secrets.spec import InitOption, Settings

# http.client, ssl and socket (~25 ms) are imported where they are used: `accessgov init`
# imports this module for its OPTIONS whichever backend is chosen.
if TYPE_CHECKING:
    import http.client
    import ssl

    from accessgov.secrets.config import BackendConfig
    from accessgov.secrets.openbao.client import OpenBaoClient
    from accessgov.secrets.openbao.layout import Layout
    from accessgov.secrets.openbao.totp import CodeEngine

# Seconds to wait for Vault to connect or answer. hvac's default is 30 s, far too long for a
# person waiting at a prompt; tests lower it to exercise the timeout path quickly.
TIMEOUT_SECONDS = 5.0

# What `vault login` / `bao login` write with their default token helper.
TOKEN_FILE_NAME = ".vault-token"

_CAS_MISMATCH = "check-and-set parameter did not match"

_NAMESPACE_NOT_FOUND = "namespace not found"
_MULTIERROR_HEADING = re.compile(r"\d+ errors? occurred:")

# One namespace name per segment: ASCII (an HTTP header carries it), no "+" or "*" (Vault's
# wildcards), never empty, "." or "..".
_NAMESPACE_SEGMENT = re.compile(r"[A-Za-z0-9_@-][A-Za-z0-9._@-]*")
# Names Vault and OpenBao keep for themselves at every level ("root" is not a namespace header).
_RESERVED_NAMESPACES = {"root", "sys", "audit", "auth", "cubbyhole", "identity"}
# One segment of a mount or a prefix: never empty, "." or ".." (which would climb out of it).
_PATH_SEGMENT = re.compile(r"[A-Za-z0-9_@-][A-Za-z0-9._@-]*")
# Mounts that are never a KV version 2 engine: Vault's own and its per-token cubbyhole.
_NOT_KV_MOUNTS = {"sys", "cubbyhole", "identity", "auth"}

# -- the backend as accessgov init offers it, and the settings it keeps in the register ----------

SUMMARY = ("HashiCorp Vault or OpenBao, on a KV version 2 engine (the token comes from "
           "VAULT_TOKEN or ~/.vault-token, never from the command line).")
DEFAULT_MOUNT = "secret"
ADDRESS_HINT = ("check the address ('accessgov store show'; 'accessgov store set-address URL' "
                "changes it)")
DEFAULT_PREFIX = "accessgov"
DEFAULT_TOTP_MOUNT = "totp"
OPTIONS = (
    InitOption("vault_url", "Vault/OpenBao address.", envvar="VAULT_ADDR", required=True),
    InitOption("vault_mount", "KV v2 mount.", default=DEFAULT_MOUNT),
    InitOption("vault_prefix", "Folder inside the mount for this tool.", default=DEFAULT_PREFIX),
    InitOption("vault_cacert", "CA bundle to verify Vault's TLS certificate.",
               envvar="VAULT_CACERT", is_file=True),
    InitOption("vault_namespace", "Vault/OpenBao namespace, e.g. admin/team-a (default the root "
               "namespace). Kept with the register: VAULT_NAMESPACE set later does not change "
               "it.", envvar="VAULT_NAMESPACE"),
    InitOption("vault_totp_mount", "Mount of OpenBao's TOTP engine, which keeps accounts' TOTP "
               "seeds and gives only codes (enable it with 'bao secrets enable totp').",
               default="totp"),
)


def plain_http_problem(url: str) -> str | None:
    """Why an http:// address is not to be taken without --insecure-http: secrets and tokens
    would cross the network in clear. Loopback (this machine) is fine."""
    import ipaddress  # only at init and set-address, not for every command on Vault

    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "http" or host == "localhost" or host.endswith(".localhost"):
        return None
    try:
        if ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:
        pass
    return (f"{url} is plain http:// to another machine: passwords and tokens would cross the "
            "network unencrypted; use https://, or give --insecure-http if you accept that")


def refuse_plain_http(url: str | None, insecure_http: bool) -> None:
    """InputError for a plain http:// address to another machine, unless the operator
    accepted it with --insecure-http (init, store set-address, store move)."""
    if url and not insecure_http and (problem := plain_http_problem(url)):
        raise InputError(problem)


def configure(given: Mapping[str, str | None]) -> Settings:
    """At init: the settings from init's options (the address must fit on one line)."""
    url = given.get("vault_url")
    if url:
        url = validate.one_line(url, "--vault-url").rstrip("/")
    return read_settings({**given, "vault_url": url})


def read_settings(stored: Mapping[str, str | None]) -> Settings:
    """The address, mount, prefix, CA file and namespace, checked and in canonical spelling
    (a mount or prefix that is not given is the default one)."""
    namespace = check_namespace(stored.get("vault_namespace"))
    mount, prefix = stored.get("vault_mount"), stored.get("vault_prefix")
    return {
        "vault_url": stored.get("vault_url"),
        "vault_mount": check_mount(DEFAULT_MOUNT if mount is None else mount),
        "vault_prefix": check_vault_path(DEFAULT_PREFIX if prefix is None else prefix,
                                         "--vault-prefix"),
        "vault_cacert": stored.get("vault_cacert"),
        "vault_namespace": namespace,
        # Unset in registers made before the TOTP engine: the default mount, at use.
        "vault_totp_mount": check_mount(totp) if (totp := stored.get("vault_totp_mount"))
        else None,
    }


def open_store(config: BackendConfig) -> VaultBackend:
    """The Vault store `config` describes; Vault is not contacted yet."""
    return VaultBackend(config)


def check_namespace(namespace: str | None) -> str | None:
    """A Vault namespace in its canonical spelling, without a leading or trailing slash (None
    for the root namespace, also given as ""); InputError if a part is empty, "." or "..",
    a reserved name, or holds other than ASCII letters, digits and . _ @ -."""
    if not namespace:
        return None
    canonical = namespace.removeprefix("/").removesuffix("/")
    parts = canonical.split("/")
    if not all(_NAMESPACE_SEGMENT.fullmatch(part) for part in parts):
        raise InputError(
            f"not a valid Vault namespace: {namespace!r} (use letters, digits and . _ @ -"
            " between slashes, e.g. admin/team-a)"
        )
    if reserved := _RESERVED_NAMESPACES.intersection(parts):
        raise InputError(
            f"not a valid Vault namespace: {namespace!r} ({min(reserved)!r} is a name Vault"
            " reserves; leave the namespace out for the root namespace)"
        )
    return canonical


def check_vault_path(path: str, what: str) -> str:
    """A mount or prefix in its canonical spelling (no slash at either end); InputError if it
    is empty or a part is empty, "." or "..", or holds other than ASCII letters, digits and
    . _ @ - (a prefix such as ../../sys would reach outside accessgov's own folder)."""
    canonical = path.strip().strip("/")
    if not canonical:
        raise InputError(f"{what} cannot be empty: it keeps accessgov's secrets in a folder of "
                         "their own (the default is 'accessgov')" if what == "--vault-prefix"
                         else f"{what} cannot be empty (the default is 'secret')")
    if not all(_PATH_SEGMENT.fullmatch(part) for part in canonical.split("/")):
        raise InputError(f"{what} {path!r} is not usable: use letters, digits and . _ @ - "
                         "between slashes, with no '..' (e.g. 'accessgov' or 'teams/comms')")
    return canonical


def check_mount(mount: str) -> str:
    """A KV mount path (see `check_vault_path`), refusing Vault's own mounts at once, since
    they can never hold KV version 2 secrets."""
    canonical = check_vault_path(mount, "--vault-mount")
    if canonical.split("/")[0] in _NOT_KV_MOUNTS:
        raise InputError(f"--vault-mount {mount!r} is not a KV version 2 mount: give the mount "
                         "of a KV v2 secrets engine (the default is 'secret')")
    return canonical


class _VaultAnswer(Exception):
    """Vault's answer to a write was not a success: its HTTP status and `errors` (None if
    the body is not Vault's JSON). Raised by the response hook, caught by `_hvac_errors`."""

    def __init__(self, status: int, errors: list[str] | None) -> None:
        super().__init__(status)
        self.status = status
        self.errors = errors


class VaultBackend(SecretBackend):
    """KV v2 in Vault or OpenBao, reached with the token from VAULT_TOKEN or ~/.vault-token."""

    name = "vault"

    def __init__(self, config: BackendConfig) -> None:
        settings = config.settings
        self._mount = (settings.get("vault_mount") or DEFAULT_MOUNT).strip("/")
        prefix = (settings.get("vault_prefix") or DEFAULT_PREFIX).strip("/")
        self._base = f"{prefix}/{config.org_slug}"
        self._prefix, self._org = prefix, config.org_slug
        self._url = (settings.get("vault_url") or os.environ.get("VAULT_ADDR") or "").rstrip("/")
        self._cacert = settings.get("vault_cacert") or os.environ.get("VAULT_CACERT") or None
        # Only what init stored: see the module docstring for why VAULT_NAMESPACE is not read.
        self._namespace = settings.get("vault_namespace")
        self._token_value: str | None = None
        self._connection: http.client.HTTPConnection | None = None
        self._hvac: Any = None
        self._server: tuple[OpenBaoClient, Layout] | None = None
        self._totp_mount = settings.get("vault_totp_mount") or DEFAULT_TOTP_MOUNT

    # -- the interface -------------------------------------------------------------------

    def check(self) -> None:
        """Reach Vault, with the token, inside this organisation's area (sealed, refused ...)."""
        # A metadata read of a key nobody writes exercises everything a real command needs:
        # address, TLS, seal, token and a policy covering `<prefix>/<org>/*`.
        self._get(self._api("metadata", "accessgov-check"), "accessgov-check")

    def location(self, path: str) -> str:
        """The mount and path as `bao kv` / `vault kv` spell them, and the namespace if any."""
        return f"vault kv {self._mount}/{self._full(path)}{self._in_namespace(' (namespace {})')}"

    def current_version(self, path: str) -> int:
        """KV's current_version: counts discarded (destroyed) versions too; 0 if never written."""
        status, body = self._get(self._api("metadata", path), path)
        return int((body.get("data") or {}).get("current_version") or 0) if status == 200 else 0

    def read(self, path: str, version: int | None = None) -> str:
        """The value of `version` (or of the newest version still readable)."""
        status, body = self._get(self._api("data", path, version), path)
        if status == 200:
            return self._value(body, path)
        if version is None and _is_destroyed_version(body):
            # The newest version was discarded, so the newest one still alive is current. (A
            # version deleted with `bao kv delete` stays missing, as `bao kv get` shows it.)
            return self._read_newest_live(path)
        raise SecretNotFound(self._missing(path, version))

    def write(
        self, path: str, value: str, *, expect_version: int, metadata: dict[str, str] | None = None
    ) -> int:
        """A check-and-set write; VersionConflict if the current version is not the expected."""
        check_value(value)
        full = self._full(path)
        kv = self._kv()
        try:
            with self._hvac_errors(path, expect_version):
                response = kv.create_or_update_secret(
                    path=full, secret={"value": value}, cas=expect_version,
                    mount_point=self._mount
                )
            version = int(response["data"]["version"])
        except BackendUnavailable:
            # The answer may be what was lost, not the write: find out, so that a version
            # Vault did store is recorded or undone by the caller rather than orphaned.
            version = self._written_despite_error(path, value, expect_version)
        if metadata:
            self._set_metadata(path, version, metadata)
        return version

    def discard(self, path: str, version: int) -> None:
        """Destroy one version for good (the KV version counter keeps counting past it)."""
        kv = self._kv()
        with self._hvac_errors(path):
            kv.destroy_secret_versions(
                path=self._full(path), versions=[version], mount_point=self._mount
            )

    def delete(self, path: str) -> None:
        """Delete the metadata and every version: the path is as if never written."""
        kv = self._kv()
        with self._hvac_errors(path):
            kv.delete_metadata_and_all_versions(path=self._full(path), mount_point=self._mount)

    def list_paths(self) -> list[str]:
        """Every key below `<prefix>/<org>/`: a LIST of the KV metadata for each folder
        (a key ending in "/" is a folder), so no secret value is ever fetched."""
        found: list[str] = []
        folders = [""]
        while folders:
            folder = folders.pop()
            for key in self._list(folder):
                (folders if key.endswith("/") else found).append(folder + key)
        return sorted(found)

    def openbao(self) -> tuple[OpenBaoClient, Layout]:
        """A client for this store's server, token and namespace (standard library only, no
        hvac: every change asks it the time and moves the chain head), and the layout of
        this organisation's area."""
        if self._server is None:
            from accessgov.secrets.openbao.client import OpenBaoClient
            from accessgov.secrets.openbao.layout import Layout

            self._parsed_url()  # no address, or not a URL: said in the read path's words
            client = OpenBaoClient(self._url, self._token(), namespace=self._namespace,
                                   cacert=self._cacert, timeout=TIMEOUT_SECONDS)
            self._server = client, Layout(org=self._org, kv_mount=self._mount,
                                          prefix=self._prefix)
        return self._server

    def code_engine(self) -> CodeEngine:
        """OpenBao's TOTP engine, where accounts' seeds are kept so that only codes come out."""
        from accessgov.secrets.openbao.totp import CodeEngine

        return CodeEngine(self.openbao()[0], self._totp_mount, self._org)

    def exists(self, path: str, version: int | None = None) -> bool:
        """From the key's metadata: the version (default: the newest) was written and is
        neither destroyed nor deleted (no secret value is fetched)."""
        status, body = self._get(self._api("metadata", path), path)
        data = (body.get("data") or {}) if status == 200 else {}
        versions = data.get("versions") or {}
        wanted = data.get("current_version") if version is None else version
        info = versions.get(str(int(wanted or 0)))
        return isinstance(info, dict) and not info.get("destroyed") \
            and not info.get("deletion_time")

    # -- reading, standard library only ----------------------------------------------------

    def _list(self, folder: str) -> list[str]:
        """The keys of one folder of the organisation's area (empty if there is none)."""
        where = f"{self._mount}/metadata/{self._base}/{folder}"
        status, raw = self._request("GET", f"/v1/{urllib.parse.quote(where)}?list=true")
        body = _json_object(raw)
        if body is not None and status in (200, 404) and not _is_missing_route(body):
            keys = ((body.get("data") or {}).get("keys") or []) if status == 200 else []
            return [key for key in keys if isinstance(key, str) and key]
        if body is not None and status in (401, 403):
            raise BackendUnavailable(
                f"Vault refused to list {where} ({_detail(_errors(body) or []) or 'forbidden'}):"
                f" the token's policy needs the 'list' capability on {self._mount}/metadata/"
                f"{self._base}/*" + self._in_namespace(" in namespace {}"))
        # Sealed, no such engine or namespace, not Vault: as for any read (no path is named).
        raise self._failure(status, _errors(body), folder.rstrip("/") or "audit")

    def _full(self, path: str) -> str:
        return f"{self._base}/{check_path(path)}"

    def _api(self, kind: str, path: str, version: int | None = None) -> str:
        quoted = urllib.parse.quote(f"{self._mount}/{kind}/{self._full(path)}")
        return f"/v1/{quoted}" + (f"?version={int(version)}" if version is not None else "")

    def _value(self, body: dict[str, Any], path: str) -> str:
        value = ((body.get("data") or {}).get("data") or {}).get("value")
        if not isinstance(value, str) or value == "":
            raise SecretNotFound(f"{self.location(path)} holds no 'value' field")
        return value

    def _missing(self, path: str, version: int | None) -> str:
        which = f"version {version} of " if version is not None else ""
        return f"no secret at {which}{self.location(path)}"

    def _read_newest_live(self, path: str) -> str:
        status, body = self._get(self._api("metadata", path), path)
        versions: dict[str, Any] = (body.get("data") or {}).get("versions") or {}
        alive = sorted(int(v) for v, info in versions.items() if not info.get("destroyed"))
        for version in reversed(alive):
            status, body = self._get(self._api("data", path, version), path)
            if status == 200:
                return self._value(body, path)
        raise SecretNotFound(self._missing(path, None))

    def _get(self, api_path: str, path: str) -> tuple[int, dict[str, Any]]:
        """GET from Vault: (200 or 404, parsed body); every other outcome is BackendUnavailable."""
        status, raw = self._request("GET", api_path)
        body = _json_object(raw)
        if body is not None and status in (200, 404) and not _is_missing_route(body):
            return status, body
        raise self._failure(status, _errors(body), path)

    def _request(self, method: str, api_path: str) -> tuple[int, bytes]:
        import http.client

        headers = {"X-Vault-Token": self._token(), "Accept": "application/json"}
        if self._namespace:
            headers["X-Vault-Namespace"] = self._namespace
        for attempt in (1, 2):
            reused = self._connection is not None
            connection = self._connect()
            try:
                connection.request(method, self._url_path() + api_path, headers=headers)
                response = connection.getresponse()
                return response.status, response.read()
            except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected) as exc:
                self._close()
                # Vault may have closed an idle keep-alive connection: retry once on a new one.
                if reused and attempt == 1:
                    continue
                raise BackendUnavailable(transport_message(self._url, exc)) from exc
            except (OSError, http.client.HTTPException) as exc:
                self._close()
                raise BackendUnavailable(transport_message(self._url, exc)) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _connect(self) -> http.client.HTTPConnection:
        import http.client

        if self._connection is None:
            parts = self._parsed_url()
            if parts.scheme == "https":
                context = self._tls_context()
                self._connection = http.client.HTTPSConnection(
                    parts.hostname or "", parts.port, timeout=TIMEOUT_SECONDS, context=context
                )
            else:
                self._connection = http.client.HTTPConnection(
                    parts.hostname or "", parts.port, timeout=TIMEOUT_SECONDS
                )
        return self._connection

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _parsed_url(self) -> urllib.parse.SplitResult:
        if not self._url:
            raise BackendUnavailable(
                "no Vault address: set VAULT_ADDR or give the Vault URL when running init"
            )
        parts = urllib.parse.urlsplit(self._url)
        try:
            parts.port  # noqa: B018 - a bad port only raises when read
        except ValueError:
            parts = parts._replace(scheme="")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BackendUnavailable(
                f"the Vault address {self._url!r} is not an http:// or https:// URL"
            )
        return parts

    def _url_path(self) -> str:
        return self._parsed_url().path.rstrip("/")

    def _tls_context(self) -> ssl.SSLContext:
        import ssl

        try:
            return ssl.create_default_context(cafile=self._cacert)
        except (OSError, ssl.SSLError) as exc:
            raise BackendUnavailable(
                f"cannot load the Vault CA bundle {self._cacert} ({_reason(exc)}):"
                " check VAULT_CACERT or the CA file given at init"
            ) from exc

    def _token(self) -> str:
        if self._token_value is None:
            self._token_value = find_token()
        return self._token_value

    # -- writing, through hvac --------------------------------------------------------------

    def _kv(self) -> Any:
        """hvac's KV v2 client, created on first use (importing hvac is slow)."""
        if self._hvac is None:
            import hvac

            # A missing address or CA file fails here, in the same words as the read path
            # (requests would raise a bare OSError for the CA file).
            if self._parsed_url().scheme == "https":
                self._tls_context()
            self._hvac = hvac.Client(
                url=self._url,
                token=self._token(),
                verify=self._cacert or True,
                timeout=TIMEOUT_SECONDS,
                namespace=self._namespace,
            )
            self._hvac.adapter.session.hooks["response"].append(_raise_unless_ok)
        return self._hvac.secrets.kv.v2

    def _written_despite_error(self, path: str, value: str, expect_version: int) -> int:
        """The new version if Vault stored exactly `value` after `expect_version`; else
        re-raise the write's error (also when Vault cannot be asked)."""
        error = sys.exc_info()[1]
        assert error is not None
        try:
            if self.current_version(path) == expect_version + 1 and \
                    self.read(path, expect_version + 1) == value:
                return expect_version + 1
        except (BackendUnavailable, SecretNotFound):
            pass
        raise error

    def annotate(self, path: str, metadata: dict[str, str]) -> None:
        """Replace the custom metadata other Vault clients see beside the secret."""
        with self._hvac_errors(path):
            self._kv().update_metadata(
                path=self._full(path), custom_metadata=metadata, mount_point=self._mount
            )

    def _set_metadata(self, path: str, version: int, metadata: dict[str, str]) -> None:
        """Attach custom metadata; if that fails, take the new version back out again."""
        try:
            with self._hvac_errors(path):
                self._kv().update_metadata(
                    path=self._full(path), custom_metadata=metadata, mount_point=self._mount
                )
        except BackendUnavailable:
            # The caller sees a failed write, so the version it would never record must go.
            with contextlib.suppress(BackendUnavailable):
                self.discard(path, version)
            raise

    @contextlib.contextmanager
    def _hvac_errors(self, path: str, expect_version: int | None = None) -> Iterator[None]:
        """Turn Vault's answers and requests' exceptions into VersionConflict or
        BackendUnavailable (hvac's own exceptions never arrive: `_raise_unless_ok` is first)."""
        import requests

        try:
            yield
        except _VaultAnswer as answer:
            raise self._failure(answer.status, answer.errors, path, expect_version) from None
        except requests.exceptions.Timeout as exc:
            raise BackendUnavailable(_timeout_message(self._url)) from exc
        except (requests.exceptions.RequestException, OSError) as exc:
            raise BackendUnavailable(transport_message(self._url, exc)) from exc

    # -- shared by both paths ---------------------------------------------------------------

    def _failure(
        self, status: int, errors: list[str] | None, path: str, expect_version: int | None = None
    ) -> VersionConflict | BackendUnavailable:
        """The error for a Vault answer that is not a success, on the read and write paths.

        `errors` is Vault's `errors` list, or None if the body was not Vault's JSON at all;
        `expect_version` is given by check-and-set writes, whose mismatch is a conflict.
        """
        if errors is None:
            return BackendUnavailable(
                f"Vault at {self._url} answered HTTP {status} with something that is not"
                " Vault's JSON: check the address and its scheme (http or https)"
            )
        if status == 400 and expect_version is not None and _CAS_MISMATCH in " ".join(errors):
            return VersionConflict(_conflict_message(self.location(path), expect_version))
        return BackendUnavailable(self._failure_message(status, _detail(errors), path))

    def _failure_message(self, status: int, detail: str, path: str) -> str:
        if status == 503 and "sealed" in detail.lower():
            return (
                f"Vault at {self._url} is sealed: unseal it ('bao operator unseal' or"
                " 'vault operator unseal') and try again"
            )
        if status in (401, 403):
            return (
                f"Vault refused the token for {self.location(path)} ({detail or 'forbidden'}):"
                " log in again ('bao login' / 'vault login') or ask for a policy that allows"
                f" {self._mount}/data/{self._base}/* and {self._mount}/metadata/{self._base}/*"
                + self._in_namespace(" in namespace {}")
            )
        if status == 404 and self._namespace and _NAMESPACE_NOT_FOUND in detail:
            return (
                f"Vault at {self._url} has no namespace {self._namespace} ({detail}):"
                " check the namespace given at init"
            )
        if status == 404:
            return (
                f"Vault has no KV version 2 engine at {self._mount}/"
                f"{self._in_namespace(' in namespace {}')} ({detail}):"
                f" check the mount{self._in_namespace(' and namespace')} given at init"
            )
        return f"Vault at {self._url} could not do this (HTTP {status}: {detail or 'no detail'})"

    def _in_namespace(self, template: str) -> str:
        """`template` filled with the namespace, or "" in the root namespace."""
        return template.format(self._namespace) if self._namespace else ""


def find_token() -> str:
    """The token from VAULT_TOKEN, else from the token helper file ~/.vault-token."""
    token = os.environ.get("VAULT_TOKEN", "").strip()
    if token:
        return token
    token_file = Path.home() / TOKEN_FILE_NAME
    try:
        token = token_file.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        token = ""
    except OSError as exc:
        raise BackendUnavailable(
            f"cannot read the Vault token file {token_file}: {_reason(exc)}"
        ) from exc
    if not token:
        raise BackendUnavailable(
            "no Vault token: set VAULT_TOKEN, or log in with 'bao login' or 'vault login'"
            f" (they keep the token in {token_file})"
        )
    return token


def _conflict_message(location: str, expect_version: int) -> str:
    if expect_version == 0:
        return f"{location} already holds a secret: someone else wrote it; look again and retry"
    return (
        f"{location} is no longer at version {expect_version}: someone else changed it;"
        " look again and retry"
    )


def _is_destroyed_version(body: dict[str, Any]) -> bool:
    """A 404 that names a version which existed but was destroyed (discarded)."""
    metadata = (body.get("data") or {}).get("metadata") or {}
    return bool(metadata.get("destroyed"))


def _is_missing_route(body: dict[str, Any]) -> bool:
    """Vault's 404 for a path no engine serves, or a namespace that does not exist (as
    opposed to a key that does not exist)."""
    errors = body.get("errors") or []
    return any(
        "no handler for route" in str(error) or _NAMESPACE_NOT_FOUND in str(error)
        for error in errors
    )


def _json_object(raw: bytes) -> dict[str, Any] | None:
    """The JSON object an answer's body holds ({} if empty), or None if it is not one."""
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _errors(body: dict[str, Any] | None) -> list[str] | None:
    """Vault's `errors` from a parsed body (never empty strings); None if there was no body."""
    if body is None:
        return None
    errors = body.get("errors")
    return [str(error) for error in errors if error] if isinstance(errors, list) else []


def _detail(errors: list[str]) -> str:
    """Vault's errors on one short line. Some arrive as a Go multierror, a line "1 error
    occurred:" and then lines "* permission denied": keep only the items."""
    items = []
    for error in errors:
        for line in error.splitlines():
            line = line.strip().removeprefix("* ")
            if line and not _MULTIERROR_HEADING.fullmatch(line):
                items.append(line)
    return "; ".join(items)[:200]


def _raise_unless_ok(response: Any, *args: Any, **kwargs: Any) -> None:
    """A `requests` response hook for hvac's session: an answer that hvac would raise for
    (status 400 or more) leaves as `_VaultAnswer`, keeping the status hvac forgets."""
    if not response.ok:
        raise _VaultAnswer(response.status_code, _errors(_json_object(response.content)))


def transport_message(url: str, exc: BaseException) -> str:
    """A plain message for a failure to talk to Vault at all, from the root cause of `exc`."""
    import http.client
    import socket
    import ssl

    causes = list(_causes(exc))
    for cause in causes:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return (
                f"cannot verify the TLS certificate of Vault at {url}"
                f" ({cause.verify_message or 'untrusted'}): set VAULT_CACERT to the CA bundle"
                " that signed it"
            )
    for cause in causes:
        if isinstance(cause, ssl.SSLError):
            return (
                f"the TLS connection to Vault at {url} failed ({_reason(cause)}):"
                " check that the address uses the right scheme (http or https)"
            )
        if isinstance(cause, TimeoutError):
            return _timeout_message(url)
        if isinstance(cause, ConnectionRefusedError):
            return (
                f"cannot reach Vault at {url} (connection refused): is the server running? "
                f"{ADDRESS_HINT}"
            )
        if isinstance(cause, socket.gaierror):
            host = urllib.parse.urlsplit(url).hostname
            return f"cannot reach Vault at {url} (unknown host {host}): {ADDRESS_HINT}"
        if isinstance(cause, (http.client.RemoteDisconnected, ConnectionResetError)):
            return (
                f"Vault at {url} closed the connection without answering ({_reason(cause)}):"
                " check that it is running (it may have stopped or be restarting) and that"
                " the address uses the right scheme (http or https)"
            )
        if isinstance(cause, http.client.HTTPException):
            return (
                f"Vault at {url} did not answer in HTTP ({_reason(cause)}): check that the"
                " address is Vault's and uses the right scheme (http or https)"
            )
    return f"cannot reach Vault at {url} ({_reason(causes[-1])}): {ADDRESS_HINT}"


def _timeout_message(url: str) -> str:
    return (
        f"Vault at {url} did not answer within {TIMEOUT_SECONDS:g} s: check the network and "
        f"that the server is running; {ADDRESS_HINT}"
    )


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """`exc` and every exception behind it, outermost first (requests nests them deeply)."""
    seen: set[int] = set()
    queue = [exc]
    while queue:
        current = queue.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        inner = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        inner += list(current.args)
        queue += [item for item in inner if isinstance(item, BaseException)]


def _reason(exc: BaseException) -> str:
    """A short reason from an exception, never more than one line."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:160]
