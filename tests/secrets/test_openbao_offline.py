"""The parts of accessgov.secrets.openbao that need no server: verification, the policy text,
names, the clock check, the head's standing, the error messages, and lazy imports."""

from __future__ import annotations

import base64
import datetime as dt
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from accessgov.errors import BackendUnavailable, InputError
from accessgov.secrets.config import BackendConfig
from accessgov.secrets.openbao import clock, head, mfa, policies, signing
from accessgov.secrets.openbao.client import OpenBaoClient, OpenBaoError, OpenBaoRefused
from accessgov.secrets.openbao.layout import Layout, check_person, key_name

MESSAGE = b'{"seq": 1, "action": "grant.approve"}'


def transit_style(private: Ed25519PrivateKey, message: bytes, version: int = 1) -> str:
    """A signature spelt as OpenBao's transit engine spells it."""
    return f"vault:v{version}:" + base64.b64encode(private.sign(message)).decode()


def raw_public(private: Ed25519PrivateKey) -> bytes:
    return private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


# -- verification -----------------------------------------------------------------------------


def test_verify_accepts_the_signer_s_key_and_nothing_else() -> None:
    alice, bob = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    signature = transit_style(alice, MESSAGE)
    assert signing.verify({1: raw_public(alice)}, MESSAGE, signature)
    assert not signing.verify({1: raw_public(bob)}, MESSAGE, signature)
    assert not signing.verify({1: raw_public(alice)}, MESSAGE + b" ", signature)
    assert not signing.verify({2: raw_public(alice)}, MESSAGE, signature)  # unknown version
    assert not signing.verify({}, MESSAGE, signature)


@pytest.mark.parametrize("signature", [
    "", "vault:v1:", "vault:v0:AAAA", "vault:v1:not base64!", "vault:v1:" + "A" * 88,
    "vault:v1:" + base64.b64encode(b"short").decode(), "v1:" + "A" * 86 + "==",
])
def test_verify_says_false_to_a_malformed_signature(signature: str) -> None:
    key = raw_public(Ed25519PrivateKey.generate())
    assert not signing.verify({1: key}, MESSAGE, signature)


def test_verify_says_false_to_a_malformed_key() -> None:
    signature = transit_style(Ed25519PrivateKey.generate(), MESSAGE)
    assert not signing.verify({1: b"\x00" * 31}, MESSAGE, signature)


def test_key_version_reads_the_version_a_signature_names() -> None:
    signature = transit_style(Ed25519PrivateKey.generate(), MESSAGE, version=3)
    assert signing.key_version(signature) == 3
    assert signing.key_version("nonsense") is None


# -- names and policies -------------------------------------------------------------------------


@pytest.mark.parametrize("person", ["alice", "a", "v.perkins", "j_doe-2"])
def test_person_ids_that_name_openbao_things(person: str) -> None:
    assert key_name(person) == f"accessgov-{person}"


@pytest.mark.parametrize("person", ["", "Alice", "al/ice", "alice-", "-alice", "a" * 70, "*"])
def test_person_ids_that_cannot(person: str) -> None:
    with pytest.raises(InputError, match="cannot name an OpenBao operator"):
        check_person(person)


@pytest.mark.parametrize("field", ["kv_mount", "prefix", "auth_mount", "transit_mount"])
def test_a_layout_refuses_paths_that_climb_out(field: str) -> None:
    with pytest.raises(InputError, match="not a usable path"):
        Layout(org="charity", **{field: "a/../sys"})


def test_a_layout_refuses_an_org_no_policy_can_name() -> None:
    with pytest.raises(InputError):
        Layout(org="Charity Ltd")


def test_a_layout_follows_the_register_s_vault_settings() -> None:
    config = BackendConfig(kind="vault", org_slug="charity", vault_mount="kv/",
                           vault_prefix="teams/comms")
    layout = Layout.of(config)
    assert layout.kv_data("audit/head") == "kv/data/teams/comms/charity/audit/head"
    assert layout.sign_path("alice") == "transit/sign/accessgov-alice"


def test_the_operator_policy_signs_with_the_token_s_own_key_only() -> None:
    text = policies.operator_policy(Layout(org="charity"))
    assert 'path "transit/sign/accessgov-{{identity.entity.metadata.accessgov_person}}"' in text
    assert 'path "transit/sign/accessgov-*"' not in text
    # No rule lets an operator loosen or take a key, or touch identities and policies.
    for forbidden in ("transit/export", "transit/backup", "/config", "sys/policies",
                      "identity/entity", "admin-generate", "admin-destroy", "sys/raw"):
        assert forbidden not in text
    assert 'path "secret/data/accessgov/charity/mfa/*" {\n  capabilities = ["deny"]' in text
    assert 'path "secret/destroy/accessgov/charity/audit/*" {\n  capabilities = ["deny"]' in text


def test_the_enrolment_policy_only_enrols() -> None:
    text = policies.enrol_policy()
    paths = [line.split('"')[1] for line in text.splitlines() if line.startswith("path")]
    assert paths == ["identity/mfa/method/totp/generate", "identity/mfa/method/totp",
                     "auth/token/lookup-self"]


# -- the clock and the head -------------------------------------------------------------------


def test_the_clock_check_allows_two_minutes_either_way() -> None:
    server = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
    for offset in (-120, -1, 0, 1, 120):
        assert clock.check_clock(server, server + dt.timedelta(seconds=offset)).total_seconds() \
            == offset
    with pytest.raises(clock.ClockSkew, match="1 h 5 min behind") as skew:
        clock.check_clock(server, server - dt.timedelta(hours=1, minutes=5))
    assert skew.value.exit_code == 3
    with pytest.raises(clock.ClockSkew, match="2 min 1 s ahead"):
        clock.check_clock(server, server + dt.timedelta(seconds=121))


@pytest.mark.parametrize(("sequence", "digest", "expected"), [
    (10, "aa", head.Standing.SAME),
    (11, "bb", head.Standing.AHEAD),
    (9, "zz", head.Standing.BEHIND),
    (10, "zz", head.Standing.FORKED),
])
def test_where_a_register_stands_against_the_head(sequence: int, digest: str,
                                                  expected: head.Standing) -> None:
    stored = head.StoredHead(head.Head(10, "aa"), version=4)
    assert head.standing(stored, sequence, digest) is expected


@pytest.mark.parametrize(("recorded", "expected"), [
    (4, head.Standing.SAME), (3, head.Standing.BEHIND), (5, head.Standing.AHEAD),
])
def test_the_recorded_version_decides_before_the_content(recorded: int,
                                                         expected: head.Standing) -> None:
    stored = head.StoredHead(head.Head(10, "aa"), version=4)
    assert head.standing(stored, 10, "aa", recorded_version=recorded) is expected


def test_no_head_is_a_first_write_unless_one_was_deleted() -> None:
    assert head.standing(head.StoredHead(None, 0), 0, "") is head.Standing.FIRST
    assert head.standing(head.StoredHead(None, 3), 5, "x") is head.Standing.ERASED
    with pytest.raises(head.RolledBack, match="version 3"):
        head.check_not_rolled_back(head.StoredHead(None, 3), 5, "x")


# -- error messages ---------------------------------------------------------------------------


CLIENT = OpenBaoClient("http://127.0.0.1:1", namespace="team-a")


def test_a_forbidden_answer_is_a_refusal_on_one_line() -> None:
    error = CLIENT.failure(403, {"errors": ["1 error occurred:\n\t* permission denied\n\n"]},
                           "signing as alice")
    assert isinstance(error, OpenBaoRefused) and error.exit_code == 3
    assert str(error).startswith("OpenBao refused signing as alice (permission denied):")
    assert "\n" not in str(error)


@pytest.mark.parametrize(("status", "body", "words"), [
    (503, {"errors": ["Vault is sealed"]}, "is sealed"),
    (503, {"sealed": True}, "is sealed"),
    (404, {"errors": ["no handler for route \"transit/sign/x\""]}, "run accessgov's OpenBao"),
    (429, {"errors": []}, "too busy"),
    (500, {"errors": ["internal error"]}, "HTTP 500: internal error"),
    (502, None, "not OpenBao's JSON"),
])
def test_other_answers_are_unavailable_on_one_line(status: int, body: dict[str, object] | None,
                                                   words: str) -> None:
    error = CLIENT.failure(status, body, "signing as alice")
    assert isinstance(error, OpenBaoError) and error.exit_code == 4
    assert words in str(error) and "\n" not in str(error)


def test_a_bad_address_is_one_line() -> None:
    with pytest.raises(BackendUnavailable, match="not an http:// or https:// URL"):
        OpenBaoClient("ftp://example").read("sys/health", what="x")


def test_secrets_never_show_in_a_repr() -> None:
    seed = "JBSWY3DPEHPK3PXP"
    enrolment = mfa.Enrolment(url=f"otpauth://totp/x?secret={seed}", key=seed)
    session = mfa.Session("alice", "s.secret-token", "entity", 900)
    assert "JBSWY3DP" not in repr(enrolment)
    assert "secret-token" not in repr(session)


def test_nothing_heavy_is_imported_until_a_signature_is_checked() -> None:
    code = (
        "import sys\n"
        "from accessgov.secrets.openbao import clock, head, mfa, operators, setup, signing\n"
        "heavy = {'hvac', 'requests', 'cryptography', 'keyring', 'sqlite_utils'}\n"
        "print(sorted(heavy & {name.split('.')[0] for name in sys.modules}))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"
