"""The lease: taken once when free or unchanged, renewed only by its holder, and a fence that
refuses every write of a holder that was deposed."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from bot.store import Deposed, Fence, NewPost, Outcome, Status, Store
from tests.helpers import open_store


async def take(store: Store, fence: Fence, term: float = 5.0) -> int:
    """Take the lease as it stands for `fence`; the lease must be takeable."""
    began = time.monotonic()
    epoch = await store.take_lease(fence.holder, await store.lease(), term=term)
    assert epoch is not None
    fence.hold(epoch, term=term, began=began)
    return epoch


async def test_a_new_database_has_a_free_lease_taken_once(store: Store) -> None:
    free = await store.lease()
    assert free.holder is None and free.epoch == 0
    assert await store.take_lease("a/1", free, term=5.0) == 1
    # A second instance that saw the same free lease loses the race.
    assert await store.take_lease("b/2", free, term=5.0) is None
    held = await store.lease()
    assert (held.holder, held.epoch, held.term) == ("a/1", 1, 5.0)


async def test_a_renewal_beats_the_lease_and_foils_a_takeover_that_watched_before(
    store: Store,
) -> None:
    await store.take_lease("a/1", await store.lease(), term=5.0)
    watched = await store.lease()
    assert await store.renew_lease("a/1", 1, term=5.0)
    renewed = await store.lease()
    assert renewed.mark == (1, watched.beat + 1)
    # A standby that decided on the beat it watched finds the lease renewed: it stays standby.
    assert await store.take_lease("b/2", watched, term=5.0) is None
    assert (await store.lease()).holder == "a/1"


async def test_takeover_of_an_unchanged_lease_raises_the_epoch_and_deposes_the_holder(
    store: Store,
) -> None:
    await store.take_lease("a/1", await store.lease(), term=5.0)
    unchanged = await store.lease()
    assert await store.take_lease("b/2", unchanged, term=5.0) == 2
    assert not await store.renew_lease("a/1", 1, term=5.0)  # the old holder cannot renew
    assert await store.renew_lease("b/2", 2, term=5.0)
    assert not await store.release_lease("a/1", 1)  # nor give away what it no longer has
    assert await store.release_lease("b/2", 2)
    released = await store.lease()
    assert released.holder is None and released.epoch == 2


async def test_the_fence_lets_the_holder_write_and_refuses_a_deposed_writer_whole(
    tmp_path: Path,
) -> None:
    path = tmp_path / "data" / "newsbot.sqlite3"
    async with open_store(path) as first, open_store(path) as second:
        await first.subscribe(1, "private", None)
        await first.subscribe(2, "private", None)
        fence_a = Fence("a/1")
        await take(first, fence_a)
        fenced_a = first.fenced(fence_a)
        assert await fenced_a.add_posts([NewPost("one", "d1")]) == 2  # the holder writes
        beat = (await first.lease()).beat
        assert beat >= 1  # and each fenced write proves it alive

        # Another instance takes over (the first one was paused for longer than its term).
        fence_b = Fence("b/2")
        await take(second, fence_b)
        [d1, d2] = await first.queue()
        with pytest.raises(Deposed):
            await fenced_a.record([Outcome(d1.id, Status.SENT, message_id=10)])
        with pytest.raises(Deposed):
            await fenced_a.add_posts([NewPost("two", "d2")])
        # Nothing of either transaction was kept: still pending, the second post never seen.
        assert [d.id for d in await second.queue()] == [d1.id, d2.id]
        assert set(await second.seen_posts()) == {"one"}

        # The new holder writes through its own fence.
        await second.fenced(fence_b).record([Outcome(d1.id, Status.SENT, message_id=11)])
        assert [d.id for d in await second.queue()] == [d2.id]


async def test_a_fence_that_holds_nothing_refuses_and_unfenced_writes_go_on(store: Store) -> None:
    fence = Fence("a/1")
    with pytest.raises(Deposed):
        await store.fenced(fence).set_setting("archive_taken", "yes")
    assert await store.get_setting("archive_taken") is None
    # Readers' commands on any instance are not fenced.
    await store.subscribe(5, "private", None)
    assert await store.active_chats() == 1


async def test_the_holder_trusts_its_lease_for_part_of_its_term_only(store: Store) -> None:
    fence = Fence("a/1")
    assert not fence.valid and fence.remaining == 0
    epoch = await take(store, fence, term=5.0)
    assert fence.valid and 3.0 < fence.remaining <= 3.5  # 70 % of the term
    fence.hold(epoch, term=5.0, began=time.monotonic() - 4.0)  # a renewal begun 4 s ago
    assert not fence.valid
    fence.renewed(epoch, time.monotonic())
    assert fence.valid
    fence.renewed(epoch + 1, time.monotonic() + 100)  # another epoch's renewal is not ours
    assert fence.remaining <= 3.5
    fence.lose()
    assert not fence.valid and fence.epoch is None


async def test_two_instances_migrating_at_once_both_open_the_database(tmp_path: Path) -> None:
    path = tmp_path / "data" / "newsbot.sqlite3"
    first, second = await asyncio.gather(Store.open(path), Store.open(path))
    try:
        assert await first.schema_version() == await second.schema_version()
        assert (await second.lease()).epoch == 0
    finally:
        await first.close()
        await second.close()


async def test_a_holder_whose_term_ran_out_still_records_until_another_takes_over(
    store: Store,
) -> None:
    await store.subscribe(1, "private", None)
    fence = Fence("a/1")
    await take(store, fence)
    fenced = store.fenced(fence)
    await fenced.add_posts([NewPost("one", "d1")])
    [delivery] = await store.queue()
    fence.lose()  # its term ran out (a database that did not answer): it sends no more
    assert not fence.valid
    # What it sent before is still its to record: nobody else has acted on the queue.
    await fenced.record([Outcome(delivery.id, Status.SENT, message_id=10)])
    assert await store.queue() == []
    await store.take_lease("b/2", await store.lease(), term=5.0)
    with pytest.raises(Deposed):
        await fenced.record([Outcome(delivery.id, Status.FAILED, error="late")])
