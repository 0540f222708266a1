"""Dates against Jekyll: every form Jekyll's `Utils.parse_date` accepts, the site's `timezone`,
YAML timestamps, and dates from file names, padded or not."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.errors import PostError
from bot.posts.jekyll import parse_date
from tests.posts.jekyll.conftest import CheckSite
from tests.posts.jekyll.oracle import ruby_calls

ZONES = ["UTC", "America/New_York", "Asia/Bangkok", "Europe/Berlin"]
ACCEPTED = [
    "September 8, 2014",
    "Sept 8, 2014",
    "Sep. 8, 2014",
    "September 8th, 2014",
    "Tuesday, September 9, 2014",
    "8 September 2014",
    "8th Sep 2014 10:00",
    "September 2014",
    "2023-01-29 18:30:22 -0800",
    "2023-01-29 18:30:22 -08:00",
    "2023-01-29T18:30:22+0530",
    "2014-09-08 10:00",
    "2014-09-08 10:00:00",
    "2014-09-08T10:00:00Z",
    "2014-09-08T10:00:00.123+02:00",
    "2014-09-08 10:00 +07",
    "2014-09-08 10:00:00 UTC",
    "2014-09-08 10:00:00 GMT",
    "2014-09-08 10:00:00 PST",
    "2014-09-08 10:00:00 EDT",
    "2014-09-08 10:00:00 CET",
    "2014-01-08 10:00:00 CET",
    "2014-09-08 10:00:00 CEST",
    "2014-09-08 10:00:00 JST",
    "2014-09-08 10:00:00 +2",
    "2014-09-08 10:00:00 GMT+2",
    "Mon, 08 Sep 2014 10:00:00 +0000",
    "Sep 8 2014 10:00 PM",
    "Sep 8 2014 12:30 am",
    "2014-09-08 10am",
    "2014-09-08 10",
    "2014-09-08 24:00",
    "2017-2-5",
    "2017-02-05",
    "14-9-8",
    "99-1-1",
    "2014/09/08",
    "2014/9/8 7:05",
    "8.9.2014",
    "3/4/2014",
    "25/12/2014",
    "20140908",
    "2014-02-30",
    "2014-04-31 10:00",
    "2014-03-09 02:30",
    "2014-11-02 01:30",
]
REJECTED_BY_JEKYLL = ["garbage", "2014", "2014-13-45", "2014-09-08 25:00", "12/25/2014"]


@pytest.mark.parametrize("zone", ZONES)
def test_every_accepted_date_form_reads_as_jekyll_reads_it(jekyll: str, zone: str) -> None:
    answers = ruby_calls([("parse_date", text, {"timezone": zone}) for text in ACCEPTED])
    for text, answer in zip(ACCEPTED, answers, strict=True):
        assert not answer.startswith("error"), (text, answer)
        expected = datetime.fromisoformat(answer)
        found = parse_date(text, ZoneInfo(zone)).moment.replace(microsecond=0)
        assert (found, found.utcoffset()) == (expected, expected.utcoffset()), (text, zone)


def test_dates_jekyll_refuses_are_refused(jekyll: str) -> None:
    answers = ruby_calls([("parse_date", text, {}) for text in REJECTED_BY_JEKYLL])
    assert all(answer.startswith("error") for answer in answers), answers
    for text in REJECTED_BY_JEKYLL:
        with pytest.raises(PostError):
            parse_date(text)


DATED_POSTS = {
    "_posts/2014-09-08-quoted-text.md": '---\ndate: "September 8, 2014"\n---\nA.\n',
    "_posts/2014-09-08-unquoted-text.md": "---\ndate: September 8, 2014 10:15\n---\nA.\n",
    "_posts/2023-01-29-offset.md": "---\ndate: 2023-01-29 18:30:22 -0800\n---\nA.\n",
    "_posts/2014-09-08-no-seconds.md": "---\ndate: 2014-09-08 10:00\n---\nA.\n",
    # A YAML timestamp without an offset is UTC to Ruby's YAML reader, whatever the timezone.
    "_posts/2014-09-08-yaml-timestamp.md": "---\ndate: 2014-09-08 10:00:00\n---\nA.\n",
    "_posts/2014-09-08-quoted-timestamp.md": '---\ndate: "2014-09-08 10:00:00"\n---\nA.\n',
    "_posts/2014-09-08-yaml-date.md": "---\ndate: 2014-09-08\n---\nA.\n",
    "_posts/2014-09-08-unpadded-yaml-date.md": "---\ndate: 2014-9-8\n---\nA.\n",
    "_posts/2014-09-08-aware.md": "---\ndate: 2014-09-08T23:30:00+07:00\n---\nA.\n",
    "_posts/2017-2-5-unpadded-file.md": "---\ntitle: Unpadded\n---\nA.\n",
    "_posts/2017-12-5-half-padded.md": "---\n---\nA.\n",
    "_posts/2017-02-05-file-date.md": "---\n---\nA.\n",
    "_posts/2017-02-05-date-wins.md": "---\ndate: 2016-01-01 08:00:00 +0100\n---\nA.\n",
    "_posts/2014-03-09-skipped-hour.md": '---\ndate: "2014-03-09 02:30"\n---\nA.\n',
}


@pytest.mark.parametrize("zone", [None, "America/New_York", "Asia/Bangkok"])
def test_post_dates_and_their_addresses_match_jekyll(check_site: CheckSite, zone: str) -> None:
    config = {"url": "https://example.org", "permalink": "/:year/:month/:day/:hour:minute/:title"}
    if zone:
        config["timezone"] = zone
    published = check_site(config, DATED_POSTS)
    assert len(published) == len(DATED_POSTS)
