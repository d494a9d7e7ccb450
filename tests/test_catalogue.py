"""The platform catalogue: its shipped data, its schema and its loader."""

from __future__ import annotations

import json
import string
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from accessgov.access import catalogue
from accessgov.access.catalogue import MFA_METHODS, ROLES, Platform, all_platforms, platform
from accessgov.errors import InputError

SPEC_PLATFORMS = [
    "x", "facebook", "instagram", "tiktok", "youtube", "linkedin", "threads",
    "whatsapp", "discord", "snapchat", "bluesky", "mastodon", "other",
]  # fmt: skip
PLACEHOLDERS = {"person", "handle", "platform"}
SCHEMA_PATH = Path(__file__).resolve().parents[1] / "schemas" / "platform-catalogue.schema.json"
OFFERABLE_MFA = {"security-key", "totp", "app-prompt", "sms"}


def raw_catalogue() -> dict[str, Any]:
    text = resources.files("accessgov").joinpath("data/platforms.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def all_steps(p: Platform) -> list[str]:
    return [step for steps in p.offboarding.values() for step in steps] + list(p.shared_login_steps)


@pytest.fixture(params=SPEC_PLATFORMS)
def each(request: pytest.FixtureRequest) -> Platform:
    return platform(request.param)


# --- the data file -------------------------------------------------------------------------------


def test_data_file_matches_its_schema() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(raw_catalogue())


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda d: d["platforms"][0].update(colour="blue"), id="unknown platform key"),
        pytest.param(lambda d: d.update(extra=1), id="unknown top-level key"),
        pytest.param(lambda d: d["platforms"][0]["roles"].update(owner="Owner"), id="unknown role"),
        pytest.param(
            lambda d: d["platforms"][0]["offboarding"].update(owner=["x"]), id="steps key"
        ),
        pytest.param(lambda d: d["platforms"][0].update(mfa_methods=["email"]), id="mfa method"),
        pytest.param(lambda d: d["platforms"][0].update(kind="forum"), id="kind"),
        pytest.param(
            lambda d: d["platforms"][0]["offboarding"]["admin"].append("Tell {name}"),
            id="placeholder",
        ),
        pytest.param(
            lambda d: d["platforms"][0]["offboarding"]["admin"].append("one\ntwo"), id="newline"
        ),
        pytest.param(lambda d: d["platforms"][0]["offboarding"].pop("shared_login"), id="no steps"),
    ],
)
def test_schema_rejects_malformed_data(mutate: Any) -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    data = raw_catalogue()
    mutate(data)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)


def test_every_platform_in_the_spec_is_present_in_order() -> None:
    assert [p.id for p in all_platforms()] == SPEC_PLATFORMS


def test_platform_ids_are_unique() -> None:
    ids = [entry["id"] for entry in raw_catalogue()["platforms"]]
    assert len(ids) == len(set(ids))


def test_messaging_groups_are_whatsapp_and_discord() -> None:
    assert all(p.kind in catalogue.KINDS for p in all_platforms())
    assert {p.id for p in all_platforms() if p.kind == "messaging-group"} == {"whatsapp", "discord"}


# --- each platform -------------------------------------------------------------------------------


def test_roles_are_generic_roles_with_platform_words(each: Platform) -> None:
    assert each.roles, "every platform offers at least one role"
    assert set(each.roles) <= set(ROLES)
    assert all(word.strip() for word in each.roles.values())


def test_every_offered_role_has_offboarding_steps(each: Platform) -> None:
    assert set(each.offboarding) == set(each.roles)
    assert all(each.offboarding[role] for role in each.roles)
    assert each.shared_login_steps


def test_steps_use_only_the_three_placeholders(each: Platform) -> None:
    for step in all_steps(each):
        fields = {name for _, name, _, _ in string.Formatter().parse(step) if name is not None}
        assert fields <= PLACEHOLDERS, step
        step.format(person="P", handle="H", platform="N")  # no KeyError, no stray braces


def test_steps_are_single_plain_lines(each: Platform) -> None:
    for step in all_steps(each):
        assert step == step.strip() and "\n" not in step, step
        assert step[0].isupper() or step[0] == "{", step
        assert step.endswith("."), step


def test_mfa_methods_come_from_the_allowed_list(each: Platform) -> None:
    assert set(each.mfa_methods) <= OFFERABLE_MFA <= set(MFA_METHODS)
    assert list(each.mfa_methods) == sorted(each.mfa_methods, key=MFA_METHODS.index)


def test_shared_login_only_platforms_offer_member_alone(each: Platform) -> None:
    if not each.delegated_access:
        assert set(each.roles) == {"member"}


def test_notes_are_one_line(each: Platform) -> None:
    assert "\n" not in each.notes


def test_known_access_models() -> None:
    shared_only = {p.id for p in all_platforms() if not p.delegated_access}
    assert shared_only == {"bluesky", "mastodon"}
    assert set(platform("other").roles) == set(ROLES)
    assert set(platform("other").mfa_methods) == OFFERABLE_MFA


def test_role_words() -> None:
    assert platform("youtube").role_word("admin") == "Manager"
    assert platform("linkedin").role_word("admin") == "Super admin"
    assert platform("whatsapp").role_word("member") == "Group member"


# --- the loader ----------------------------------------------------------------------------------


def test_offboarding_steps_fill_the_placeholders() -> None:
    steps = platform("facebook").offboarding_steps("editor", "Vickie Perkins", "InterActCharity")
    assert steps and all("{" not in s and "}" not in s for s in steps)
    assert any("Vickie Perkins" in s for s in steps)
    assert any("InterActCharity" in s for s in steps)


def test_filled_values_are_not_parsed_again() -> None:
    steps = platform("x").offboarding_steps("admin", "{handle}", "{person}")
    assert any("{handle}" in s for s in steps)


def test_platform_placeholder_is_the_display_name() -> None:
    p = Platform(
        id="t", name="Test Net", kind="social", roles={"member": "Member"},
        delegated_access=False, default_access="shared-login", mfa_methods=(),
        offboarding={"member": ("Leave {platform}.",)},
        shared_login_steps=("Change the {platform} password for {handle}.",),
    )  # fmt: skip
    assert p.offboarding_steps("member", "P", "H") == ["Leave Test Net."]
    assert p.shared_login_checklist("P", "@h") == ["Change the Test Net password for @h."]


def test_unknown_role_error_is_one_line_naming_the_choices() -> None:
    with pytest.raises(InputError) as caught:
        platform("whatsapp").role_word("editor")
    assert str(caught.value) == (
        "WhatsApp does not have an 'editor' role; choose one of: admin, member"
    )
    with pytest.raises(InputError, match="does not have a 'moderator' role"):
        platform("x").offboarding_steps("moderator", "P", "H")


def test_unknown_role_error_stays_on_one_line() -> None:
    with pytest.raises(InputError) as caught:
        platform("bluesky").role_word("ad\nmin")
    assert "\n" not in str(caught.value)
    assert str(caught.value).endswith("choose one of: member")


def test_unknown_platform_error_is_one_line_naming_the_choices() -> None:
    with pytest.raises(InputError) as caught:
        platform("myspace")
    assert str(caught.value) == (
        "unknown platform 'myspace'; choose one of: " + ", ".join(SPEC_PLATFORMS)
    )
    assert caught.value.exit_code == 2


def test_catalogue_is_loaded_once_and_read_only() -> None:
    assert platform("x") is platform("x")
    assert all_platforms() is not all_platforms()  # callers may sort their own copy
    assert catalogue._catalogue.cache_info().misses <= 1
    with pytest.raises(TypeError):
        platform("x").roles["moderator"] = "Moderator"  # type: ignore[index]


def test_data_is_shipped_as_package_data() -> None:
    assert resources.files("accessgov").joinpath("data/platforms.json").is_file()


def test_importing_the_catalogue_stays_cheap() -> None:
    code = (
        "import sys, accessgov.access.catalogue as c; c.all_platforms(); "
        "heavy = {'click', 'sqlite3', 'sqlite_utils', 'hvac', 'requests', 'keyring'}; "
        "print(sorted(heavy & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
