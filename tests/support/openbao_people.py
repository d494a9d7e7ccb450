"""Operators on a real OpenBao server for the tests of accessgov.secrets.openbao: create
one, enrol them through an enrolment token, and make TOTP codes OpenBao has not seen yet."""

from __future__ import annotations

import dataclasses
import secrets
import time

import pyotp

from accessgov.secrets.openbao import mfa, operators
from accessgov.secrets.openbao.client import OpenBaoClient
from accessgov.secrets.openbao.layout import Layout

STEP = 30


@dataclasses.dataclass
class Person:
    """An operator the test made: their password and the TOTP key they enrolled."""

    person: str
    password: str
    key: str
    entity_id: str
    # OpenBao refuses a code it has accepted within its window (per method, not per person).
    used: set[tuple[int, str]] = dataclasses.field(default_factory=set)

    def code(self) -> str:
        """A code for now (or the step either side, which OpenBao accepts) not used before."""
        while True:
            now = int(time.time()) // STEP
            for step in (now, now + 1, now - 1):
                code = pyotp.TOTP(self.key).at(step * STEP)
                if (step, code) not in self.used:
                    self.used.add((step, code))
                    return str(code)
            time.sleep(1)

    def stale_code(self) -> str:
        """A code of this person's key from ten minutes ago: right key, wrong time."""
        return str(pyotp.TOTP(self.key).at(time.time() - 600))


def create_and_enrol(admin: OpenBaoClient, layout: Layout, person: str) -> Person:
    """`person` created by the administrator and enrolled with their own enrolment token."""
    password = secrets.token_urlsafe(18)
    operator = operators.create_operator(admin, layout, person, password)
    token = operators.enrolment_token(admin, person)
    enrolment = mfa.enrol(admin.with_token(token))
    return Person(person, password, enrolment.key, operator.entity_id)


def log_in(client: OpenBaoClient, layout: Layout, who: Person) -> OpenBaoClient:
    """A client holding a fresh token of `who` (logged in with password and code)."""
    session = mfa.login(client, layout, who.person, who.password, who.code())
    return client.with_token(session.token)
