"""Dates and times: stored as ISO 8601 in UTC, parsed strictly, shown plainly."""

from __future__ import annotations

import datetime as dt
import re

from accessgov.errors import InputError

UTC = dt.UTC


def utc_now() -> dt.datetime:
    """The current time, timezone-aware in UTC (pyotp treats naive times as local)."""
    return dt.datetime.now(UTC)


def iso(moment: dt.datetime) -> str:
    """`2026-11-25T14:07:58Z`: second precision, always UTC."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> dt.datetime:
    """Read back a timestamp written by `iso`."""
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def parse_date(text: str, what: str) -> str:
    """A calendar date as `YYYY-MM-DD`, or an InputError naming the option it came from."""
    try:
        return dt.date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise InputError(f"{what} must be a date written as YYYY-MM-DD, not {text!r}") from None


def today(moment: dt.datetime) -> str:
    """The UTC calendar date of `moment`."""
    return moment.astimezone(UTC).date().isoformat()


_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def parse_duration(text: str, what: str) -> dt.timedelta:
    """`15m`, `2h`, `1h30m`, `90s` as a timedelta."""
    match = _DURATION.match(text.strip())
    if not text.strip() or not match:
        raise InputError(f"{what} must be a duration such as 15m, 2h or 1h30m, not {text!r}")
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return dt.timedelta(hours=hours, minutes=minutes, seconds=seconds)
