"""Live reports in the store: which deliveries a report counts, its figures, and stopping."""

from __future__ import annotations

import time

from bot.store import STOPPED, NewPost, Outcome, Status, Store

NOW = time.time()


async def queued(store: Store, post: str, chats: range) -> list[int]:
    """Queue `post` for new subscribers `chats`; the ids of its deliveries, in order."""
    for chat in chats:
        await store.subscribe(chat, "private", None)
    await store.add_posts([NewPost(post, "digest", ("world",))])
    return [d.id for d in await store.queue(limit=1000) if d.post_id == post]


async def test_a_report_counts_the_deliveries_queued_after_it_began(store: Store) -> None:
    await queued(store, "OLD", range(1, 4))
    after = await store.last_delivery_id()
    none = await store.open_report("P", "push", chat_id=7, message_id=9, language="en", after=after)
    assert none is None  # nothing queued for P
    ids = await queued(store, "P", range(4, 10))
    report = await store.open_report(
        "P", "push", chat_id=7, message_id=9, language="th", after=after
    )
    assert report is not None
    assert (report.first_delivery, report.last_delivery) == (min(ids), max(ids))
    assert (report.language, report.kind, report.finished_at) == ("th", "push", None)
    again = await store.open_report("P", "push", chat_id=7, message_id=9, language="en", after=0)
    assert again == report  # one message reports one broadcast
    assert await store.running_reports() == [report]
    await store.finish_report(report.id)
    assert await store.running_reports() == []
    finished = await store.report(report.id)
    assert finished is not None and finished.finished_at is not None


async def test_figures_tell_sent_failed_waiting_and_why(store: Store) -> None:
    ids = await queued(store, "P", range(1, 9))
    await store.record(
        [
            Outcome(ids[0], Status.SENT, message_id=1),
            Outcome(ids[1], Status.SENT, message_id=2),
            Outcome(ids[2], Status.FAILED, error="Bad Request: chat not found"),
            Outcome(ids[3], Status.FAILED, error="Bad Request: chat not found"),
            Outcome(ids[4], Status.PENDING, error="RetryAfter: retry in 3", not_before=NOW + 60),
            Outcome(ids[5], Status.PENDING, error="NetworkError: Bad Gateway", not_before=NOW + 9),
        ]
    )
    await store.unsubscribe_all(8)  # cancels what was queued for that chat
    figures = await store.figures("P", now=NOW, since=NOW - 30)
    assert (figures.total, figures.sent, figures.pending) == (8, 2, 3)
    assert (figures.flood, figures.retrying, figures.stopped) == (1, 1, 0)
    assert figures.not_delivered["Bad Request: chat not found"] == 2
    assert figures.failed == 3  # and the chat that left
    assert figures.recent == 2 and figures.first_sent is not None
    assert figures.last_sent is not None and figures.first_sent <= figures.last_sent


async def test_stopping_cancels_only_what_was_not_sent(store: Store) -> None:
    ids = await queued(store, "P", range(1, 11))
    report = await store.open_report(
        "P", "breaking", chat_id=7, message_id=9, language="en", after=0
    )
    assert report is not None
    await store.record([Outcome(i, Status.SENT, message_id=i) for i in ids[:3]])
    assert await store.stop_report(report.id, editor=7) == 7
    assert await store.stop_report(report.id, editor=7) is None  # once
    stopped = await store.report(report.id)
    assert stopped is not None and stopped.stopped_by == 7 and stopped.stopped_at is not None
    assert await store.queue_depth() == 0  # the sender has nothing left to take
    # A message on its way when the stop came is recorded as sent when Telegram accepts it;
    # a refusal does not bring a stopped delivery back.
    await store.record(
        [
            Outcome(ids[3], Status.SENT, message_id=99),
            Outcome(ids[4], Status.PENDING, error="RetryAfter: retry in 1", not_before=NOW + 1),
        ]
    )
    figures = await store.figures("P", first=report.first_delivery, last=report.last_delivery)
    assert (figures.sent, figures.stopped, figures.pending) == (4, 6, 0)
    assert STOPPED not in figures.not_delivered
    assert await store.delivery_counts("P") == {"sent": 4, "cancelled": 6}


async def test_broadcasts_running_are_the_posts_with_deliveries_pending(store: Store) -> None:
    await queued(store, "A", range(1, 3))
    await queued(store, "B", range(3, 5))
    assert await store.broadcasts_running() == ["A", "B"]
    ids = [d.id for d in await store.queue() if d.post_id == "A"]
    await store.record([Outcome(i, Status.SENT, message_id=i) for i in ids])
    assert await store.broadcasts_running() == ["B"]
