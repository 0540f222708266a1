"""Writing what became of each delivery: batches, deliveries kept busy until written, and a
database that refuses for a while."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

from bot.delivery import outcomes
from bot.delivery.outcomes import OutcomeWriter
from bot.store import Delivery, NewPost, Outcome, RevisionOutcome, Status, Store
from tests.helpers import eventually


async def queued(store: Store, *chats: int) -> list[Delivery]:
    """One post queued for each of these chats."""
    for chat in chats:
        await store.subscribe(chat, "private", None)
    await store.add_posts([NewPost("P1", "d1")])
    return await store.due(time.time() + 1)


def sent(delivery: Delivery) -> Outcome:
    return Outcome(delivery.id, Status.SENT, message_id=100 + delivery.id, sent_as="text")


async def test_outcomes_are_written_together_and_kept_busy_until_then(store: Store) -> None:
    deliveries = await queued(store, 1, 2, 3)
    writer = OutcomeWriter(store, in_flight=lambda: False)
    for delivery in deliveries:
        writer.note(sent(delivery))
    assert writer.pending == 3
    assert set(writer.unrecorded) == {("delivery", d.id) for d in deliveries}
    assert await store.delivery_counts() == {"pending": 3}  # still pending in the database
    await writer.flush()
    assert writer.pending == 0 and not writer.unrecorded
    assert await store.delivery_counts() == {"sent": 3}


async def test_revision_outcomes_are_kept_apart_from_deliveries(store: Store) -> None:
    [delivery] = await queued(store, 1)
    writer = OutcomeWriter(store, in_flight=lambda: False)
    writer.note(sent(delivery))
    writer.note_revision(RevisionOutcome(delivery.id, done=True, deleted=True))
    assert set(writer.unrecorded) == {("delivery", delivery.id), ("revision", delivery.id)}
    await writer.flush()
    assert not writer.unrecorded
    assert await store.delivery_counts() == {"deleted": 1}


async def test_a_batch_the_database_refuses_is_kept_and_written_later(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outcomes, "UNWRITTEN_ALARM_SECONDS", 0.0)
    database = tmp_path / "data" / "newsbot.sqlite3"  # the `store` fixture's file
    [delivery] = await queued(store, 1)
    with sqlite3.connect(database) as db:  # a disk that refuses writes, as SQLite reports it
        db.execute(
            "CREATE TRIGGER refuse BEFORE UPDATE ON deliveries "
            "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
        )
    writer = OutcomeWriter(store, in_flight=lambda: False)
    running = asyncio.create_task(writer.run())
    try:
        writer.note(sent(delivery))
        trouble = await eventually(writer.trouble, description="the unwritten outcome reported")
        assert trouble.startswith("outcomes unwritten for")
        assert writer.pending == 1 and ("delivery", delivery.id) in writer.unrecorded
        with sqlite3.connect(database) as db:
            db.execute("DROP TRIGGER refuse")
        await eventually(lambda: writer.pending == 0, description="the outcome written")
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    assert await store.delivery_counts() == {"sent": 1}
    assert writer.trouble() is None and not writer.unrecorded
