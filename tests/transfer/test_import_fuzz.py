"""Hostile import files, made up by hypothesis, through `import --dry-run` and `import`.

CSV and JSON files with odd headers (missing, duplicated, untitled, very many), cells of every
kind (ids in other scripts' digits, 5,000-digit ids, control characters, byte-order marks in
the middle, cells of 10,000 and 200,000 characters), JSON nested deeply, numbers of 5,000
digits, NaN, duplicate keys, lone surrogates, and files in UTF-16, Latin-1 or with stray
bytes. Whatever the file, accessgov must answer as SPEC §3 says: exit 0, 2 or 3 (never 70),
no traceback, exactly one line on stderr when it refuses, the register left as it was by a
refusal (but for the `refused` event), and the dry run reporting exactly what the import does.

ACCESSGOV_IMPORT_FUZZ_EXAMPLES sets how many files (default 300: 10 to 25 s here); the test
prints how many it ran and their exit codes.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accessgov.transfer import rowschema
from tests.support.shell import Shell
from tests.test_fuzz import assert_unchanged_but_for_the_record, error_lines, state

EXAMPLES = int(os.environ.get("ACCESSGOV_IMPORT_FUZZ_EXAMPLES", "300"))
KINDS = ("people", "accounts", "delegations", "grants")
COLUMNS = {kind: list(rowschema.load(kind).columns) for kind in KINDS}

ODD_DIGITS = ["\u00b2\u00b3\u00b9\u00b9", "\uff11\uff12\uff13\uff14", "\u0660\u0661\u0662\u0663",
              "\U0001d7cf\U0001d7d0\U0001d7d1\U0001d7d2", "\u2460\u2461\u2462\u2463"]
IDS = ["G-0001", "G-0042", "G-999999999", "G-0000", "D-0001", "D-0007", "G-1000000000",
       "G-9223372036854775807", "G-99999999999999999999999", "G-" + "9" * 5000, "g-0001",
       "G-0001 ", "G-0001\n", "G-1", "X-0001", "D-", "G-",
       *(f"{prefix}-{digits}" for prefix in ("G", "D") for digits in ODD_DIGITS)]
PEOPLE = ["vperkins", "spatel", "jdoe", "kim", "new-person", "ghost", "VPERKINS"]
ACCOUNTS = ["instagram-main", "tiktok-main", "x-new", "nowhere"]
DATES = ["2025-01-01", "2025-02-30", "2999-01-01", "2025-01-01T10:00:00Z", "01/02/2025",
         "\uff12\uff10\uff12\uff15-01-01", "2025-1-1", ""]
PLAUSIBLE: dict[str, list[str]] = {
    "id": [*IDS, *PEOPLE, *ACCOUNTS], "person": PEOPLE, "delegate": PEOPLE,
    "decided_by": PEOPLE, "requested_by": PEOPLE, "revoked_by": PEOPLE, "granted_by": PEOPLE,
    "owner": PEOPLE, "overseer": PEOPLE, "manager": PEOPLE, "account": ACCOUNTS,
    "accounts": ["instagram-main; tiktok-main", "nowhere", "a,b c", ";;"],
    "authority": ["ceo", "trustee", "delegation:D-0001",
                  *(f"delegation:D-{digits}" for digits in ODD_DIGITS),
                  "delegation:D-" + "9" * 30],
    "email": ["a@example.org", "not-an-email", "a@b.c\u202e"],
    "recovery_email": ["r@example.org", "x"], "recovery_phone": ["+44 20 7946 0000", "\u00b2"],
    "all_accounts": ["yes", "no", "maybe", "1"],
}
for _kind in KINDS:
    for _name, _column in rowschema.load(_kind).columns.items():
        if _column.enum:
            PLAUSIBLE.setdefault(_name, [])
            PLAUSIBLE[_name] += [str(value) for value in _column.enum if value is not None]
        if "date" in _name or _name.endswith("_at") or _name in ("expires", "valid_from",
                                                                  "valid_until", "start_date"):
            PLAUSIBLE.setdefault(_name, DATES)
BIG = ["x" * 10_000, "x" * 10_001, "y" * 200_000, "\u00e9" * 10_001]
HOSTILE = ["", " ", '"', 'a"b', "a,b", "\r\n", "\n", "\x00", "\ufeff", "\u202eevil", "\x1b[2J",
           "\u2028", "=1+1", "NaN", "null", "\U0001f642", "Zo\u00eb", *ODD_DIGITS]


@dataclasses.dataclass(frozen=True)
class Raw:
    """JSON text written as it stands (a number no encoder would write, NaN, deep nesting)."""

    text: str


RAW = [Raw("9" * 5000), Raw("-" + "9" * 4400), Raw("1" + "0" * 30), Raw("1e999"),
       Raw("1.5e-999"), Raw("NaN"), Raw("Infinity"), Raw("-Infinity"),
       Raw('"\\udcff"'), Raw('"\\ud800x"'), Raw('"\\u0000"'),
       Raw("[" * 31 + "]" * 31), Raw("[" * 33 + "]" * 33), Raw("[" * 5000 + "]" * 5000),
       Raw('{"a":' * 40 + "1" + "}" * 40), Raw("[" * 3000)]

texts = st.one_of(st.text(max_size=20), st.sampled_from(HOSTILE), st.sampled_from(IDS),
                  st.sampled_from(BIG))


def cell_for(column: str) -> st.SearchStrategy[str]:
    """What a row may hold in `column`: mostly something plausible for it, often hostile."""
    plausible = PLAUSIBLE.get(column, ["Youth events", "Jo Doe", "@interact", "https://x.org"])
    return st.one_of(st.sampled_from(plausible), st.sampled_from(plausible),
                     st.text(max_size=12), st.sampled_from(HOSTILE), st.sampled_from(IDS),
                     st.sampled_from(BIG[:2]) if column in ("reason", "name") else st.nothing())


titles = st.one_of(st.sampled_from(["", " ", "Start date", "ID", "e-mail", "x" * 200,
                                    "id\x00", "\ufeffid"]), st.text(max_size=10))


def careful_columns(draw: st.DrawFn, kind: str) -> list[str]:
    """The required columns and some others, each once, in any order."""
    schema = rowschema.load(kind)
    others = draw(st.lists(st.sampled_from(COLUMNS[kind]), unique=True))
    return draw(st.permutations(sorted({*schema.required, *others})))


GOOD = {
    "id": ["", "kim", "lee", "x-main", "G-0042", "G-0043", "D-0009", "G-999999999"],
    "person": ["jdoe", "spatel", "vperkins"], "delegate": ["jdoe"], "granted_by": ["vperkins"],
    "decided_by": ["vperkins", "spatel"], "requested_by": ["jdoe"], "revoked_by": ["spatel"],
    "owner": ["vperkins", "spatel", "jdoe"], "overseer": ["", "jdoe"], "manager": ["", "jdoe"],
    "account": ["instagram-main", "tiktok-main"], "accounts": ["instagram-main", ""],
    "authority": ["ceo", "trustee"], "email": ["k@example.org"], "name": ["Kim Lee"],
    "category": ["volunteer", "employee", "trustee"], "platform": ["x", "instagram"],
    "handle": ["@interact"], "purpose": ["News"], "reason": ["Youth events"],
    "role": ["editor", "admin"], "status": ["", "expired", "revoked", "active"],
    "all_accounts": ["yes", "no"], "decided_at": ["2025-03-01"],
    "requested_at": ["2025-02-01"], "revoked_at": ["2025-04-01"],
    "revoke_reason": ["Left the team"], "valid_from": ["2025-01-01"], "valid_until": [""],
    "start_date": ["2024-01-01"], "leave_date": [""], "expires": ["", "2099-12-31"],
}


def careful_cells(draw: st.DrawFn, header: list[str]) -> list[str]:
    """What a careful person types in each column, and now and then one hostile cell: such
    rows get past the schema to the rules (and to the writing) more often."""
    cells = [draw(st.sampled_from(GOOD.get(name) or PLAUSIBLE.get(name) or [""]))
             for name in header]
    if header and draw(st.booleans()):
        cells[draw(st.integers(0, len(header) - 1))] = draw(st.one_of(
            st.sampled_from(HOSTILE), st.sampled_from(IDS), st.text(max_size=12)))
    return cells


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[bytes, str, str | None]:
    kind = draw(st.sampled_from(KINDS))
    known = COLUMNS[kind]
    careful = draw(st.booleans())
    if careful:
        header = careful_columns(draw, kind)
    elif draw(st.integers(0, 30)) == 0:
        header = [f"c{n}" for n in range(draw(st.sampled_from([100, 101, 1000])))]
    else:
        header = draw(st.lists(st.one_of(st.sampled_from(known), st.sampled_from(known),
                                         titles), max_size=len(known) + 2))
    rows = []
    for _ in range(draw(st.integers(0, 5))):
        if careful:
            rows.append(careful_cells(draw, header))
            continue
        cells = [draw(cell_for(name)) for name in header]
        cells += draw(st.lists(st.sampled_from(["", "extra", "x" * 10_001]), max_size=2))
        if draw(st.integers(0, 40)) == 0:
            cells += [""] * 200
        rows.append(cells)
    buffer = io.StringIO()
    if draw(st.booleans()):
        writer = csv.writer(buffer, quoting=draw(st.sampled_from(
            [csv.QUOTE_MINIMAL, csv.QUOTE_ALL, csv.QUOTE_NONNUMERIC])),
            lineterminator=draw(st.sampled_from(["\n", "\r\n", "\r"])))
        writer.writerow(header)
        writer.writerows(rows)
    else:  # as a careless script writes it: quotes and commas inside cells break rows
        buffer.write("\n".join(",".join(row) for row in [header, *rows]) + "\n")
    text = buffer.getvalue()
    if draw(st.integers(0, 20)) == 0:
        text += "\n" * draw(st.sampled_from([1, 5000]))
    return _encoded(draw, text), draw(st.sampled_from([".csv", ".csv", ".txt", ""])), \
        draw(st.sampled_from([kind, kind, kind, None, "people"]))


def _encoded(draw: st.DrawFn, text: str) -> bytes:
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-8-sig", "utf-16",
                                     "latin-1", "cp1252"]))
    data = text.encode(encoding, errors="surrogatepass" if "utf" in encoding else "replace")
    if draw(st.integers(0, 10)) == 0:  # stray bytes: a lone BOM, invalid UTF-8, a NUL
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from([codecs.BOM_UTF8, b"\xff\xfe", b"\xc3", b"\x00",
                                                 b"\xed\xa0\x80"])) + data[at:]
    return data


json_leaves = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30),
                        st.floats(allow_nan=False), texts, st.sampled_from(RAW))
json_values = st.recursive(json_leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8)


@st.composite
def records(draw: st.DrawFn, kind: str) -> Any:
    if draw(st.booleans()):
        header = careful_columns(draw, kind)
        return Pairs(list(zip(header, careful_cells(draw, header), strict=True)))
    if draw(st.integers(0, 8)) == 0:
        return draw(json_values)  # not a record at all
    names = draw(st.lists(st.one_of(st.sampled_from(COLUMNS[kind]), st.text(max_size=8),
                                    st.sampled_from(["(record)", "(extra cells)", "x" * 101])),
                          max_size=len(COLUMNS[kind]) + 1))
    pairs = []
    for name in names:
        if draw(st.integers(0, 4)) == 0:
            pairs.append((name, draw(json_values)))
        elif name == "accounts" and draw(st.booleans()):
            pairs.append((name, draw(st.lists(cell_for("account"), max_size=4))))
        else:
            pairs.append((name, draw(cell_for(name))))
    if draw(st.integers(0, 40)) == 0:
        pairs += [(f"f{n}", "x") for n in range(120)]
    return Pairs(pairs)


@dataclasses.dataclass(frozen=True)
class Pairs:
    """An object written with its keys in this order, duplicates kept."""

    items: list[tuple[str, Any]]


@st.composite
def json_files(draw: st.DrawFn) -> tuple[bytes, str, str | None]:
    kind = draw(st.sampled_from(KINDS))
    rows = draw(st.lists(records(kind), max_size=5))
    shape = draw(st.sampled_from(["list", "list", "export", "other"]))
    if shape == "list":
        document: Any = rows
    elif shape == "export":
        document = Pairs([("format", "accessgov-register"),
                          ("version", draw(st.sampled_from([1, 1, 2, "1", Raw("9" * 5000)]))),
                          (kind, rows),
                          *draw(st.lists(st.tuples(st.sampled_from([*KINDS, "organisation",
                                                                    "secrets"]), json_values),
                                         max_size=2))])
    else:
        document = draw(json_values)
    text = dump_json(document, draw(st.booleans()))
    if draw(st.integers(0, 15)) == 0:
        text = text[:draw(st.integers(0, len(text)))]  # cut short
    suffix = draw(st.sampled_from([".json", ".json", ".txt", ""]))
    return _encoded(draw, text), suffix, draw(st.sampled_from([kind, kind, None]))


def dump_json(value: Any, ascii_only: bool) -> str:
    """JSON text of `value`, with Raw pieces as they stand and Pairs in order."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, Pairs):
        return "{" + ", ".join(f"{json.dumps(key, ensure_ascii=ascii_only)}: "
                               f"{dump_json(item, ascii_only)}"
                               for key, item in value.items) + "}"
    if isinstance(value, dict):
        return dump_json(Pairs(list(value.items())), ascii_only)
    if isinstance(value, list):
        return "[" + ", ".join(dump_json(item, ascii_only) for item in value) + "]"
    return json.dumps(value, ensure_ascii=ascii_only)


@dataclasses.dataclass
class Tally:
    files: Counter[str] = dataclasses.field(default_factory=Counter)
    exits: Counter[int] = dataclasses.field(default_factory=Counter)


def check_import(sh: Shell, path: Path, kind: str | None, operator: str, fmt: str
                 ) -> list[tuple[int, str, str]]:
    """Both runs of one file; what each answered."""
    kind_option = ["--kind", kind] if kind else []
    answers = []
    for dry_run in (True, False):
        who = ["--as", operator] + ([] if dry_run else ["--otp", sh.code(operator)])
        args = ["import", str(path), *kind_option, *(["--dry-run"] if dry_run else []),
                *who, "--format", fmt]
        typed = f"{' '.join(args)[:200]} < {path.read_bytes()[:300]!r}"
        before = state(sh.db)
        result = sh.run(args, expect=None)
        output = result.stdout + result.stderr
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            f"{typed}: {result.exception!r}")
        assert result.exit_code in (0, 2, 3), f"{typed} exited {result.exit_code}: {output}"
        assert "Traceback" not in output, typed
        if result.exit_code:
            lines = error_lines(result.stderr, False)
            assert len(lines) == 1 and lines[0].startswith("Error: "), \
                f"{typed}: stderr {result.stderr!r}"
            assert_unchanged_but_for_the_record(before, state(sh.db), typed)
        answers.append((result.exit_code, result.stdout, result.stderr))
    return answers


def same_findings(dry: tuple[int, str, str], real: tuple[int, str, str], fmt: str) -> None:
    """The dry run finds what the import finds: the same exit, error line and problems."""
    assert dry[0] == real[0], (dry, real)
    if dry[0] == 0:
        return
    assert dry[2] == real[2]
    if fmt == "json" and dry[1]:
        planned, done = json.loads(dry[1]), json.loads(real[1])
        assert planned["problems"] == done["problems"]
        assert planned["problems_total"] == done["problems_total"]
    elif fmt == "table":
        assert dry[1] == real[1]


@pytest.mark.filterwarnings("ignore")
def test_hostile_import_files(shared: Shell, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    tally = Tally()
    started = time.monotonic()

    @settings(max_examples=EXAMPLES, deadline=None, database=None, print_blob=True,
              suppress_health_check=list(HealthCheck))
    @given(st.one_of(csv_files(), json_files()), st.sampled_from(["vperkins", "spatel"]),
           st.sampled_from(["json", "table"]))
    def one_file(file: tuple[bytes, str, str | None], operator: str, fmt: str) -> None:
        data, suffix, kind = file
        path = tmp_path / f"import{suffix}"
        path.write_bytes(data)
        dry, real = check_import(shared, path, kind, operator, fmt)
        same_findings(dry, real, fmt)
        tally.files["json" if data.lstrip()[:1] in (b"[", b"{") else "csv"] += 1
        tally.exits.update([dry[0], real[0]])

    one_file()
    runs = sum(tally.files.values())
    with capsys.disabled():
        print(f"\nimport fuzz: {runs} hostile files ({dict(tally.files)}), {2 * runs} imports "
              f"(dry run and real) in {time.monotonic() - started:.1f} s; exit codes "
              f"{sorted((int(code), count) for code, count in tally.exits.items())}")
    assert runs >= min(EXAMPLES, 50)
