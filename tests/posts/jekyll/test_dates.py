"""Post dates: whether a time was written, the file name's date as a fallback, the range."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.errors import PostError
from bot.posts.jekyll import parse_date, post_date

BANGKOK = ZoneInfo("Asia/Bangkok")


def test_a_date_alone_has_no_time_and_a_written_time_has_one() -> None:
    assert not parse_date(date(2014, 9, 8), BANGKOK).has_time
    assert not parse_date("September 8, 2014", BANGKOK).has_time
    assert not parse_date("2017-2-5", BANGKOK).has_time
    assert parse_date("2014-09-08 00:00", BANGKOK).has_time
    assert parse_date(datetime(2014, 9, 8), BANGKOK).has_time


def test_text_without_offset_is_in_the_site_zone_and_a_yaml_timestamp_is_utc() -> None:
    local = parse_date("2014-09-08 10:00:00", BANGKOK).moment
    assert local == datetime(2014, 9, 8, 3, 0, tzinfo=UTC)
    assert local.utcoffset() == timedelta(hours=7)
    from_yaml = parse_date(datetime(2014, 9, 8, 10, 0), BANGKOK).moment  # naive: YAML, UTC
    assert from_yaml == datetime(2014, 9, 8, 10, 0, tzinfo=UTC)
    assert from_yaml.hour == 17


def test_an_offset_in_the_text_wins_over_the_site_zone() -> None:
    moment = parse_date("2023-01-29 18:30:22 -0800", BANGKOK).moment
    assert moment == datetime(2023, 1, 29, 18, 30, 22, tzinfo=timezone(timedelta(hours=-8)))


@pytest.mark.parametrize(
    "value", ["1969-12-31", "2101-01-01", date(1900, 1, 1), "nonsense", "", True, 3.5, None]
)
def test_unreadable_or_out_of_range_dates_are_refused(value: object) -> None:
    with pytest.raises(PostError):
        parse_date(value)


def test_jekyll_would_invent_a_year_or_a_day_newsbot_refuses() -> None:
    for text in ("September 8", "10:00", "8"):
        with pytest.raises(PostError):
            parse_date(text)


def test_the_file_name_date_stands_in_with_a_warning() -> None:
    found, warning = post_date("not a date", "2017-2-5", BANGKOK)
    assert found is not None and found.moment.date() == date(2017, 2, 5) and not found.has_time
    assert warning is not None and "not a date" in warning and "file name" in warning
    found, warning = post_date(None, "2017-2-5", BANGKOK)
    assert found is not None and warning is None
    found, warning = post_date("2016-01-01 08:00", "2017-2-5", BANGKOK)
    assert found is not None and found.moment.year == 2016 and warning is None
    assert post_date("nonsense", None) == (None, "unreadable date 'nonsense'")
