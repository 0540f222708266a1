"""Roles of instances sharing one database: one active, the others standing by, a takeover
once the active one is gone, and a deposed instance that steps down and writes nothing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.role import Instance, Role
from bot.store import Deposed, Store
from tests.helpers import eventually, open_store

TERM = 1.0


@asynccontextmanager
async def running(instance: Instance) -> AsyncIterator[asyncio.Task[None]]:
    """The instance keeping or watching the lease, for a block; stopped however it ends."""
    task = asyncio.create_task(instance.run())
    try:
        yield task
    finally:
        await instance.stop()
        await asyncio.wait_for(task, 5)


async def beats_since(store: Store, beat: int, count: int) -> bool:
    return (await store.lease()).beat >= beat + count


async def test_one_instance_takes_a_free_lease_and_the_other_stands_by(tmp_path: Path) -> None:
    path = tmp_path / "data" / "newsbot.sqlite3"
    async with open_store(path) as first, open_store(path) as second:
        a = Instance(first, name="a", term=TERM)
        b = Instance(second, name="b", term=TERM)
        await a.tick()
        await b.tick()
        assert (a.role, b.role) == (Role.ACTIVE, Role.STANDBY)
        assert a.changed.is_set() and not b.changed.is_set()
        assert a.may_send() and not b.may_send()
        assert a.holder.startswith("a/") and a.epoch == 1 and b.epoch is None

        async with running(a), running(b):
            # Three terms of renewals, all watched by the standby: it never takes over.
            beat = (await first.lease()).beat
            await eventually(lambda: beats_since(first, beat, 15), 10, description="renewals")
            assert (a.role, b.role) == (Role.ACTIVE, Role.STANDBY)
            assert (await second.lease()).holder == a.holder


async def test_a_standby_takes_over_a_lease_left_unrenewed_within_a_term_and_a_bit(
    tmp_path: Path,
) -> None:
    path = tmp_path / "data" / "newsbot.sqlite3"
    async with open_store(path) as first, open_store(path) as second:
        a = Instance(first, name="a", term=TERM)
        b = Instance(second, name="b", term=TERM)
        await a.tick()
        async with running(b):
            gone = time.monotonic()  # a is gone: it never renews (kill -9, machine lost)
            await eventually(lambda: b.role is Role.ACTIVE, 5, description="takeover")
            took = time.monotonic() - gone
            assert TERM * 0.9 <= took <= TERM * 1.5 + 0.5
            assert b.may_send() and b.epoch == 2
            assert not a.may_send()  # a's own clock says its term has run out
            assert (await second.lease()).holder == b.holder


async def test_an_orderly_stop_gives_the_lease_to_a_standby_at_once(tmp_path: Path) -> None:
    path = tmp_path / "data" / "newsbot.sqlite3"
    async with open_store(path) as first, open_store(path) as second:
        a = Instance(first, name="a", term=30.0)  # a term far longer than the test
        b = Instance(second, name="b", term=30.0)
        await a.tick()
        async with running(b):
            async with running(a):
                await b.tick()
                assert b.role is Role.STANDBY
            assert (await second.lease()).holder is None
            await eventually(lambda: b.role is Role.ACTIVE, 10, description="takeover")


async def test_a_paused_holder_that_wakes_up_steps_down_and_its_writes_are_refused(
    tmp_path: Path,
) -> None:
    path = tmp_path / "data" / "newsbot.sqlite3"
    async with open_store(path) as first, open_store(path) as second:
        a = Instance(first, name="a", term=TERM)
        b = Instance(second, name="b", term=TERM)
        await a.tick()
        fenced = first.fenced(a.fence)
        await fenced.set_setting("written_by", "a")
        # a is paused (its loop does not run) past its term; b takes over meanwhile.
        async with running(b):
            await eventually(lambda: b.role is Role.ACTIVE, 5, description="takeover")
        assert a.role is Role.ACTIVE and not a.may_send()  # awake, its own clock knows
        with pytest.raises(Deposed):
            await fenced.set_setting("written_by", "a, after the takeover")
        await a.tick()  # its next look at the lease
        assert a.role is Role.STANDBY and a.changed.is_set() and a.epoch is None
        assert await second.get_setting("written_by") == "a"
        assert (await second.lease()).epoch == 2  # b's, given up by its orderly stop


async def test_a_holder_cut_off_from_its_database_steps_down_before_a_standby_takes_over(
    tmp_path: Path,
) -> None:
    path = tmp_path / "data" / "newsbot.sqlite3"
    async with open_store(path) as first, open_store(path) as second:
        a = Instance(first, name="a", term=TERM)
        b = Instance(second, name="b", term=TERM)
        await a.tick()
        await first.close()  # every renewal now fails
        async with running(a), running(b):
            await eventually(lambda: a.role is Role.STANDBY, 5, description="step down")
            assert b.role is Role.STANDBY  # a's term ends on its own clock before b's does
            await eventually(lambda: b.role is Role.ACTIVE, 5, description="takeover")
