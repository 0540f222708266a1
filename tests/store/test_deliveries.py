"""The queue as the sender reads it: its order and paging, waits, outcomes and copies."""

from __future__ import annotations

from bot.store import NewPost, Outcome, Status, Store


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
