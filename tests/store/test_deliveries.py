"""The queue: one delivery per post and matching chat, its order, outcomes, a welcome's backlog."""

from __future__ import annotations

import asyncio

import pytest

from bot.store import NewPost, Outcome, Status, Store, deliveries


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


async def test_queue_order_priority_then_age_and_paging(store: Store) -> None:
    for chat in (1, 2, 3):
        await store.subscribe(chat, "private", None)
    await store.add_posts([NewPost("A", "a"), NewPost("B", "b", priority=10)])
    due = await store.due(now=1e12)
    assert [(d.post_id, d.chat_id) for d in due[:3]] == [("B", 1), ("B", 2), ("B", 3)]
    page = await store.due(now=1e12, limit=2)
    rest = await store.due(now=1e12, after=(page[-1].priority, page[-1].id))
    assert [d.id for d in page + rest] == [d.id for d in due]


async def test_outcomes_and_retry_times(store: Store) -> None:
    await store.subscribe(1, "private", None)
    await store.subscribe(2, "private", None)
    await store.add_posts([NewPost("A", "a")])
    first, second = await store.due(now=1e12)
    await store.record(
        [
            Outcome(first.id, Status.SENT, message_id=7),
            Outcome(second.id, Status.PENDING, error="Bad Gateway", not_before=5e11),
        ]
    )
    assert [d.id for d in await store.due(now=1e11)] == []
    [retry] = await store.due(now=1e12)
    assert retry.id == second.id and retry.attempts == 1
    assert await store.next_due_time() == 5e11
    assert await store.delivery_counts() == {"sent": 1, "pending": 1}


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


async def test_the_senders_queue_shows_waiting_deliveries_and_keeps_their_chats_waiting(
    store: Store,
) -> None:
    for chat in (1, 2):
        await store.subscribe(chat, "private", None)
    await store.add_posts([NewPost("A", "a")])
    first, second = await store.due(now=1e12)
    later = 4e12  # Telegram's retry_after, kept with the delivery; no attempt of its own
    await store.record(
        [Outcome(first.id, Status.PENDING, not_before=later, counts_as_attempt=False)]
    )
    queued = await store.queue()
    assert [(d.id, d.not_before, d.attempts) for d in queued] == [
        (first.id, later, 0),
        (second.id, 0.0, 0),
    ]
    assert await store.waiting_chats(1e12) == {first.chat_id: later}
    assert await store.waiting_chats(later) == {}  # its time has come


async def test_every_copy_of_a_delivery_is_kept(store: Store) -> None:
    await store.subscribe(1, "private", None)
    await store.add_posts([NewPost("A", "a")])
    [delivery] = await store.due(now=1e12)
    await store.record_copies([(delivery.id, 7)])  # a late answer, before the retry's
    await store.record([Outcome(delivery.id, Status.SENT, message_id=8, sent_as="text")])
    await store.request_retraction("A", delete_since=0)
    [copy] = await store.due_revisions(1e12)
    assert (copy.message_id, copy.copies) == (8, (7,))


async def test_a_post_is_queued_in_chunks_and_a_crash_between_them_loses_nobody(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deliveries, "QUEUE_CHUNK", 3)
    for chat in range(1, 11):
        await store.subscribe(chat, "private", None)
    queueing = asyncio.create_task(store.add_posts([NewPost("P", "p")]))
    while not queueing.done():
        # A reader's query goes between chunks. More than one chunk's rows mean the first
        # chunk is committed (this connection also sees the second one's, still uncommitted).
        if len(await store.due(now=1e12)) > 3:
            queueing.cancel()  # the process dies in the middle
    await asyncio.gather(queueing, return_exceptions=True)
    assert 3 <= len(await store.due(now=1e12)) < 10

    await store.add_posts([])  # the next pass queues the rest
    assert sorted(d.chat_id for d in await store.due(now=1e12)) == list(range(1, 11))


async def test_a_push_finishes_the_scans_queueing_first(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deliveries, "QUEUE_CHUNK", 2)
    await store.subscribe(1, "private", None, ["world"])
    await store.subscribe(2, "private", None, ["sport"])
    await store.subscribe(3, "private", None, ["sport"])
    assert await store.add_posts([NewPost("P", "p", ("sport",))]) == 2
    assert await store.push("P", "p", category=None, priority=10) == 1
    assert sorted(d.chat_id for d in await store.due(now=1e12)) == [1, 2, 3]


async def test_a_chat_that_has_the_post_already_is_not_queued_it_again(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deliveries, "QUEUE_CHUNK", 3)
    for chat in range(1, 11):
        await store.subscribe(chat, "private", None)
    queueing = asyncio.create_task(store.add_posts([NewPost("P", "p")]))
    while not queueing.done():
        if len(await store.due(now=1e12)) > 3:  # the first chunk is committed (see above)
            queueing.cancel()
    await asyncio.gather(queueing, return_exceptions=True)
    # A group queued in the first chunk becomes a supergroup whose id a later chunk covers.
    await store.migrate_chat(1, 20)

    await store.add_posts([])
    assert sorted(d.chat_id for d in await store.due(now=1e12)) == [*range(2, 11), 20]
