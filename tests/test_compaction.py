"""Compaction on a schedule: what is past the retention goes, a failing database waits."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from bot.compaction import Compactor, retention
from bot.store import DELETE_WINDOW_SECONDS, NewPost, Outcome, Status, Store

HOUR = 3600.0


def test_details_stay_as_long_as_a_message_may_be_revised() -> None:
    assert retention(48) == DELETE_WINDOW_SECONDS + HOUR
    assert retention(72) == 72 * HOUR + HOUR  # a longer edit window keeps them longer
    assert retention(1) == DELETE_WINDOW_SECONDS + HOUR  # deletions need 48 hours anyway


async def test_only_what_is_past_the_retention_goes(store: Store) -> None:
    await store.subscribe(1, "private", None)
    sent_at = time.time()
    await store.add_posts([NewPost("P", "p")], now=sent_at)
    [delivery] = await store.due(now=1e12)
    await store.record([Outcome(delivery.id, Status.SENT, message_id=5)], now=sent_at)
    now = sent_at
    compactor = Compactor(
        store, keep_seconds=retention(48), stopping=asyncio.Event(), clock=lambda: now
    )

    now = sent_at + retention(48) - 1
    await compactor.compact()
    assert await store.ledger_rows() == 1
    now = sent_at + retention(48) + 1
    await compactor.compact()
    assert await store.ledger_rows() == 0


async def test_a_failing_database_is_logged_and_tried_again(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    await store.close()  # every query now fails
    compactor = Compactor(store, keep_seconds=1.0, stopping=asyncio.Event())
    with caplog.at_level(logging.WARNING, logger="bot.compaction"):
        await compactor.compact()
    assert "ledger not compacted, trying again later" in caplog.text


async def test_a_stop_ends_the_schedule_at_once(store: Store) -> None:
    stopping = asyncio.Event()
    run = asyncio.create_task(Compactor(store, keep_seconds=1.0, stopping=stopping).run())
    stopping.set()
    await asyncio.wait_for(run, timeout=5)
