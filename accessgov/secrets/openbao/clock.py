"""Time from the OpenBao server, and a check that this computer's clock agrees with it.

A change is stamped with the server's time (`sys/health` `server_time_utc`, whole seconds),
so an operator cannot back-date one by setting their own clock; a local clock more than two
minutes off is refused outright, since the local TOTP app and session expiry would be wrong too.
"""

from __future__ import annotations

import datetime as dt

from accessgov.errors import Refused
from accessgov.secrets.openbao.client import OpenBaoClient

MAX_SKEW = dt.timedelta(minutes=2)


class ClockSkew(Refused):
    """This computer's clock is too far from the OpenBao server's."""


def server_time(client: OpenBaoClient) -> dt.datetime:
    """The OpenBao server's current time, UTC, to the second (no token needed)."""
    # Only the root namespace serves sys/health ("operation unavailable in namespaces"), and
    # it needs no token: ask it without either, over the same connection.
    root = client.with_token(None)
    root.namespace = None
    # A standby answers with its time too, rather than HTTP 429.
    status, body = root.request("GET", "sys/health?standbyok=true&perfstandbyok=true")
    stamp = (body or {}).get("server_time_utc")
    if status != 200 or not isinstance(stamp, int):
        raise client.failure(status, body, "reading the server's time")
    return dt.datetime.fromtimestamp(stamp, dt.UTC)


def check_clock(server: dt.datetime, local: dt.datetime | None = None,
                *, tolerance: dt.timedelta = MAX_SKEW) -> dt.timedelta:
    """How far `local` (default: now) is ahead of `server` (negative: behind); ClockSkew if
    more than `tolerance` either way."""
    local = local or dt.datetime.now(dt.UTC)
    skew = local - server
    if abs(skew) > tolerance:
        direction = "ahead of" if skew > dt.timedelta(0) else "behind"
        raise ClockSkew(
            f"this computer's clock is {_duration(abs(skew))} {direction} the OpenBao server's"
            f" (more than {_duration(tolerance)} off): correct it (e.g. 'timedatectl set-ntp"
            " true') and try again")
    return skew


def checked_server_time(client: OpenBaoClient) -> dt.datetime:
    """The server's time, after checking this computer's clock against it."""
    now = server_time(client)
    check_clock(now)
    return now


def _duration(length: dt.timedelta) -> str:
    seconds = int(length.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{hours} h"] if hours else []
    parts += [f"{minutes} min"] if minutes else []
    parts += [f"{seconds} s"] if seconds or not parts else []
    return " ".join(parts)
