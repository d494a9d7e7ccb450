"""Imports as charities keep their spreadsheets (issue 16, item 5): their column titles and
words, British dates, Excel's encodings and separators, a template to start from, and every
problem naming the value it is about."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.shell import Shell


def person(sh: Shell, person_id: str) -> dict[str, object]:
    found = json.loads(sh.run(f"person show {person_id} --format json").stdout)
    assert isinstance(found, dict)
    return found


def test_a_windows_spreadsheet_saved_as_plain_csv_with_semicolons(org: Shell,
                                                                 tmp_path: Path) -> None:
    path = tmp_path / "staff.csv"
    path.write_bytes((
        "ID;Full name;Email address;Type;Job title;Line manager;Start date\r\n"
        "zlee;Zoë Lee;zoe@example.org;Staff;Café manager;jdoe;31/12/2025\r\n"
        "rkhan;Ravi Khan;ravi@example.org;VOLUNTEER;Driver;;01/02/2026\r\n"
    ).encode("cp1252"))
    org.run(f"import {path} --kind people {org.as_('vperkins')}")
    zoe = person(org, "zlee")
    assert (zoe["name"], zoe["category"], zoe["title"], zoe["manager"], zoe["start_date"]) == (
        "Zoë Lee", "employee", "Café manager", "jdoe", "2025-12-31")
    assert person(org, "rkhan")["category"] == "volunteer"


def test_a_utf16_tab_separated_sheet_with_the_platforms_as_people_say_them(
        org: Shell, tmp_path: Path) -> None:
    path = tmp_path / "accounts.txt"
    path.write_bytes((
        "Account\tSite\tUsername\tOwned by\tWhat for\t2FA\n"
        "x-main\tTwitter\t@ourcharity\tvperkins\tNews\tAuthenticator app\n"
    ).encode("utf-16"))
    org.run(f"import {path} --kind accounts {org.as_('spatel')}")
    account = json.loads(org.run("account show x-main --format json").stdout)
    assert (account["platform"], account["mfa_method"]) == ("x", "totp")


def test_american_dates_when_told(org: Shell, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("id,name,email,category,start_date\n"
                    "amy,Amy,amy@example.org,volunteer,12/31/2025\n", encoding="utf-8")
    org.run(f"import {path} --kind people {org.as_('vperkins')}", expect=2)  # no month 31
    org.run(f"import {path} --kind people --date-format mm/dd/yyyy {org.as_('vperkins')}")
    assert person(org, "amy")["start_date"] == "2025-12-31"


def test_every_problem_names_the_value(org: Shell, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("id,name,email,category\nkim,Kim,not-an-email,Wizard\n", encoding="utf-8")
    result = org.run(f"import {path} --kind people --format json {org.as_('vperkins')}",
                     expect=2)
    reasons = {p["column"]: p["reason"] for p in json.loads(result.stdout)["problems"]}
    assert reasons["email"].endswith("(it is 'not-an-email')")
    assert reasons["category"].endswith("(it is 'Wizard')")


def test_the_template_is_a_file_that_imports(org: Shell, tmp_path: Path) -> None:
    text = org.run("import template --kind people").stdout
    header = text.splitlines()[0].split(",")
    assert header[:4] == ["id", "name", "email", "category"]
    path = tmp_path / "people.csv"
    path.write_text(text.replace("jdoe", "newbie").replace("jo.doe@", "newbie@"),
                    encoding="utf-8")
    report = json.loads(org.run(f"import {path} --kind people --dry-run --format json")
                        .stdout)
    assert report["added"] == {"people": 1} and report["problems"] == []
    for kind in ("accounts", "delegations", "grants"):
        assert org.run(f"import template --kind {kind}").stdout.count("\n") == 2


def test_the_schemas_ship_inside_the_package(org: Shell) -> None:
    names = org.run("schema").stdout.split()
    assert {"import-people", "grant-list", "todo-list", "export"} <= set(names)
    shown = json.loads(org.run("schema import-people").stdout)
    assert shown["title"] and "category" in shown["properties"]
    assert "there is no schema 'nope'" in org.run("schema nope", expect=2).stderr


def test_update_brings_peoples_details_up_to_date_and_nothing_more(org: Shell,
                                                                  tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("id,name,email,category,title\n"
                    "jdoe,Jo Doe,jo.new@example.org,employee,Head of Youth\n", encoding="utf-8")
    refused = org.run(f"import {path} --kind people --format json {org.as_('vperkins')}",
                      expect=2)
    assert "already in the register with a different" in refused.stdout
    dry = json.loads(org.run(f"import {path} --kind people --update --dry-run --format json")
                     .stdout)
    assert dry["updated"] == {"people": 1} and dry["changes"][0]["action"] == "update"
    done = org.run(f"import {path} --kind people --update {org.as_('vperkins')}").stdout
    assert "1 updated" in done
    jo = person(org, "jdoe")
    assert (jo["email"], jo["title"]) == ("jo.new@example.org", "Head of Youth")
    event = json.loads(org.run("audit log --action person.update --format json").stdout)[-1]
    assert event["details"]["before"]["email"] == "j@example.org"
    assert event["details"]["via"] == "import"
    # A category (here: making jdoe a trustee) is not an import's to change.
    path.write_text("id,name,email,category\njdoe,Jo Doe,jo.new@example.org,trustee\n",
                    encoding="utf-8")
    result = org.run(f"import {path} --kind people --update --format json "
                     f"{org.as_('vperkins')}", expect=2)
    reason = json.loads(result.stdout)["problems"][0]["reason"]
    assert "category cannot be changed by an import" in reason
    assert org.run("audit verify").exit_code == 0


def test_a_sheet_without_ids_gets_them_from_names(org: Shell, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("Full name,Email address,Type\n"
                    "Zoë Lee,zoe@example.org,Staff\n"
                    "Jo Doe,other.jo@example.org,Volunteer\n"   # jdoe is taken: jdoe2
                    "Jay Doe,jay@example.org,Volunteer\n", encoding="utf-8")
    dry = json.loads(org.run(f"import {path} --kind people --dry-run --format json").stdout)
    assert [change["id"] for change in dry["changes"]] == ["zlee", "jdoe2", "jdoe3"]
    org.run(f"import {path} --kind people {org.as_('vperkins')}")
    assert person(org, "zlee")["name"] == "Zoë Lee"
    # Run again: each row finds its person by email; nothing is added twice.
    again = json.loads(org.run(f"import {path} --kind people --format json "
                               f"{org.as_('vperkins')}").stdout)
    assert again["added"] == {"people": 0} and again["unchanged"] == {"people": 3}


def test_update_does_not_reseal_a_person_changed_behind_the_log(org: Shell,
                                                                tmp_path: Path) -> None:
    from tests.support.behind import behind_the_log

    behind_the_log(org.db, "UPDATE people SET category = 'trustee' WHERE id = 'jdoe'")
    path = tmp_path / "people.csv"
    path.write_text("id,name,email,category\njdoe,Jo Doe,jo.new@example.org,trustee\n",
                    encoding="utf-8")
    result = org.run(f"import {path} --kind people --update {org.as_('vperkins')}", expect=3)
    assert "changed outside accessgov" in result.stderr
    assert org.run("audit verify", expect=1).exit_code == 1  # still named


def test_the_command_offers_the_date_formats_the_reader_knows() -> None:
    """The CLI spells them itself (its module stays light at start-up)."""
    from accessgov.cli import transfer as command
    from accessgov.transfer import reading

    assert command.DATE_FORMATS == reading.DATE_FORMATS
