"""Quiet hours and time zones: when a chat's posts arrive without a sound.

`/quiet 22:00-07:00` makes every delivery in that window, in the chat's time zone, go with
`disable_notification`: the post arrives, the phone stays silent. A window may run past
midnight. Breaking news is the one exception, and only when the chat's admins allowed it
(`ChatChoices.breaking_in_quiet`). Everything here is pure: times in, a decision out.
"""

from __future__ import annotations

import re
from datetime import datetime, time, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.store import ChatChoices

_CLOCK = re.compile(r"([01]?\d|2[0-3])(?:[:.h]([0-5]\d))?")
_WINDOW = re.compile(r"\s*([^-–—]+?)\s*[-–—]\s*([^-–—]+?)\s*")
#: What a zoneinfo name may look like: "Asia/Bangkok", "UTC", "America/Argentina/Salta".
_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(?:/[A-Za-z0-9_+\-]+){0,2}")


def clock_time(text: str) -> str | None:
    """A time of day as "HH:MM" ("7" -> "07:00", "22:30" -> "22:30"); None for anything else."""
    match = _CLOCK.fullmatch(text.strip())
    if match is None:
        return None
    return f"{int(match.group(1)):02d}:{match.group(2) or '00'}"


def window(text: str) -> tuple[str, str] | None:
    """Quiet hours as written by a reader ("22:00-07:00") as (from, to); None when unreadable
    or empty (from and to the same)."""
    match = _WINDOW.fullmatch(text)
    if match is None:
        return None
    start, end = clock_time(match.group(1)), clock_time(match.group(2))
    if start is None or end is None or start == end:
        return None
    return start, end


def zone_named(name: str) -> ZoneInfo | None:
    """The time zone of a zoneinfo name ("Asia/Bangkok"); None for a name that is not one."""
    if not _ZONE_NAME.fullmatch(name.strip()):
        return None
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def zone_of(choices: ChatChoices, default: tzinfo) -> tzinfo:
    """The chat's time zone: its own choice, else the newsroom's."""
    if choices.time_zone is not None:
        return zone_named(choices.time_zone) or default
    return default


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def in_window(quiet: tuple[str, str], moment: time) -> bool:
    """Whether a time of day falls in quiet hours (from included, to excluded)."""
    start, end = _minutes(quiet[0]), _minutes(quiet[1])
    now = moment.hour * 60 + moment.minute
    if start < end:
        return start <= now < end
    return now >= start or now < end


def silent(choices: ChatChoices, default: tzinfo, now: datetime, *, urgent: bool) -> bool:
    """Whether a delivery to the chat at `now` goes without a sound (`disable_notification`)."""
    if choices.quiet is None:
        return False
    if urgent and choices.breaking_in_quiet:
        return False
    return in_window(choices.quiet, now.astimezone(zone_of(choices, default)).time())
