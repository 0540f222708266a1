"""Keeping the ledger small while the bot runs: finished deliveries are compacted every hour.

What goes and what is kept is the store's rule (`bot.store.ledger`); this module decides when,
and how long a sent message's details stay: as long as its post may still be corrected (the
edit window) or retracted (Telegram lets a bot delete a message for 48 hours), and an hour
more, so a revision asked for at the window's very edge still finds its row.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from bot.store import DELETE_WINDOW_SECONDS, Store

log = logging.getLogger(__name__)

#: How often the ledger is compacted; the first time soon after the start.
EVERY_SECONDS = 3600.0
FIRST_AFTER_SECONDS = 60.0
#: Kept past the longest window in which a message may still be revised.
MARGIN_SECONDS = 3600.0


def retention(edit_window_hours: float) -> float:
    """Seconds a finished delivery keeps its details: past this no revision can reach it."""
    return max(DELETE_WINDOW_SECONDS, edit_window_hours * 3600) + MARGIN_SECONDS


class Compactor:
    """Compacts the ledger on a schedule; a failure waits for the next run, never ends it."""

    def __init__(
        self,
        store: Store,
        *,
        keep_seconds: float,
        stopping: asyncio.Event,
        active: Callable[[], bool] = lambda: True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`active` says whether this instance is the one that compacts (of several sharing the
        database, the active one: `bot.role`)."""
        self._store = store
        self._active = active
        self._keep = keep_seconds
        self._stopping = stopping
        self._clock = clock

    async def run(self) -> None:
        """Compact now and then until the bot stops."""
        wait = FIRST_AFTER_SECONDS
        while not await self._stopped_within(wait):
            wait = EVERY_SECONDS
            if self._active():
                await self.compact()

    async def compact(self) -> None:
        """One compaction of everything past the retention; logged, and never raised."""
        try:
            done = await self._store.compact_ledger(before=self._clock() - self._keep)
        except Exception as exc:  # a locked or failing database: the next run tries again
            log.warning("ledger not compacted, trying again later error=%s", exc)
        else:
            if done.deleted:
                log.info("ledger compacted rows=%d chats=%d", done.deleted, done.chats)

    async def _stopped_within(self, seconds: float) -> bool:
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        except TimeoutError:
            return False
        return True
