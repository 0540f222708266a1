"""The ledger kept small: what each chat had is kept for good, a message's details only while
they are of use.

Each delivery is one row, so 100,000 readers and 50 posts a day add 5 million rows a day. A
finished row (sent, failed, cancelled, deleted) is needed in full only while its message may
still be edited or deleted, and while a revision of it is waiting. After that, one fact is left
that matters: the chat had the post, so it must never be queued for it again.

Compaction deletes such rows and keeps that fact as one number per chat, its floor
(`chats.compacted_through`, a `posts.first_seen` time): a post first seen before a chat's floor
is never queued for that chat (`queueing` checks it when pushing and when queueing a new
reader's backlog). Only rows of posts first seen before the floor are deleted, so the floor
never lets a deleted row's post through. It also keeps out the few older posts the chat never
had (it read other categories then); they are older than the retention, a couple of days at
least, and a push of one is for the readers who have not had it among those who joined since.

The room the deleted rows leave is made reusable at once (`Database.reclaim`): on PostgreSQL,
waiting for autovacuum let the table grow on for days after the retention was full.

The rows go in small batches, each its own short transaction, so a reader's command waits for
one batch at most, never for the whole compaction. Batches walk the table by id, which follows
the order rows were queued in, and stop at the first row queued after the cut-off: no row that
young can be finished long enough, so each run reads the old rows only.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from bot.store.db import Database
from bot.store.model import Status

log = logging.getLogger(__name__)

#: Rows deleted per transaction: small enough that a command waits a few milliseconds at most.
COMPACT_BATCH = 2_000


@dataclass(frozen=True, slots=True)
class Compaction:
    """What one compaction did."""

    deleted: int
    """Delivery rows removed."""
    chats: int
    """Chats whose floor moved."""


class LedgerQueries:
    """The store's queries that keep the deliveries table to the rows still of use."""

    _db: Database

    async def compact_ledger(self, *, before: float, batch: int = COMPACT_BATCH) -> Compaction:
        """Delete finished deliveries last changed before `before`, of posts first seen before
        it, with no revision waiting; move each chat's floor to `before` as its rows go.

        `before` is now minus the longest time a sent message may still be edited or deleted.
        Runs until no such row is left; between batches other queries get their turn.
        """
        deleted = 0
        chats: set[int] = set()
        last_id = 0
        while True:
            rows = await self._db.rows(
                "SELECT d.id, d.chat_id, d.status, d.revision, d.updated_at, d.created_at, "
                "p.first_seen FROM deliveries AS d JOIN posts AS p ON p.id = d.post_id "
                "WHERE d.id > ? ORDER BY d.id LIMIT ?",
                (last_id, batch),
            )
            if not rows:
                break
            last_id = int(rows[-1][0])
            done = [
                (int(row[0]), int(row[1]))
                for row in rows
                if row[2] != Status.PENDING
                and row[3] is None
                and float(row[4]) < before
                and float(row[6]) < before
            ]
            if done:
                await self._forget(done, before)
                deleted += len(done)
                chats.update(chat for _, chat in done)
            if float(rows[-1][5]) >= before or len(rows) < batch:
                break  # rows are queued in id order: none after this one is old enough
            await asyncio.sleep(0)
        if deleted:
            try:
                await self._db.reclaim("deliveries")
            except Exception as exc:  # the rows are gone all the same; the next run tries again
                log.warning("room of compacted deliveries not reclaimed error=%s", exc)
        return Compaction(deleted=deleted, chats=len(chats))

    async def _forget(self, rows: list[tuple[int, int]], before: float) -> None:
        """Delete one batch of rows and raise their chats' floors, in one transaction.

        Each row is checked again inside the transaction: the sender may have queued a revision
        of it since it was read.
        """
        async with self._db.transaction() as tx:
            await tx.executemany(
                "DELETE FROM deliveries WHERE id = ? AND status <> 'pending' AND revision IS NULL",
                [(delivery,) for delivery, _ in rows],
            )
            await tx.executemany(
                "UPDATE chats SET compacted_through = ? "
                "WHERE id = ? AND (compacted_through IS NULL OR compacted_through < ?)",
                [(before, chat, before) for chat in sorted({chat for _, chat in rows})],
            )

    async def ledger_rows(self) -> int:
        """How many delivery rows the ledger holds now."""
        value = await self._db.scalar("SELECT COUNT(*) FROM deliveries")
        return int(str(value or 0))
