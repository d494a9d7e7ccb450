"""The OpenBao side of issue 13 on a server configured as an organisation runs one: a config
file instead of -dev, so nothing is mounted at first and the raw storage endpoint is off.

Here even root cannot read a TOTP seed or a signing key back: there is no API path for it.
The same set-up also works inside a namespace.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from accessgov.secrets.openbao import mfa, setup, signing
from accessgov.secrets.openbao.client import OpenBaoClient
from accessgov.secrets.openbao.layout import Layout
from tests.support import servers
from tests.support.openbao_people import create_and_enrol, log_in

pytestmark = pytest.mark.integration

LAYOUT = Layout(org="charity")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.OpenBaoServer]:
    started = servers.start_or_skip(servers.start_openbao_configured,
                                    tmp_path_factory.mktemp("configured-bao"))
    try:
        yield started
    finally:
        started.stop()


def test_setup_on_a_bare_server_mounts_what_it_needs_and_warns_of_nothing(
        server: servers.OpenBaoServer) -> None:
    admin = OpenBaoClient(server.url, server.root_token)
    result = setup.setup(admin, LAYOUT)
    assert result.warnings == ()
    mounts = (admin.read("sys/mounts", what="mounts") or {})["data"]
    assert mounts["secret/"]["type"] == "kv" and mounts["secret/"]["options"]["version"] == "2"
    assert mounts["transit/"]["type"] == "transit"
    assert setup.auth_type(admin, "userpass") == "userpass"


def test_not_even_root_can_read_a_seed_or_a_signing_key_back(
        server: servers.OpenBaoServer) -> None:
    admin = OpenBaoClient(server.url, server.root_token)
    setup.setup(admin, LAYOUT)
    alice = create_and_enrol(admin, LAYOUT, "alice")
    own = log_in(admin, LAYOUT, alice)
    signature = signing.sign(own, LAYOUT, "alice", b"approved")
    assert signing.verify(signing.public_keys(admin, LAYOUT, "alice"), b"approved", signature)
    method_id = setup.totp_method_id(admin)
    for method, path in (
            ("LIST", "sys/raw"),
            ("GET", f"sys/raw/sys/mfa/totpkeys/{method_id}/{alice.entity_id}"),
            ("GET", "transit/export/signing-key/accessgov-alice"),
            ("GET", "transit/backup/accessgov-alice")):
        status, body = admin.request(method, path)
        assert status >= 400, (method, path)
        assert alice.key not in json.dumps(body)
    again = admin.write("identity/mfa/method/totp/admin-generate",
                        {"method_id": method_id, "entity_id": alice.entity_id}, what="generate")
    assert again.get("data") is None


def test_the_same_set_up_works_inside_a_namespace(server: servers.OpenBaoServer) -> None:
    root = OpenBaoClient(server.url, server.root_token)
    root.write("sys/namespaces/team-a", {}, what="namespace")
    admin = OpenBaoClient(server.url, server.root_token, namespace="team-a")
    layout = Layout(org="team-a-charity")
    setup.setup(admin, layout)
    bob = create_and_enrol(admin, layout, "bob")
    own = log_in(admin, layout, bob)
    assert mfa.whoami(own).person == "bob"
    signature = signing.sign(own, layout, "bob", b"in team a")
    assert signing.verify(signing.all_public_keys(own, layout)["bob"], b"in team a", signature)
    # The root namespace knows no bob: identities, keys and policies stay in the namespace.
    assert root.request("GET", "identity/entity/name/accessgov-bob")[0] == 404
    assert root.request("GET", "transit/keys/accessgov-bob")[0] in (403, 404)
