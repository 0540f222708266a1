"""The ledger kept small: finished rows go once they are of no use, and no chat is sent a post
twice because its row went."""

from __future__ import annotations

import asyncio
import time

from bot.store import NewPost, Outcome, RevisionOutcome, Status, Store
from bot.store.db import SQLITE

DAY = 86_400.0


async def sent(store: Store, post_id: str, *, now: float, chats: int | None = None) -> None:
    """Queue a post at `now` and record every one of its deliveries as sent."""
    await store.add_posts([NewPost(post_id, post_id)], now=now)
    due = [d for d in await store.due(now=1e12, limit=100_000) if d.post_id == post_id]
    await store.record(
        [Outcome(d.id, Status.SENT, message_id=d.id) for d in due[:chats]], now=now + 60
    )


async def test_a_row_with_a_revision_waiting_stays_until_it_is_done(store: Store) -> None:
    await store.subscribe(1, "private", None)
    now = time.time()
    await sent(store, "OLD", now=now - 3 * DAY)
    assert await store.request_updates("OLD", sent_since=0.0) == 1

    assert (await store.compact_ledger(before=now + 1)).deleted == 0

    [waiting] = await store.due_revisions(now=1e12)
    await store.record_revisions([RevisionOutcome(waiting.delivery_id, done=True)])
    assert (await store.compact_ledger(before=now + 1)).deleted == 1


async def test_rows_go_only_past_the_cut_off(store: Store) -> None:
    for chat in (1, 2, 3):
        await store.subscribe(chat, "private", None)
    now = time.time()
    await sent(store, "OLD", now=now - 3 * DAY, chats=2)  # chat 3's delivery stays pending
    await sent(store, "NEW", now=now, chats=3)

    result = await store.compact_ledger(before=now + 1, batch=2)

    # Only OLD was first seen before the cut-off; its pending delivery is still owed.
    assert (result.deleted, result.chats) == (2, 2)
    assert await store.ledger_rows() == 4
    assert await store.delivery_counts("OLD") == {"pending": 1}
    assert await store.delivery_counts("NEW") == {"sent": 3}


async def test_a_compacted_post_is_never_queued_again_for_the_chat(store: Store) -> None:
    await store.subscribe(1, "private", None)
    now = time.time()
    await sent(store, "OLD", now=now - 3 * DAY)
    await store.compact_ledger(before=now - DAY)
    assert await store.ledger_rows() == 0

    assert await store.push("OLD", "OLD", category=None, priority=10) == 0
    assert await store.queue_backlog(1, ["OLD"], limit=5) == 0
    await store.subscribe(2, "private", None)  # a reader who never had it
    assert await store.push("OLD", "OLD", category=None, priority=10) == 1
    assert [d.chat_id for d in await store.due(now=1e12)] == [2]


async def test_a_group_that_becomes_a_supergroup_keeps_its_floor(store: Store) -> None:
    await store.subscribe(-5, "group", None)
    now = time.time()
    await sent(store, "OLD", now=now - 3 * DAY)
    await store.compact_ledger(before=now - DAY)
    await store.migrate_chat(-5, -1005)
    assert await store.push("OLD", "OLD", category=None, priority=10) == 0


async def test_the_ledger_stays_bounded_day_after_day(store: Store) -> None:
    """Thirty days of ten posts a day to twenty readers, compacted daily with two days kept:
    the table holds about three days' rows, however long the bot runs."""
    for chat in range(1, 21):
        await store.subscribe(chat, "private", None)
    start = time.time() - 40 * DAY
    sizes = []
    for day in range(30):
        for n in range(10):
            await sent(store, f"D{day}-{n}", now=start + day * DAY + n)
        await store.compact_ledger(before=start + (day - 2) * DAY)
        sizes.append(await store.ledger_rows())
    assert max(sizes) <= 3 * 10 * 20
    assert sizes[-1] == sizes[10]


async def test_a_readers_command_goes_between_batches(store: Store) -> None:
    for chat in range(1, 201):
        await store.subscribe(chat, "private", None)
    now = time.time()
    for n in range(20):
        await sent(store, f"P{n}", now=now - 3 * DAY + n)
    compaction = asyncio.create_task(store.compact_ledger(before=now - DAY, batch=50))
    seen = set()
    while not compaction.done():
        await store.subscribe(999, "private", None)  # a reader's /start, a write, goes between
        seen.add(await store.ledger_rows())
    assert (await compaction).deleted == 4_000
    assert any(0 < rows < 4_000 for rows in seen)  # not one transaction holding every write


async def _deliveries_size(store: Store) -> int:
    """Pages (SQLite: the file's, free ones included) or bytes (PostgreSQL) of the table."""
    database = store._db
    if database.engine == SQLITE:
        return int(str(await database.scalar("PRAGMA page_count")))
    return int(str(await database.scalar("SELECT pg_relation_size('deliveries')")))


async def test_the_room_of_compacted_rows_is_used_again(store: Store) -> None:
    """A day's new rows take the place of those compacted, so the table stops growing, on
    PostgreSQL too, where the room of deleted rows waits for a vacuum."""
    for chat in range(1, 401):
        await store.subscribe(chat, "private", None)
    now = time.time() - 10 * DAY
    sizes = []
    for day in range(5):
        for number in range(5):
            await sent(store, f"D{day}-{number}", now=now + day * DAY)
        await store.compact_ledger(before=now + (day - 1.5) * DAY)  # two days' rows stay
        sizes.append(await _deliveries_size(store))
    assert await store.ledger_rows() == 4_000
    assert max(sizes[3:]) <= sizes[2] * 1.05, sizes  # SQLite's posts table grows a little
