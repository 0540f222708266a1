"""Quiet hours and digest times, with the clock given: no waiting."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from bot.digests import digest_pieces, is_due, latest_slot, next_slot, parse_mode
from bot.quiet import in_window, silent, window, zone_named
from bot.store import ChatChoices
from tests.choices.test_filters import post

BANGKOK = ZoneInfo("Asia/Bangkok")


def test_quiet_windows_over_midnight_and_breaking_news() -> None:
    assert window("22:00-07:00") == ("22:00", "07:00")
    assert window("22-7") == ("22:00", "07:00")
    assert window("7-7") is None and window("25:00-07:00") is None
    assert in_window(("22:00", "07:00"), time(23, 30)) and in_window(("22:00", "07:00"), time(6))
    assert not in_window(("22:00", "07:00"), time(7)) and not in_window(("09:00", "17:00"), time(8))
    choices = ChatChoices(1, quiet=("22:00", "07:00"), time_zone="Asia/Bangkok")
    late = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)  # 23:00 in Bangkok
    assert silent(choices, UTC, late, urgent=False)
    assert silent(choices, UTC, late, urgent=True)  # not allowed to ring
    allowed = ChatChoices(1, quiet=("22:00", "07:00"), breaking_in_quiet=True)
    assert not silent(allowed, BANGKOK, late, urgent=True)
    assert zone_named("Asia/Bangkok") is not None
    assert zone_named("Mars/Olympus") is None and zone_named("../../etc/passwd") is None


def test_digest_modes_and_their_times() -> None:
    assert parse_mode(["daily", "7:30"]) == "daily 07:30"
    assert parse_mode(["twice", "daily"]) == "twice"
    assert parse_mode(["hourly"]) == "hourly" and parse_mode(["off"]) == "instant"
    assert parse_mode(["weekly"]) is None
    now = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)  # 08:30 in Bangkok
    assert latest_slot("daily 08:00", BANGKOK, now) == datetime(2026, 11, 20, 8, tzinfo=BANGKOK)
    assert next_slot("twice", BANGKOK, now) == datetime(2026, 11, 20, 19, tzinfo=BANGKOK)
    assert latest_slot("hourly", UTC, now) == datetime(2026, 11, 20, 1, tzinfo=UTC)
    slot = datetime(2026, 11, 20, 8, tzinfo=BANGKOK).timestamp()
    assert is_due("daily 08:00", BANGKOK, now, since=slot - 60)
    assert not is_due("daily 08:00", BANGKOK, now, since=slot + 60)  # waiting since after it
    assert not is_due("instant", BANGKOK, now, since=0)


def test_a_digest_is_cut_only_between_posts_newest_first() -> None:
    posts = [post(f"Headline number {n} " + "x" * 150) for n in range(60)]
    posts = [p.__class__(**{**{f: getattr(p, f) for f in p.__slots__}, "id": f"p{n}",
             "date": datetime(2026, 11, 1 + n % 28, n % 24, tzinfo=UTC)})
             for n, p in enumerate(posts)]  # fmt: skip
    pieces = digest_pieces("Your digest", posts)
    assert len(pieces) > 1
    assert sorted(i for piece in pieces for i in piece.post_ids) == sorted(p.id for p in posts)
    assert all(len(piece.text) < 4096 + 2000 for piece in pieces)  # HTML; visible under 4096
    dates = {p.id: p.date for p in posts}
    order = [dates[i] for piece in pieces for i in piece.post_ids]
    assert order == sorted(order, reverse=True)
