"""A leaver with something of everything the checklist covers."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.schemas import validate_output
from tests.support.shell import Shell

SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture
def leaver(shared: Shell) -> Shell:
    """jdoe, about to leave, with MFA and an open session, who:

    - holds G-0001 (member, shared login) on tiktok-main, whose password (v1) they revealed,
      whose TOTP seed they took a code from, and whose recovery codes they revealed before
      they were rotated (so those are NOT on the list);
    - holds G-0002 (editor) on instagram-main and has a pending request G-0003 on x-main;
    - oversees the WhatsApp group whatsapp-youth, whose recovery email is theirs;
    - owns linkedin-main; holds delegation D-0001 for instagram-main.
    """
    sh, as_ = shared, shared.as_
    sh.enrol("jdoe", by="vperkins")
    sh.run(f"cred set tiktok-main --kind totp-seed --stdin {as_('vperkins')}", input=SEED)
    sh.run(f"cred set tiktok-main --kind recovery-codes --stdin {as_('vperkins')}",
           input="1111-2222\n3333-4444\n")
    sh.run(f"cred reveal tiktok-main {as_('jdoe')}")
    sh.run(f"otp tiktok-main {as_('jdoe')}")
    sh.run(f"cred reveal tiktok-main --kind recovery-codes {as_('jdoe')}")
    sh.run(f"cred rotate tiktok-main --kind recovery-codes --stdin {as_('vperkins')}",
           input="5555-6666\n")
    sh.run(f"grant add jdoe instagram-main --role editor --reason 'Youth events' "
           f"{as_('vperkins')}")
    sh.run(f"account add x-main --platform x --handle @interact_x --owner vperkins "
           f"--purpose News {as_('spatel')}")
    sh.run(f"grant request jdoe x-main --role editor --reason Cover {as_('vperkins')}")
    sh.run(f"account add whatsapp-youth --platform whatsapp --handle 'Youth group' "
           f"--owner vperkins --purpose 'Youth chat' --kind messaging-group --overseer jdoe "
           f"--recovery-email J@Example.org {as_('spatel')}")
    sh.run(f"account add linkedin-main --platform linkedin --handle InterAct --owner jdoe "
           f"--purpose Jobs {as_('vperkins')}")
    sh.run(f"delegate add jdoe --account instagram-main {as_('vperkins')}")
    sh.run(f"login --as jdoe --otp {sh.code('jdoe')}")
    sh.run("logout")
    sh.run(f"login --as jdoe --otp {sh.code('jdoe')}")
    return sh


def show(sh: Shell, person: str = "jdoe") -> dict[str, Any]:
    """`offboard show --format json`, validated against its schema."""
    data = validate_output("offboard-show", sh.run(f"offboard show {person} --format json").stdout)
    assert isinstance(data, dict)
    return data

