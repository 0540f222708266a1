"""Queueing: one delivery per post and matching chat, in chunks that survive a crash, pushes and
a welcome's backlog, and never a post a chat already has."""

from __future__ import annotations

import asyncio

import pytest

from bot.store import NewPost, Store, queueing


async def test_a_post_is_queued_once_per_matching_chat(store: Store) -> None:
    await store.subscribe(1, "private", None)  # everything
    await store.subscribe(2, "private", None, ["world"])
    await store.subscribe(3, "private", None, ["business"])
    await store.subscribe(4, "private", None)
    await store.unsubscribe_all(4)
    world = NewPost("P1", "d1", ("world",))
    assert await store.add_posts([world]) == 2
    assert await store.add_posts([world]) == 0  # the same post found again queues nothing
    assert await store.add_posts([NewPost("P2", "d2", ("sport",), archived=True)]) == 0
    due = await store.due(now=1e12)
    assert sorted(d.chat_id for d in due) == [1, 2]
    assert set(await store.seen_posts()) == {"P1", "P2"}


async def test_backlog_takes_the_newest_recorded_posts_and_never_repeats(store: Store) -> None:
    await store.add_posts([NewPost("OLD", "o", archived=True)])
    await store.add_posts([NewPost("P1", "1"), NewPost("P2", "2"), NewPost("P3", "3")])
    await store.subscribe(1, "private", None)
    newest_first = ["NEW", "P3", "OLD", "P2", "P1"]  # NEW is not recorded yet
    assert await store.queue_backlog(1, newest_first, limit=2, priority=10) == 2
    due = await store.due(now=1e12)
    # Oldest first; an archived post is not broadcast but does belong to a welcome.
    assert [(d.post_id, d.priority) for d in due] == [("OLD", 10), ("P3", 10)]
    assert await store.queue_backlog(1, newest_first, limit=2, priority=10) == 0
    assert await store.queue_backlog(1, newest_first, limit=0) == 0
    await store.unsubscribe_all(1)
    assert await store.queue_backlog(1, newest_first, limit=2) == 0  # an inactive chat
    await store.subscribe(1, "private", None)
    assert await store.queue_backlog(1, newest_first, limit=2) == 0  # cancelled stays cancelled
    assert await store.queue_backlog(2, newest_first, limit=2) == 0  # an unknown chat


async def test_a_post_is_queued_in_chunks_and_a_crash_between_them_loses_nobody(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queueing, "QUEUE_CHUNK", 3)
    for chat in range(1, 11):
        await store.subscribe(chat, "private", None)
    task = asyncio.create_task(store.add_posts([NewPost("P", "p")]))
    while not task.done():
        # A reader's query goes between chunks. More than one chunk's rows mean the first
        # chunk is committed (this connection also sees the second one's, still uncommitted).
        if len(await store.due(now=1e12)) > 3:
            task.cancel()  # the process dies in the middle
    await asyncio.gather(task, return_exceptions=True)
    assert 3 <= len(await store.due(now=1e12)) < 10

    await store.add_posts([])  # the next pass queues the rest
    assert sorted(d.chat_id for d in await store.due(now=1e12)) == list(range(1, 11))


async def test_a_push_finishes_the_scans_queueing_first(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queueing, "QUEUE_CHUNK", 2)
    await store.subscribe(1, "private", None, ["world"])
    await store.subscribe(2, "private", None, ["sport"])
    await store.subscribe(3, "private", None, ["sport"])
    assert await store.add_posts([NewPost("P", "p", ("sport",))]) == 2
    assert await store.push("P", "p", category=None, priority=10) == 1
    assert sorted(d.chat_id for d in await store.due(now=1e12)) == [1, 2, 3]


async def _queue_first_chunk_only(store: Store) -> None:
    """Chats 10-19 subscribed; post P queued for the first chunk of three, then the process
    dies (the cancel lands between chunks, as in the test above)."""
    for chat in range(10, 20):
        await store.subscribe(chat, "private", None)
    task = asyncio.create_task(store.add_posts([NewPost("P", "p")]))
    while not task.done():
        if len(await store.due(now=1e12)) > 3:
            task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert 3 <= len(await store.due(now=1e12)) < 10


async def test_a_chat_that_has_the_post_already_is_not_queued_it_again(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queueing, "QUEUE_CHUNK", 3)
    await _queue_first_chunk_only(store)
    # A chat of the first chunk moves to an id a later chunk covers, with its delivery.
    await store.migrate_chat(10, 30)

    await store.add_posts([])
    assert sorted(d.chat_id for d in await store.due(now=1e12)) == [*range(11, 20), 30]


async def test_a_group_that_moves_behind_the_queueing_still_gets_the_post(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queueing, "QUEUE_CHUNK", 3)
    await _queue_first_chunk_only(store)
    # A group not reached yet becomes a supergroup, whose id is lower: the queueing is past it.
    await store.migrate_chat(18, 5)

    await store.add_posts([])
    assert sorted(d.chat_id for d in await store.due(now=1e12)) == [5, *range(10, 18), 19]
