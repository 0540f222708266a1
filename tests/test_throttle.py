"""The per-reader throttle: answers up to the limit, one notice, then silence until there's room."""

from __future__ import annotations

import pytest

from bot.throttle import ReaderThrottle, Verdict


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_flood_gets_one_notice_then_silence_until_the_window_has_room() -> None:
    clock = Clock()
    throttle = ReaderThrottle(limit=3, window=10.0, clock=clock)
    assert [throttle.check(1) for _ in range(6)] == [
        Verdict.ANSWER,
        Verdict.ANSWER,
        Verdict.ANSWER,
        Verdict.NOTICE,
        Verdict.DROP,
        Verdict.DROP,
    ]
    assert throttle.check(2) is Verdict.ANSWER  # readers are throttled one by one
    clock.now += 10.5
    assert throttle.check(1) is Verdict.ANSWER
    assert [throttle.check(1) for _ in range(3)] == [
        Verdict.ANSWER,
        Verdict.ANSWER,
        Verdict.NOTICE,  # a new flood, a new notice
    ]


def test_a_steady_reader_is_never_throttled() -> None:
    clock = Clock()
    throttle = ReaderThrottle(limit=3, window=10.0, clock=clock)
    for _ in range(50):
        assert throttle.check(1) is Verdict.ANSWER
        clock.now += 3.4


def test_idle_readers_are_forgotten() -> None:
    clock = Clock()
    throttle = ReaderThrottle(limit=2, window=1.0, clock=clock)
    for reader in range(1000):
        throttle.check(reader)
    clock.now += 400
    throttle.check(5000)
    assert len(throttle._answered) == 1


def test_nonsense_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="limit"):
        ReaderThrottle(limit=0)
