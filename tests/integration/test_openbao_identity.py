"""Operators who cannot act as one another (issue 13), against a real OpenBao dev server.

The set-up changes server-wide state (auth methods, Login MFA, policies), so this module has
a server of its own. Alice and Bob are created and enrolled once; the attacks are made with
Bob's own token (logged in with his password and code) against Alice.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import time
from collections.abc import Iterator

import pytest

from accessgov.errors import (
    BackendUnavailable,
    InputError,
    MfaFailed,
    MfaRequired,
    NotFound,
    Refused,
)
from accessgov.secrets.base import VersionConflict
from accessgov.secrets.openbao import clock, head, mfa, operators, setup, signing
from accessgov.secrets.openbao.client import OpenBaoClient, OpenBaoError, OpenBaoRefused
from accessgov.secrets.openbao.layout import Layout
from tests.support import servers
from tests.support.openbao_people import Person, create_and_enrol, log_in

pytestmark = pytest.mark.integration

ORG = "charity"
LAYOUT = Layout(org=ORG)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.OpenBaoServer]:
    """A dev server of this module's own."""
    started = servers.start_or_skip(servers.start_openbao, tmp_path_factory.mktemp("bao"))
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def admin(server: servers.OpenBaoServer) -> OpenBaoClient:
    """The administrator: the root token, after the set-up has run once."""
    client = OpenBaoClient(server.url, server.root_token)
    setup.setup(client, LAYOUT)
    return client


@pytest.fixture(scope="module")
def alice(admin: OpenBaoClient) -> Person:
    return create_and_enrol(admin, LAYOUT, "alice")


@pytest.fixture(scope="module")
def bob(admin: OpenBaoClient) -> Person:
    return create_and_enrol(admin, LAYOUT, "bob")


@pytest.fixture(scope="module")
def alice_token(admin: OpenBaoClient, alice: Person) -> OpenBaoClient:
    return log_in(admin, LAYOUT, alice)


@pytest.fixture(scope="module")
def bob_token(admin: OpenBaoClient, bob: Person) -> OpenBaoClient:
    return log_in(admin, LAYOUT, bob)


@pytest.fixture
def newcomer(admin: OpenBaoClient, request: pytest.FixtureRequest) -> Person:
    """An operator of the test's own: OpenBao accepts only three codes of one key a minute
    and a code only once, so tests that log in often do not share Alice."""
    name = request.node.name.removeprefix("test_")[:40].strip("_").replace("_", "-")
    return create_and_enrol(admin, LAYOUT, name)


def status_of(client: OpenBaoClient, method: str, path: str,
              data: dict[str, object] | None = None) -> int:
    """The HTTP status OpenBao answers `client`'s request with."""
    return client.request(method, path, data)[0]


# -- set-up ---------------------------------------------------------------------------------


def test_setup_twice_changes_nothing_and_warns_of_dev_raw_storage(admin: OpenBaoClient) -> None:
    first = setup.setup(admin, LAYOUT)
    policies_before = {name: admin.read(f"sys/policies/acl/{name}", what="policy")
                       for name in (LAYOUT.operator_policy, "accessgov-enrol")}
    second = setup.setup(admin, LAYOUT)
    assert (first.method_id, first.login_accessor, first.token_accessor) == \
        (second.method_id, second.login_accessor, second.token_accessor)
    methods = admin.list("identity/mfa/method/totp", what="methods")
    assert methods == [first.method_id]
    method = admin.read(f"identity/mfa/method/totp/{first.method_id}", what="method") or {}
    assert {key: method["data"][key] for key in ("issuer", "algorithm", "digits", "period")} == \
        {"issuer": "accessgov", "algorithm": "SHA1", "digits": 6, "period": 30}
    enforcement = admin.read(f"identity/mfa/login-enforcement/{LAYOUT.enforcement}",
                             what="enforcement") or {}
    assert enforcement["data"]["auth_method_accessors"] == [first.login_accessor]
    assert enforcement["data"]["mfa_method_ids"] == [first.method_id]
    for name, before in policies_before.items():
        after = admin.read(f"sys/policies/acl/{name}", what="policy") or {}
        assert after["data"]["policy"] == (before or {})["data"]["policy"]
    # -dev turns sys/raw on, which would let root read seeds and keys: the set-up says so.
    assert any("sys/raw" in warning for warning in second.warnings)


def test_setup_refuses_a_kv_version_1_mount(admin: OpenBaoClient) -> None:
    admin.write("sys/mounts/old-kv", {"type": "kv", "options": {"version": "1"}}, what="mount")
    with pytest.raises(InputError, match="KV version 1"):
        setup.setup(admin, Layout(org=ORG, kv_mount="old-kv"))


def test_setup_uses_an_existing_auth_mount_the_organisation_names(admin: OpenBaoClient) -> None:
    admin.write("sys/auth/staff", {"type": "userpass"}, what="mount")
    accessor = setup.auth_accessor(admin, "staff")
    result = setup.setup(admin, Layout(org="other-org", auth_mount="staff"))
    assert result.login_accessor == accessor


# -- log-in with OpenBao's Login MFA ----------------------------------------------------------


def test_each_operator_logs_in_with_password_and_code(
        alice_token: OpenBaoClient, bob_token: OpenBaoClient, alice: Person,
        bob: Person) -> None:
    for token, person in ((alice_token, alice), (bob_token, bob)):
        me = mfa.whoami(token)
        assert (me.person, me.entity_id) == (person.person, person.entity_id)
        assert LAYOUT.operator_policy in me.policies
        assert 0 < me.ttl_seconds <= 15 * 60


def test_login_sets_the_session_length_within_the_cap(admin: OpenBaoClient,
                                                      alice: Person) -> None:
    session = mfa.login(admin, LAYOUT, "alice", alice.password, alice.code(),
                        ttl=dt.timedelta(minutes=2))
    assert 100 < session.lease_seconds <= 120
    assert mfa.whoami(admin.with_token(session.token)).ttl_seconds <= 120
    longest = mfa.renew(admin.with_token(session.token), session, dt.timedelta(hours=30))
    assert longest.lease_seconds <= 12 * 3600


def test_login_without_a_code_is_refused(admin: OpenBaoClient, alice: Person) -> None:
    with pytest.raises(MfaRequired):
        mfa.login(admin, LAYOUT, "alice", alice.password, None)


def test_login_with_a_wrong_or_stale_code_is_refused(admin: OpenBaoClient) -> None:
    carol = create_and_enrol(admin, LAYOUT, "carol")  # her own lock-out counter
    wrong = f"{(int(carol.code()) + 1) % 1_000_000:06d}"
    for code in (wrong, carol.stale_code()):
        with pytest.raises(MfaFailed):
            mfa.login(admin, LAYOUT, "carol", carol.password, code)
    with pytest.raises(MfaFailed, match="6 digits"):
        mfa.login(admin, LAYOUT, "carol", carol.password, "12345")


def test_a_code_is_accepted_once(admin: OpenBaoClient) -> None:
    dave = create_and_enrol(admin, LAYOUT, "dave")
    code = dave.code()
    mfa.login(admin, LAYOUT, "dave", dave.password, code)
    with pytest.raises(MfaFailed):
        mfa.login(admin, LAYOUT, "dave", dave.password, code)


def test_login_with_a_wrong_password_is_refused(admin: OpenBaoClient, alice: Person) -> None:
    with pytest.raises(Refused, match="invalid username or password"):
        mfa.login(admin, LAYOUT, "alice", alice.password + "x", alice.code())
    with pytest.raises(Refused, match="invalid username or password"):
        mfa.login(admin, LAYOUT, "nobody", "whatever", "123456")


# -- enrolment ------------------------------------------------------------------------------


def test_enrolment_happens_once_and_a_stolen_enrolment_shows(admin: OpenBaoClient) -> None:
    operators.create_operator(admin, LAYOUT, "erin", "erin's password")
    token = operators.enrolment_token(admin, "erin")
    # Someone else (the administrator, say) uses Erin's enrolment first ...
    mfa.enrol(admin.with_token(token))
    # ... and Erin, with a new enrolment, is told: no second key, no key shown.
    with pytest.raises(mfa.AlreadyEnrolled, match="someone else did"):
        mfa.enrol(admin.with_token(operators.enrolment_token(admin, "erin")))


def test_an_enrolment_token_can_only_enrol(admin: OpenBaoClient, alice: Person) -> None:
    operators.create_operator(admin, LAYOUT, "frank", "frank's password")
    enrolment = admin.with_token(operators.enrolment_token(admin, "frank"))
    me = mfa.whoami(enrolment)
    assert me.entity_id == operators.find_entity(admin, "frank")["id"]
    assert set(me.policies) == {"accessgov-enrol"}
    with pytest.raises(OpenBaoRefused):
        signing.sign(enrolment, LAYOUT, "frank", b"a change")
    with pytest.raises(OpenBaoRefused):
        head.read_head(enrolment, LAYOUT)


def test_no_enrolment_token_for_an_unknown_person(admin: OpenBaoClient) -> None:
    with pytest.raises(NotFound):
        operators.enrolment_token(admin, "nobody")


# -- attacks with Bob's own token -----------------------------------------------------------


def test_bob_cannot_get_alice_s_totp_seed(admin: OpenBaoClient, bob_token: OpenBaoClient,
                                          alice: Person, bob: Person) -> None:
    method_id = setup.totp_method_id(admin)
    # generate works on the caller's own entity only (there is no entity parameter), and
    # never shows a key twice.
    with pytest.raises(mfa.AlreadyEnrolled):
        mfa.enrol(bob_token)
    target = {"method_id": method_id, "entity_id": alice.entity_id}
    for path in ("identity/mfa/method/totp/admin-generate",
                 "identity/mfa/method/totp/admin-destroy"):
        assert status_of(bob_token, "POST", path, target) == 403
    assert status_of(bob_token, "GET", f"identity/entity/id/{alice.entity_id}") == 403
    assert status_of(bob_token, "LIST", "sys/raw") == 403
    # KV holds no seed, and the seeds' old place is closed to operators.
    assert status_of(bob_token, "GET", LAYOUT.kv_data("mfa/alice")) == 403
    assert status_of(bob_token, "GET", LAYOUT.kv_data("audit/key")) == 403
    listed = bob_token.list(f"secret/metadata/{LAYOUT.area}", what="the area")
    assert "mfa/" not in listed


def test_bob_cannot_sign_as_alice(bob_token: OpenBaoClient) -> None:
    with pytest.raises(OpenBaoRefused) as refused:
        signing.sign(bob_token, LAYOUT, "alice", b"alice approves")
    assert refused.value.exit_code == 3
    assert "\n" not in str(refused.value)
    # Nor through another spelling of the path.
    for path in ("transit/sign/accessgov-alice/sha2-256",
                 "transit/sign/accessgov-bob/../accessgov-alice",
                 "transit/hmac/accessgov-alice"):
        assert status_of(bob_token, "POST", path, {"input": "aGk="}) not in (200, 204), path


def test_bob_cannot_export_back_up_or_loosen_alice_s_key(bob_token: OpenBaoClient,
                                                         admin: OpenBaoClient,
                                                         alice: Person) -> None:
    for method, path in (("GET", "transit/export/signing-key/accessgov-alice"),
                         ("GET", "transit/export/public-key/accessgov-alice"),
                         ("GET", "transit/backup/accessgov-alice"),
                         ("POST", "transit/keys/accessgov-alice/config"),
                         ("POST", "transit/keys/accessgov-alice/rotate"),
                         ("DELETE", "transit/keys/accessgov-alice"),
                         ("POST", "transit/keys/accessgov-mallory")):
        assert status_of(bob_token, method, path, {"exportable": True}
                         if method == "POST" else None) == 403, path
    # The key itself refuses export and backup, even to root (backup answers HTTP 500).
    for path in ("transit/export/signing-key/accessgov-alice", "transit/backup/accessgov-alice"):
        status, body = admin.request("GET", path)
        assert status in (400, 500) and body is not None and body["errors"], (path, status, body)
    key = (admin.read("transit/keys/accessgov-alice", what="key") or {})["data"]
    assert (key["type"], key["exportable"], key["allow_plaintext_backup"]) == \
        ("ed25519", False, False)


def test_bob_cannot_change_policies_identities_or_tokens(bob_token: OpenBaoClient,
                                                         bob: Person) -> None:
    assert status_of(bob_token, "POST", f"sys/policies/acl/{LAYOUT.operator_policy}",
                     {"policy": 'path "*" { capabilities = ["sudo", "update"] }'}) == 403
    # Claiming to be Alice in his own entity's metadata would redirect the templated policy.
    assert status_of(bob_token, "POST", f"identity/entity/id/{bob.entity_id}",
                     {"metadata": {"accessgov_person": "alice"}}) == 403
    assert status_of(bob_token, "POST", "identity/entity-alias",
                     {"name": "alice", "canonical_id": bob.entity_id}) == 403
    assert status_of(bob_token, "POST", "auth/token/create",
                     {"policies": ["accessgov-operator-charity"]}) == 403
    for role in ("accessgov-enrol-alice", "accessgov-enrol-bob"):
        assert status_of(bob_token, "POST", f"auth/token/create/{role}",
                         {"entity_alias": "alice"}) == 403
    assert status_of(bob_token, "POST", "auth/userpass/users/alice",
                     {"password": "mine now"}) == 403
    assert status_of(bob_token, "POST", f"identity/mfa/login-enforcement/{LAYOUT.enforcement}",
                     {"mfa_method_ids": [], "auth_method_accessors": []}) == 403


def test_bob_cannot_undo_the_chain_head(bob_token: OpenBaoClient) -> None:
    stored = head.read_head(bob_token, LAYOUT)
    head.write_head(bob_token, LAYOUT, head.Head(sequence=1, digest="d1", actor="bob"),
                    stored.version)
    area = f"{LAYOUT.area}/audit/head"
    for method, path, data in (
            ("DELETE", f"secret/metadata/{area}", None),
            ("DELETE", f"secret/data/{area}", None),
            ("POST", f"secret/delete/{area}", {"versions": [1]}),
            ("POST", f"secret/destroy/{area}", {"versions": [1]}),
            ("POST", f"secret/metadata/{area}", {"max_versions": 1})):
        assert status_of(bob_token, method, path, data) == 403, (method, path)


# -- tokens that must stop working ----------------------------------------------------------


def test_a_revoked_token_is_refused(admin: OpenBaoClient, newcomer: Person) -> None:
    token = log_in(admin, LAYOUT, newcomer)
    signing.sign(token, LAYOUT, newcomer.person, b"before")
    mfa.logout(token)
    with pytest.raises(OpenBaoRefused):
        signing.sign(token, LAYOUT, newcomer.person, b"after")
    with pytest.raises(OpenBaoRefused):
        mfa.whoami(token)


def test_an_expired_token_is_refused(admin: OpenBaoClient, newcomer: Person) -> None:
    session = mfa.login(admin, LAYOUT, newcomer.person, newcomer.password, newcomer.code(),
                        ttl=dt.timedelta(seconds=2))
    token = admin.with_token(session.token)
    signing.sign(token, LAYOUT, newcomer.person, b"in time")
    time.sleep(3)
    with pytest.raises(OpenBaoRefused):
        signing.sign(token, LAYOUT, newcomer.person, b"too late")


def test_a_disabled_operator_cannot_log_in_and_their_token_stops(admin: OpenBaoClient) -> None:
    gina = create_and_enrol(admin, LAYOUT, "gina")
    token = log_in(admin, LAYOUT, gina)
    spare = admin.with_token(operators.enrolment_token(admin, "gina"))  # never used
    operators.disable_operator(admin, LAYOUT, "gina")
    with pytest.raises(OpenBaoRefused):
        signing.sign(token, LAYOUT, "gina", b"one more")
    with pytest.raises(OpenBaoRefused):
        mfa.whoami(spare)
    with pytest.raises(MfaFailed):
        mfa.login(admin, LAYOUT, "gina", gina.password, gina.code())
    with pytest.raises(Refused, match="disabled"):
        operators.enrolment_token(admin, "gina")
    # Re-enabled, she logs in again, but the tokens she had are gone for good.
    operators.enable_operator(admin, "gina")
    fresh = log_in(admin, LAYOUT, gina)
    signing.sign(fresh, LAYOUT, "gina", b"back")
    for old in (token, spare):
        with pytest.raises(OpenBaoRefused):
            mfa.whoami(old)


def test_destroying_a_totp_key_stops_logins_until_enrolled_again(admin: OpenBaoClient) -> None:
    hugo = create_and_enrol(admin, LAYOUT, "hugo")
    operators.destroy_mfa(admin, "hugo")
    with pytest.raises(MfaFailed):
        mfa.login(admin, LAYOUT, "hugo", hugo.password, hugo.code())
    enrolment = mfa.enrol(admin.with_token(operators.enrolment_token(admin, "hugo")))
    assert enrolment.key != hugo.key
    hugo.key, hugo.used = enrolment.key, set()
    log_in(admin, LAYOUT, hugo)


# -- not even root reads a seed back ----------------------------------------------------------


def test_root_cannot_read_a_seed_back_through_the_api(admin: OpenBaoClient, alice: Person,
                                                      server: servers.OpenBaoServer) -> None:
    method_id = setup.totp_method_id(admin)
    again = admin.write("identity/mfa/method/totp/admin-generate",
                        {"method_id": method_id, "entity_id": alice.entity_id}, what="generate")
    assert again.get("data") is None and "already has a secret" in str(again["warnings"])
    # root's own token has no entity to enrol.
    assert status_of(admin, "POST", "identity/mfa/method/totp/generate",
                     {"method_id": method_id}) == 400
    entity = admin.read(f"identity/entity/id/{alice.entity_id}", what="entity")
    method = admin.read(f"identity/mfa/method/totp/{method_id}", what="method")
    everything = json.dumps([entity, method, admin.list("secret/metadata", what="kv")])
    assert alice.key not in everything
    # Only the raw storage endpoint, which -dev turns on (and setup warns of), reaches it:
    # see test_openbao_configured_server for a server configured as an organisation runs it.
    raw = f"sys/raw/sys/mfa/totpkeys/{method_id}/{alice.entity_id}"
    assert alice.key in json.dumps(admin.read(raw, what="raw"))


# -- signatures -------------------------------------------------------------------------------


def test_signatures_round_trip_and_fail_when_anything_changes(
        alice_token: OpenBaoClient, bob_token: OpenBaoClient) -> None:
    message = b'{"seq": 7, "action": "grant.approve", "actor": "alice"}'
    signature = signing.sign(alice_token, LAYOUT, "alice", message)
    assert signature.startswith("vault:v1:")
    keys = signing.all_public_keys(bob_token, LAYOUT)
    assert {"alice", "bob"} <= set(keys)
    assert keys["alice"] == signing.public_keys(bob_token, LAYOUT, "alice")
    assert signing.verify(keys["alice"], message, signature)
    assert not signing.verify(keys["alice"], message.replace(b"7", b"8"), signature)
    assert not signing.verify(keys["bob"], message, signature)
    assert not signing.verify(keys["alice"], message, signature.replace("v1", "v2"))
    assert not signing.verify(keys["alice"], message, signature[:-6] + "AAAA==")
    assert not signing.verify(keys["alice"], message, "not a signature")
    bobs = signing.sign(bob_token, LAYOUT, "bob", message)
    assert not signing.verify(keys["alice"], message, bobs)


def test_old_signatures_still_verify_after_a_key_rotation(admin: OpenBaoClient) -> None:
    ivy = create_and_enrol(admin, LAYOUT, "ivy")
    token = log_in(admin, LAYOUT, ivy)
    old = signing.sign(token, LAYOUT, "ivy", b"first")
    admin.write("transit/keys/accessgov-ivy/rotate", {}, what="rotate")
    new = signing.sign(token, LAYOUT, "ivy", b"second")
    keys = signing.public_keys(token, LAYOUT, "ivy")
    assert sorted(keys) == [1, 2]
    assert signing.key_version(old) == 1 and signing.key_version(new) == 2
    assert signing.verify(keys, b"first", old) and signing.verify(keys, b"second", new)


def test_a_key_an_administrator_loosened_shows(admin: OpenBaoClient,
                                               bob_token: OpenBaoClient) -> None:
    create_and_enrol(admin, LAYOUT, "kate")
    assert "kate" not in signing.keys_that_can_leave(bob_token, LAYOUT)
    # Root can still make a key exportable (transit allows it, one way): it cannot hide it.
    admin.write("transit/keys/accessgov-kate/config", {"exportable": True}, what="loosen")
    assert "kate" in signing.keys_that_can_leave(bob_token, LAYOUT)


def test_create_operator_refuses_a_key_that_could_leave(admin: OpenBaoClient) -> None:
    admin.write("transit/keys/accessgov-jack", {"type": "ed25519", "exportable": True},
                what="key")
    with pytest.raises(Refused, match="not a non-exportable Ed25519 key"):
        operators.create_operator(admin, LAYOUT, "jack", "jack's password")


def test_create_operator_twice_repairs_rather_than_duplicates(admin: OpenBaoClient,
                                                              alice: Person) -> None:
    again = operators.create_operator(admin, LAYOUT, "alice", alice.password)
    assert again.entity_id == alice.entity_id
    entity = operators.find_entity(admin, "alice")
    assert len(entity["aliases"]) == 2
    assert entity["metadata"] == {"accessgov_person": "alice"}


# -- the server's time ------------------------------------------------------------------------


def test_server_time_is_the_server_s_and_the_clock_check_uses_it(
        bob_token: OpenBaoClient) -> None:
    now = clock.server_time(bob_token.with_token(None))
    assert abs(now - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=5)
    assert clock.checked_server_time(bob_token) - now < dt.timedelta(seconds=5)
    with pytest.raises(clock.ClockSkew, match="3 min 10 s ahead of the OpenBao server's"):
        clock.check_clock(now, now + dt.timedelta(minutes=3, seconds=10))
    with pytest.raises(clock.ClockSkew, match="behind"):
        clock.check_clock(now, now - dt.timedelta(minutes=2, seconds=1))
    assert clock.check_clock(now, now + dt.timedelta(minutes=1)) == dt.timedelta(minutes=1)


# -- the chain head ---------------------------------------------------------------------------


def test_the_head_moves_by_check_and_set_and_shows_a_rollback(
        alice_token: OpenBaoClient, bob_token: OpenBaoClient) -> None:
    layout = Layout(org=ORG, prefix="accessgov")
    first = head.read_head(alice_token, layout)
    base = first.version
    one = head.Head(sequence=100, digest="aa", actor="alice", signature="vault:v1:x")
    version = head.write_head(alice_token, layout, one, base)
    assert version == base + 1
    assert head.read_head(bob_token, layout) == head.StoredHead(one, version)
    # Bob raced Alice for the same head: he loses, and is told so.
    with pytest.raises(VersionConflict, match="another change was recorded"):
        head.write_head(bob_token, layout, head.Head(101, "bb", "bob"), base)
    # The same write again (an answer lost, the request retried) is recognised as done.
    assert head.write_head(alice_token, layout, one, base) == version
    two = head.Head(sequence=101, digest="cc", actor="bob")
    head.write_head(bob_token, layout, two, version)
    stored = head.read_head(alice_token, layout)
    assert head.standing(stored, 101, "cc") is head.Standing.SAME
    assert head.standing(stored, 102, "dd") is head.Standing.AHEAD
    with pytest.raises(head.RolledBack, match="restored from an older copy"):
        head.check_not_rolled_back(stored, 100, "aa")
    with pytest.raises(head.RolledBack):
        head.check_not_rolled_back(stored, 101, "forged")


def test_bob_writing_an_old_head_back_shows_by_its_version(
        alice_token: OpenBaoClient, bob_token: OpenBaoClient) -> None:
    layout = Layout(org=ORG)
    start = head.read_head(alice_token, layout)
    old = head.Head(sequence=500, digest="old", actor="alice")
    old_version = head.write_head(alice_token, layout, old, start.version)
    new_version = head.write_head(alice_token, layout, head.Head(501, "new", "alice"),
                                  old_version)
    # Bob puts event 500 back as the head, to hide a register restored to event 500 ...
    head.write_head(bob_token, layout, old, new_version)
    stored = head.read_head(alice_token, layout)
    assert head.standing(stored, 500, "old") is head.Standing.SAME  # content alone: fooled
    # ... but the restored register's newest event wrote version `old_version`, and OpenBao's
    # version has moved on twice since: no operator can move it back.
    with pytest.raises(head.RolledBack, match="behind the head"):
        head.check_not_rolled_back(stored, 500, "old", recorded_version=old_version)
    assert head.standing(stored, 500, "old", stored.version) is head.Standing.SAME


def test_a_deleted_head_shows_as_erased(admin: OpenBaoClient, alice_token: OpenBaoClient) -> None:
    layout = Layout(org="erased-org")
    setup.setup(admin, layout)
    assert head.read_head(admin, layout) == head.StoredHead(None, 0)
    head.write_head(admin, layout, head.Head(1, "aa"), 0)
    admin.delete(layout.kv_data("audit/head"), what="delete")  # only root may
    stored = head.read_head(admin, layout)
    assert stored == head.StoredHead(None, 1)
    assert head.standing(stored, 1, "aa") is head.Standing.ERASED


# -- failures are one plain line ----------------------------------------------------------------


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def test_an_unreachable_server_is_one_line_and_exit_4() -> None:
    client = OpenBaoClient(closed_port_url(), "some-token")
    with pytest.raises(BackendUnavailable) as failure:
        signing.sign(client, LAYOUT, "alice", b"x")
    assert failure.value.exit_code == 4
    assert "connection refused" in str(failure.value) and "\n" not in str(failure.value)


def test_a_server_that_never_answers_times_out_quickly() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        client = OpenBaoClient(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=0.5)
        started = time.monotonic()
        with pytest.raises(BackendUnavailable, match="did not answer"):
            clock.server_time(client)
        assert time.monotonic() - started < 3


def test_a_sealed_server_says_so(tmp_path_factory: pytest.TempPathFactory) -> None:
    sealed = servers.start_or_skip(servers.start_openbao, tmp_path_factory.mktemp("sealed"))
    try:
        client = OpenBaoClient(sealed.url, sealed.root_token)
        client.write("sys/seal", {}, what="seal")
        with pytest.raises(OpenBaoError, match="is sealed"):
            clock.server_time(client)
        with pytest.raises(OpenBaoError, match="is sealed"):
            signing.sign(client, LAYOUT, "alice", b"x")
    finally:
        sealed.stop()


def test_a_change_is_three_requests_over_one_connection(admin: OpenBaoClient,
                                                        newcomer: Person) -> None:
    client = OpenBaoClient(admin.url)
    own = log_in(client, LAYOUT, newcomer)
    who = newcomer.person
    connects, requests = count_traffic(own)
    stored = head.read_head(own, LAYOUT)
    version, sequence = stored.version, stored.head.sequence if stored.head else 0
    for _ in range(3):
        sequence += 1
        clock.checked_server_time(own)
        signature = signing.sign(own, LAYOUT, who, b"event %d" % sequence)
        version = head.write_head(own, LAYOUT, head.Head(sequence, "d", who, signature),
                                  version)
    assert requests() == 1 + 3 * 3
    assert connects() == 0  # log-in opened the connection; everything after reused it


def count_traffic(client: OpenBaoClient) -> tuple[object, object]:
    """Callables counting the new connections and the requests made through `client`."""
    link = client._link
    counts = {"connect": 0, "request": 0}
    exchange, connect = link.exchange, link._connect

    def counted_exchange(*args: object, **kwargs: object) -> tuple[int, bytes]:
        counts["request"] += 1
        return exchange(*args, **kwargs)  # type: ignore[arg-type]

    def counted_connect() -> object:
        if link._connection is None:
            counts["connect"] += 1
        return connect()

    link.exchange = counted_exchange  # type: ignore[method-assign]
    link._connect = counted_connect  # type: ignore[method-assign]
    return (lambda: counts["connect"]), (lambda: counts["request"])


def test_login_and_work_survive_the_server_closing_an_idle_connection(
        admin: OpenBaoClient, newcomer: Person) -> None:
    own = log_in(OpenBaoClient(admin.url), LAYOUT, newcomer)
    # What an idle timeout on the server does: the socket dies under the client.
    connection = own._link._connection
    assert connection is not None and connection.sock is not None
    connection.sock.shutdown(socket.SHUT_RDWR)
    assert mfa.whoami(own).person == newcomer.person

