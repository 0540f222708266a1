"""Pacing: the overall rate, per-chat gaps, and holds after flood control."""

from __future__ import annotations

import asyncio
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.pace import GROUP_INTERVAL, PRIVATE_INTERVAL, SPACING_MARGIN, Pace


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_private_chats_get_a_second_and_groups_three() -> None:
    clock = Clock()
    pace = Pace(30, clock=clock)
    pace.claim(1, "private")
    pace.claim(-5, "supergroup")
    assert pace.chat_wait(1) == pytest.approx(PRIVATE_INTERVAL)
    assert pace.chat_wait(-5) == pytest.approx(GROUP_INTERVAL)
    assert pace.chat_wait(2) == 0
    clock.now += PRIVATE_INTERVAL
    assert pace.chat_wait(1) == 0
    assert pace.chat_wait(-5) == pytest.approx(GROUP_INTERVAL - PRIVATE_INTERVAL)


def test_holds_and_migration() -> None:
    clock = Clock()
    pace = Pace(30, clock=clock)
    pace.hold_chat(1, 7)
    pace.claim(2, "private")
    pace.move_chat(1, 10)
    assert pace.chat_wait(10) == 7 and pace.chat_wait(1) == 0


class LateSleeper:
    """A fake clock whose every sleep wakes late by the next of the given delays, as an event
    loop on a busy machine does; the pace's arithmetic is checked without waiting for real."""

    def __init__(self, lateness: list[float]) -> None:
        self.now = 1000.0
        self._lateness = lateness
        self._sleeps = 0

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.now += delay + self._lateness[self._sleeps % len(self._lateness)]
        self._sleeps += 1


def busiest(times: list[float], span: float) -> int:
    """The most sends in any window of `span` seconds."""
    start, most = 0, 0
    for end, at in enumerate(times):
        while times[start] <= at - span:
            start += 1
        most = max(most, end - start + 1)
    return most


@settings(max_examples=60, deadline=None)
@given(
    rate=st.sampled_from([1.0, 29.5, 30.0, 200.0, 1000.0]),
    lateness=st.lists(st.floats(0, 0.004), min_size=1, max_size=20),
)
async def test_never_more_than_the_rate_in_any_second_and_lateness_is_made_up(
    rate: float, lateness: list[float]
) -> None:
    loop = LateSleeper(lateness)
    pace = Pace(rate, clock=loop.clock, sleep=loop.sleep)
    sends = int(rate * 5) + 2
    times = []
    for number in range(sends):
        # The sender tries a turn at once first; both ways must keep to the rate.
        if number % 2 or not pace.turn_now():
            await pace.turn()
        times.append(loop.now)
    assert busiest(times, 1.0) <= max(1, int(rate))
    # Over the run, the rate less the margin, whatever the wake-ups cost.
    achieved = (sends - 1) / (times[-1] - times[0])
    assert achieved >= rate / SPACING_MARGIN * 0.99


async def test_overall_rate_spaces_sends_evenly() -> None:
    pace = Pace(50)
    started = time.monotonic()
    for _ in range(11):
        await pace.turn()
    # Ten gaps of 1/50 s: no burst at the start, and not much slower either.
    assert time.monotonic() - started >= 10 / 50 * 0.9


async def test_hold_all_pauses_every_send() -> None:
    pace = Pace(1000)
    pace.hold_all(0.2)
    started = time.monotonic()
    await asyncio.wait_for(pace.turn(), 2)
    assert time.monotonic() - started >= 0.15


async def test_refusals_for_the_overall_rate_widen_the_window_and_quiet_narrows_it() -> None:
    loop = LateSleeper([0.0])
    pace = Pace(10, clock=loop.clock, sleep=loop.sleep)

    async def seconds_for(turns: int) -> float:
        started = loop.now
        for _ in range(turns):
            await pace.turn()
        return loop.now - started

    await seconds_for(10)  # fill the window: from here the window sets the pace
    base = await seconds_for(20)
    pace.widen()
    pace.widen()  # the same moment: counted once
    assert await seconds_for(20) == pytest.approx(base * 1.02, rel=1e-3)
    for _ in range(30):
        loop.now += 2
        pace.widen()
    await seconds_for(10)
    widest = await seconds_for(20)
    assert widest == pytest.approx(base * 1.2, rel=1e-3)
    loop.now += 3600  # an hour without refusals: back to the base, step by step
    for _ in range(60):
        loop.now += 31
        await pace.turn()
    await seconds_for(10)
    assert await seconds_for(20) == pytest.approx(base, rel=1e-3)


def test_a_refusal_holds_its_chat_for_as_long_as_telegram_asked() -> None:
    clock = Clock()
    pace = Pace(30, clock=clock)
    assert not pace.refused(7, 3.0)
    assert pace.chat_wait(7) == pytest.approx(3.0)
    assert pace.chat_wait(8) == 0
    assert pace.paused == 0


def test_scattered_refusals_at_a_thousand_a_second_hold_only_their_chats() -> None:
    clock = Clock()
    pace = Pace(1000, clock=clock)
    refused_chats = 0
    for message in range(3000):  # three seconds at the rate, one message in fifty refused
        pace.turn_now()
        if message % 50 == 0:
            assert not pace.refused(message, 2.0)
            refused_chats += 1
        clock.now += 0.001
    assert refused_chats == 60
    assert pace.paused == 0  # nobody else waited
    assert pace.chat_wait(2950) > 0 and pace.chat_wait(2951) == 0


def test_many_chats_refused_at_once_are_the_overall_limit() -> None:
    clock = Clock()
    pace = Pace(30, clock=clock)
    for _ in range(30):
        pace.turn_now()
        clock.now += 1 / 30
    assert not pace.refused(1, 2.0)
    assert pace.refused(2, 2.0)  # two different chats within a second, of thirty messages
    assert pace.paused == pytest.approx(2.0)
    assert pace.chat_wait(3) == 0  # the pause is overall; no other chat is held by itself
