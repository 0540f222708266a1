"""A post's date, read as Jekyll reads it: every form Jekyll accepts, in the site's time zone.

Jekyll turns a front matter `date` into text and hands it to Ruby's `Time.parse`, which accepts
far more than ISO 8601: "September 8, 2014", "2023-01-29 18:30:22 -0800", "2014-09-08 10:00",
"8.9.2014". Without a date in the front matter the file name's (`2017-2-5-title.md`) is used.
This module reads the same forms to the same instant, and records whether a time of day was
written at all, so a date-only post is shown without an invented "00:00".

Rules, each checked against Ruby and Jekyll by the tests:
- Text without an offset is a time in the site's `timezone` (UTC when the site has none).
- A YAML timestamp without an offset (`date: 2014-09-08 10:00:00`, unquoted, with seconds) is
  UTC: that is how Ruby's YAML reader (Psych) loads it, before Jekyll ever sees the site's zone.
  PyYAML hands such a value over as a naive `datetime`, which is how it is recognised here.
- Offsets are read as `Time.parse` reads them: "+07:00", "+0700", "+07", "Z", the zone names
  Ruby knows (UTC, GMT, EST/EDT, CST/CDT, MST/MDT, PST/PDT) and the site zone's own names
  ("CET" in Europe/Berlin). Other names ("JST" elsewhere, "GMT+2", "+2") are ignored by Ruby,
  so the time is local there too.
- Ruby rolls an impossible day forward (February 30 is March 2) and accepts "24:00"; so does this.
- Dates before 1970 or after 2100 are refused: they are typos, not news.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache

from bot.errors import PostError

EARLIEST_YEAR = 1970
LATEST_YEAR = 2100
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
#: Ruby's `Time::ZoneOffset` (without the military letters), in hours.
_ZONE_HOURS = {
    "UTC": 0, "Z": 0, "UT": 0, "GMT": 0, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5,
    "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
}  # fmt: skip

_MONTH = r"(?P<month>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_WEEKDAY = r"(?:(?:sun|mon|tue|wed|thu|fri|sat)[a-z]*\.?,?\s+)?"
_ORDINAL = r"(?:st|nd|rd|th)?"
_DATE_FORMS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"(?P<year>[0-9]{4})-(?P<mon>[0-9]{1,2})-(?P<day>[0-9]{1,2})",
        r"(?P<year>[0-9]{4})/(?P<mon>[0-9]{1,2})/(?P<day>[0-9]{1,2})",
        r"(?P<year>[0-9]{4})(?P<mon>[0-9]{2})(?P<day>[0-9]{2})(?![0-9])",
        r"(?P<day>[0-9]{1,2})[/.](?P<mon>[0-9]{1,2})[/.](?P<year>[0-9]{4})",
        rf"{_WEEKDAY}{_MONTH}\s+(?P<day>[0-9]{{1,2}}){_ORDINAL},?\s+(?P<year>[0-9]{{4}})",
        rf"{_WEEKDAY}(?P<day>[0-9]{{1,2}}){_ORDINAL}\s+{_MONTH},?\s+(?P<year>[0-9]{{4}})",
        rf"{_MONTH},?\s+(?P<year>[0-9]{{4}})",
        # Two-digit years, as in a file name `14-9-8-title.md`: 69-99 are 1900s, the rest 2000s.
        r"(?P<short_year>[0-9]{2})-(?P<mon>[0-9]{1,2})-(?P<day>[0-9]{1,2})",
    )
]
_TIME = re.compile(
    r"(?:\s*(?:T|,|\s|\bat\b)\s*)"
    r"(?P<hour>[0-9]{1,2})(?::(?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2})(?:[.,](?P<fraction>[0-9]+))?)?)?"
    r"(?:\s*(?P<ampm>[ap])\.?m\.?)?",
    re.IGNORECASE,
)
_ZONE = re.compile(
    r"\s*(?P<zone>[+-][0-9]{1,2}(?::?[0-9]{2}(?::?[0-9]{2})?)?|[a-z]{1,6}(?:[+-][0-9]{1,4})?)",
    re.IGNORECASE,
)
_OFFSET = re.compile(r"([+-])([0-9]{2})(:?)([0-9]{2})(?:\3([0-9]{2}))?")


@dataclass(frozen=True, slots=True)
class PostDate:
    """When a post was published, and whether its author wrote a time of day."""

    moment: datetime
    """Aware, with the offset the site's time zone had then (as Jekyll's `page.date`)."""
    has_time: bool
    """False for a date alone (`date: 2014-09-08`, or only the file name's date)."""


def parse_date(value: object, zone: tzinfo = UTC) -> PostDate:
    """A front matter `date` (YAML datetime, date, or text) as Jekyll reads it.

    Raises `PostError` when Jekyll would not accept it or it lies outside 1970-2100.
    """
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return _checked(PostDate(_in_zone(moment, zone), has_time=True), value)
    if isinstance(value, date):
        midnight = datetime.combine(value, time(), zone)
        return _checked(PostDate(_in_zone(midnight, zone), has_time=False), value)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise PostError(f"unreadable date {value!r}")
    return _checked(_parse_text(str(value).strip(), zone), value)


def post_date(
    value: object, file_date: str | None, zone: tzinfo = UTC
) -> tuple[PostDate | None, str | None]:
    """The post's date and, when the front matter's could not be read, a warning about it.

    The front matter's date wins; without one, or when it cannot be read, the file name's date
    (a date without a time) is used, as a warning rather than a reason to refuse the post.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return _file_date(file_date, zone), None
    try:
        return parse_date(value, zone), None
    except PostError as exc:
        fallback = _file_date(file_date, zone)
        if fallback is None:
            return None, str(exc)
        return fallback, f"{exc}; using the date in the file name"


def _file_date(file_date: str | None, zone: tzinfo) -> PostDate | None:
    if not file_date:
        return None
    try:
        return parse_date(file_date, zone)
    except PostError:
        return None


def _parse_text(text: str, zone: tzinfo) -> PostDate:
    for form in _DATE_FORMS:
        found = form.match(text)
        if found is not None:
            break
    else:
        raise PostError(f"unreadable date {text!r}")
    fields = found.groupdict()
    year = _year(fields)
    month = (
        int(fields["mon"]) if fields.get("mon") else _MONTHS.index(fields["month"][:3].lower()) + 1
    )
    day = int(fields["day"]) if fields.get("day") else 1
    rest = text[found.end() :]

    clock = _TIME.match(rest)
    has_time = False
    hour = minute = second = micro = 0
    if clock is not None and (clock["minute"] or clock["ampm"] or _only_zone_after(rest, clock)):
        has_time = True
        hour = int(clock["hour"])
        minute = int(clock["minute"] or 0)
        second = int(clock["second"] or 0)
        micro = int((clock["fraction"] or "0")[:6].ljust(6, "0"))
        if clock["ampm"]:
            if not 1 <= hour <= 12:
                raise PostError(f"unreadable date {text!r}")
            hour = hour % 12 + (12 if clock["ampm"].lower() == "p" else 0)
        rest = rest[clock.end() :]

    offset: tzinfo | None = None
    if rest.strip():
        named = _ZONE.fullmatch(rest.rstrip())
        if named is None:
            raise PostError(f"unreadable date {text!r}")
        offset = _zone_offset(named["zone"], year, zone)

    if not (1 <= month <= 12 and 1 <= day <= 31):
        raise PostError(f"unreadable date {text!r}")
    if hour > 24 or minute > 59 or second > 60 or (hour == 24 and (minute or second)):
        raise PostError(f"unreadable date {text!r}")
    try:
        start = datetime(year, month, 1, tzinfo=offset or zone)
    except ValueError:
        raise PostError(f"unreadable date {text!r}") from None
    # Ruby's Time rolls days past the month's end (Feb 30 -> Mar 2), and 24:00 into the next day.
    local = start.replace(tzinfo=None) + timedelta(
        days=day - 1, hours=hour, minutes=minute, seconds=second, microseconds=micro
    )
    moment = _wall_clock(local, offset or zone)
    return PostDate(_in_zone(moment, zone), has_time=has_time)


def _only_zone_after(rest: str, clock: re.Match[str]) -> bool:
    """Whether a bare hour ("2014-09-08 10") really is an hour: nothing but a zone follows."""
    after = rest[clock.end() :].strip()
    return not after or _ZONE.fullmatch(after) is not None


def _year(fields: dict[str, str | None]) -> int:
    short = fields.get("short_year")
    if short is not None:
        value = int(short)
        return value + (1900 if value >= 69 else 2000)
    return int(fields["year"] or 0)


def _zone_offset(name: str, year: int, zone: tzinfo) -> tzinfo | None:
    """The offset Ruby's `Time.zone_offset` gives a zone written in a date, or None (local)."""
    upper = name.upper()
    if found := _OFFSET.fullmatch(upper):
        sign = -1 if found[1] == "-" else 1
        seconds = (int(found[2]) * 60 + int(found[4])) * 60 + int(found[5] or 0)
        return _fixed(sign * seconds)
    if re.fullmatch(r"[+-][0-9]{2}", upper):
        return _fixed(int(upper) * 3600)
    if upper in _ZONE_HOURS:
        return _fixed(_ZONE_HOURS[upper] * 3600)
    for month in (1, 7):
        try:
            sample = datetime(year, month, 1, tzinfo=zone)
        except ValueError:
            return None
        if (sample.tzname() or "").upper() == upper:
            offset = sample.utcoffset()
            return _fixed(int(offset.total_seconds())) if offset is not None else None
    return None


@lru_cache(maxsize=64)
def _fixed(seconds: int) -> tzinfo:
    return UTC if seconds == 0 else timezone(timedelta(seconds=seconds))


def _wall_clock(local: datetime, zone: tzinfo) -> datetime:
    """A wall-clock time in `zone` as Ruby's `Time.local` reads it around clock changes.

    A time skipped when clocks go forward (02:30) is the hour after it (03:30); a time that
    happens twice when they go back (01:30) is the second one, in standard time.
    """
    first = local.replace(tzinfo=zone)
    second = local.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != local:
        return first
    return second


def _in_zone(moment: datetime, zone: tzinfo) -> datetime:
    """`moment` with the offset `zone` had at that instant, as a fixed offset.

    Going by way of UTC makes a wall-clock time that does not exist in the zone come out as the
    real time it names; a fixed offset keeps the second 01:30 of a night when clocks go back
    equal to itself (Python's `fold` makes such times unequal to any other zone's).
    """
    local = moment.astimezone(UTC).astimezone(zone)
    offset = local.utcoffset()
    return local.astimezone(_fixed(int(offset.total_seconds())) if offset is not None else UTC)


def _checked(found: PostDate, value: object) -> PostDate:
    if not EARLIEST_YEAR <= found.moment.year <= LATEST_YEAR:
        raise PostError(f"date {value!s} is outside {EARLIEST_YEAR}-{LATEST_YEAR}")
    return found
