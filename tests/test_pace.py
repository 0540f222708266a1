"""Pacing: the overall rate, per-chat gaps, and holds after flood control."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest

from bot.pace import GROUP_INTERVAL, PRIVATE_INTERVAL, Pace, seconds


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


def test_retry_after_in_either_shape() -> None:
    assert seconds(5) == 5.0
    assert seconds(timedelta(seconds=3)) == 3.0


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
