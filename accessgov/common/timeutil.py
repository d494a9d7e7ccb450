"""Dates and times: stored as ISO 8601 in UTC, parsed strictly, shown plainly."""

from __future__ import annotations

import datetime as dt
import re

from accessgov.errors import InputError

UTC = dt.UTC
_ISO_UTC = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"  # what `iso` writes


def utc_now() -> dt.datetime:
    """The current time, timezone-aware in UTC (pyotp treats naive times as local)."""
    return dt.datetime.now(UTC)


def iso(moment: dt.datetime) -> str:
    """`2026-11-25T14:07:58Z`: second precision, always UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> dt.datetime:
    """Read back a timestamp written by `iso` (ValueError for anything else).

    Matched, then read by `fromisoformat`: `strptime` would load `_strptime` and compile its
    patterns, a few milliseconds of every command that reads a session or a clock."""
    if not re.fullmatch(_ISO_UTC, text):
        raise ValueError(f"not a timestamp written as YYYY-MM-DDTHH:MM:SSZ: {text!r}")
    return dt.datetime.fromisoformat(text)


def parse_date(text: str, what: str) -> str:
    """A calendar date as `YYYY-MM-DD`, or an InputError naming the option it came from."""
    try:
        return dt.date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise InputError(f"{what} must be a date written as YYYY-MM-DD, not {text!r}") from None


def today(moment: dt.datetime) -> str:
    """The UTC calendar date of `moment`."""
    return moment.astimezone(UTC).date().isoformat()


_DURATION = r"(?:([0-9]+)h)?(?:([0-9]+)m)?(?:([0-9]+)s)?"


def parse_duration(text: str, what: str) -> dt.timedelta:
    """`15m`, `2h`, `1h30m`, `90s` as a timedelta.

    A length beyond what a timedelta holds comes back as `timedelta.max`, so the caller's own
    range check says plainly that it is too long.
    """
    match = re.fullmatch(_DURATION, text.strip())
    if not text.strip() or not match:
        raise InputError(f"{what} must be a duration such as 15m, 2h or 1h30m, not {text!r}")
    hours, minutes, seconds = (part or "0" for part in match.groups())
    if max(len(hours), len(minutes), len(seconds)) > 9:  # beyond a timedelta (and int())
        return dt.timedelta.max
    return dt.timedelta(hours=int(hours), minutes=int(minutes), seconds=int(seconds))


def local_display(value: object) -> object:
    """A timestamp written by `iso` shown in this computer's time zone, named
    (`2026-11-25 15:07:58 CET`); any other value unchanged."""
    if isinstance(value, str) and re.fullmatch(_ISO_UTC, value):
        return parse_iso(value).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")
    return value


def in_local_time(data: object) -> object:
    """`data` (records, lists of records) with every timestamp in local time, for people to
    read; JSON and CSV keep UTC, which is what they are compared and sorted in."""
    if isinstance(data, dict):
        return {key: in_local_time(value) for key, value in data.items()}
    if isinstance(data, list):
        return [in_local_time(value) for value in data]
    return local_display(data)
