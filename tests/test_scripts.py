"""The helpers of scripts/demo.py and scripts/bench.py (the scripts themselves run in
`make demo` and `make bench`)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

import bench
import demo

from accessgov.audit import chain as audit
from accessgov.audit.verification import verify_register
from accessgov.db import seals
from accessgov.db.register import Register

RFC_SEED = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # RFC 6238's SHA1 key, base32


def test_seed_comes_from_the_otpauth_link() -> None:
    uri = f"otpauth://totp/accessgov:vperkins%40interact?secret={RFC_SEED}&issuer=accessgov"
    assert demo.seed_from_uri(uri) == RFC_SEED


def test_anything_but_an_otpauth_link_fails_the_demo() -> None:
    with pytest.raises(demo.DemoFailed):
        demo.seed_from_uri("Pending: confirm with 'accessgov mfa verify'")


def test_codes_follow_rfc_6238_and_can_look_one_step_back() -> None:
    # RFC 6238 vectors (last six digits): t=59 -> 94287082, t=1111111109 -> 07081804.
    assert demo.code_for(RFC_SEED, now=59) == "287082"
    assert demo.code_for(RFC_SEED, now=1111111109 + 30, steps_back=1) == "081804"


def test_seconds_to_the_next_step() -> None:
    assert demo.seconds_to_boundary(60.0) == 30.0
    assert demo.seconds_to_boundary(89.5) == 0.5


def test_synthetic_grants_never_repeat_a_person_and_account() -> None:
    pairs = [(person, account) for _, person, account in bench.grant_pairs(bench.BIG)]
    assert len(pairs) == bench.BIG.grants == len(set(pairs))
    assert "p00000" not in {person for person, _ in pairs}  # the CEO approves, holds nothing


def test_synthetic_register_has_a_valid_audit_chain_explaining_every_record(
        tmp_path: Path) -> None:
    db, key = tmp_path / "register.db", b"k" * 32
    trust = audit.keyed_trust(key)
    register = Register.create(db)
    with register.transaction():
        seals.track(register)
        log = audit.AuditLog(register, trust)
        log.append(bench.AT, "setup", "register.init", "bench", {})
        log.commit()
    register.close()

    bench.fill(db, key, bench.SMALL)

    register = Register.open(db)
    try:
        report = verify_register(register, trust, None)
        assert report.ok, (report.verdict.problem, report.findings)
        assert report.verdict.events == 1 + bench.SMALL.events == 1 + 10 + 3 + 2 * 12 + 1
        assert register.value("SELECT COUNT(*) FROM approvals") == bench.SMALL.grants
    finally:
        register.close()
