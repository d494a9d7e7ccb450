"""A repeat `audit verify` of a signed log checks only the signatures made since the last one,
and only while the log still holds, unchanged, the signatures that were checked then."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from accessgov.audit import chain
from accessgov.audit.chain import Proven, SignedEventSeals, verify_events
from accessgov.secrets.openbao import signing

PEOPLE = ("vperkins", "spatel")


class Operators:
    """Two operators' Ed25519 keys, as transit would hold them, and a count of checks."""

    def __init__(self) -> None:
        self.keys = {who: Ed25519PrivateKey.generate() for who in PEOPLE}
        self.checks = 0

    def sign(self, who: str, mac: str) -> str:
        raw = self.keys[who].sign(mac.encode("ascii"))
        return f"vault:v1:{base64.b64encode(raw).decode('ascii')}"

    def check(self, signer: str, message: bytes, signature: str) -> str | None:
        self.checks += 1
        public = self.keys[signer].public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return None if signing.verify({1: public}, message, signature) else "it does not verify"

    def sealing(self) -> SignedEventSeals:
        return SignedEventSeals(None, self.check)


def signed_log(operators: Operators, changes: int) -> list[tuple[Any, ...]]:
    """`changes` changes of two events each, by the two operators in turn, each signed."""
    log: list[tuple[Any, ...]] = []
    for _ in range(changes):
        add_change(log, operators, PEOPLE[len(log) // 2 % 2])
    return log


def add_change(log: list[tuple[Any, ...]], operators: Operators, who: str) -> None:
    prev = log[-1][7] if log else chain.GENESIS
    for last in (False, True):
        seq = len(log) + 1
        event = (seq, "2026-12-03T10:00:00Z", who, "person.update", f"p{seq}", "{}", prev)
        mac = hashlib.sha256(chain._message(*event, "")).hexdigest()
        signature = operators.sign(who, mac) if last else None
        log.append((*event, mac, "", who if last else None, signature))
        prev = mac


def test_a_repeat_verify_checks_only_the_signatures_made_since() -> None:
    operators = Operators()
    log = signed_log(operators, 50)
    first = verify_events(operators.sealing(), log)
    assert first.ok and operators.checks == 50 and first.proven is not None
    operators.checks = 0
    again = verify_events(operators.sealing(), log, proven=first.proven)
    assert again.ok and operators.checks == 0 and again.proven == first.proven
    add_change(log, operators, "spatel")
    after_one_more = verify_events(operators.sealing(), log, proven=first.proven)
    assert after_one_more.ok and operators.checks == 1


@pytest.mark.parametrize("forgery", ["signature", "signer"])
def test_a_signature_replaced_behind_the_log_is_still_found(forgery: str) -> None:
    """The mac does not cover the signature: a record alone would not see it replaced. The
    digest of the signatures does, and every signature is checked again."""
    operators = Operators()
    log = signed_log(operators, 20)
    proven = verify_events(operators.sealing(), log).proven
    victim = list(log[9])  # the last event of the fifth change (vperkins's)
    assert victim[9] == "vperkins"
    if forgery == "signature":
        victim[10] = operators.sign("vperkins", "something else")
    else:
        victim[9] = "spatel"
    log[9] = tuple(victim)
    operators.checks = 0
    verdict = verify_events(operators.sealing(), log, proven=proven)
    assert verdict.bad_seq == 10
    assert operators.checks >= 5


def test_a_forged_record_of_what_was_proven_proves_nothing() -> None:
    """A record naming the head of a log forged in its signatures does not pass it off: the
    chain is recomputed, and the record's digest must be of the signatures the log holds."""
    operators = Operators()
    log = signed_log(operators, 10)
    victim = list(log[3])
    victim[10] = operators.sign("vperkins", "not this change")
    log[3] = tuple(victim)
    head = log[-1]
    for forged in (Proven(head[0], head[7], "0" * 64),
                   Proven(head[0], "f" * 64, "0" * 64),
                   Proven(head[0] + 5, head[7], "0" * 64)):
        verdict = verify_events(operators.sealing(), log, proven=forged)
        assert verdict.bad_seq == 4, forged


def test_a_log_cut_before_the_proven_head_has_its_signatures_checked() -> None:
    operators = Operators()
    log = signed_log(operators, 10)
    proven = verify_events(operators.sealing(), log).proven
    victim = list(log[3])
    victim[10] = operators.sign("vperkins", "not this change")
    log[3] = tuple(victim)
    verdict = verify_events(operators.sealing(), log[:12], proven=proven)
    assert verdict.bad_seq == 4
