"""Queueing: which posts are new, and who each one goes to.

A post found new is recorded with who it is for (its audience: everyone, its categories, its
language) and then queued for those chats a chunk at a time, each chunk a delivery row per chat
(`deliveries`), so a broadcast to a million readers never holds up a reader's command for
long. Editors' pushes and a new reader's welcome backlog queue the same way, and a chat is
never queued a post it had: its row, or its ledger floor (`ledger`), says so.

Lists travel as one JSON parameter read with `json_each`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterable, Sequence
from typing import Any

from bot.store.db import Database, Transaction
from bot.store.model import ALL, NewPost

#: Chats queued for a post per transaction: a reader's command waits for one chunk at most,
#: never for a broadcast to a million chats to be queued whole.
QUEUE_CHUNK = 20_000
#: A post's queueing cursor before its first chunk: lower than any chat id.
BEFORE_EVERY_CHAT = -(2**63)

# The chats of one chunk (ids in (?2, ?3]) that a post is queued for: active since before its
# queueing began (?10: a chat that joins while a large broadcast is being queued gets its own
# backlog instead, as if the queueing had been one moment), not past the post in the ledger
# (`ledger`), and subscribed to everything, to one of the post's categories, or (categories
# NULL) to anything at all; with a language, only chats reading it (or all). The subscriptions
# are bounded by the chunk too: PostgreSQL otherwise reads all of them for every chunk.
_AUDIENCE = (
    "FROM chats AS c WHERE c.id > ?2 AND c.id <= ?3 AND c.active = 1 AND c.subscribed_at <= ?10"
    " AND (c.compacted_through IS NULL OR c.compacted_through <= ?4)"
    " AND EXISTS (SELECT 1 FROM subscriptions AS s"
    "  WHERE s.chat_id = c.id AND s.chat_id > ?2 AND s.chat_id <= ?3"
    "  AND (CAST(?5 AS TEXT) IS NULL OR s.category = ?6"
    "   OR s.category IN (SELECT value FROM json_each(?5))))"
    " AND (CAST(?7 AS TEXT) IS NULL OR c.languages IS NULL"
    "  OR ?7 IN (SELECT value FROM json_each(c.languages)))"
)
# A push goes to active, subscribed chats that have not had the post: all of them (category
# None) or those subscribed to the category or to everything. A chat whose ledger was compacted
# past the post's first sighting may have had it (`ledger`).
_PUSH_AUDIENCE = (
    "FROM chats AS c WHERE c.active = 1 AND (c.compacted_through IS NULL"
    " OR c.compacted_through <= (SELECT first_seen FROM posts WHERE id = ?1)) AND EXISTS ("
    "  SELECT 1 FROM subscriptions AS s WHERE s.chat_id = c.id"
    "  AND (?2 IS NULL OR s.category IN (?2, ?3)))"
    " AND NOT EXISTS (SELECT 1 FROM deliveries AS d WHERE d.post_id = ?1 AND d.chat_id = c.id)"
)


def _audience(categories: Sequence[str] | None, language: str | None, priority: int) -> str:
    """Who a post is queued for, kept with the post until every chunk is queued: the chats
    active when its queueing began (this moment)."""
    return json.dumps(
        {
            "categories": None if categories is None else list(categories),
            "language": language,
            "priority": priority,
            "since": time.time(),
        }
    )


class QueueingQueries:
    """The store's queries that record new posts and queue them for the chats they are for."""

    _db: Database

    # --- posts ------------------------------------------------------------------------------

    async def seen_posts(self) -> dict[str, str]:
        """Every post id ever recorded, with the digest of its file when last seen."""
        rows = await self._db.rows("SELECT id, digest FROM posts")
        return {str(row[0]): str(row[1]) for row in rows}

    async def add_posts(self, posts: Sequence[NewPost], *, now: float | None = None) -> int:
        """Record newly found posts and queue each unarchived one for its subscribers.

        A post is recorded with who it is for in one transaction, then queued in chunks of
        chats (`QUEUE_CHUNK`), each chunk a transaction of its own that also moves the post's
        cursor: a crash in between leaves the cursor where it was, and the next pass (any
        call of this method) queues the rest. Returns deliveries queued.
        """
        now = time.time() if now is None else now
        if posts:
            await self._record_new(posts, now)
        queued = 0
        for row in await self._db.rows("SELECT id FROM posts WHERE queued_through IS NOT NULL"):
            queued += await self._queue(str(row[0]), now)
        return queued

    async def _record_new(self, posts: Sequence[NewPost], now: float) -> None:
        """Record posts with who each is for, in one transaction (a pass with nothing new
        writes nothing)."""
        async with self._db.transaction() as tx:
            for post in posts:
                await tx.execute(
                    "INSERT INTO posts "
                    "(id, digest, first_seen, archived, audience, queued_through) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    (
                        post.id,
                        post.digest,
                        now,
                        post.archived,
                        None
                        if post.archived
                        else _audience(
                            None if post.everyone else post.categories,
                            None if post.everyone else post.language,
                            post.priority,
                        ),
                        None if post.archived else BEFORE_EVERY_CHAT,
                    ),
                )

    async def _queue(self, post_id: str, now: float) -> int:
        """Queue the post's remaining chunks of chats at `now`; returns deliveries queued."""
        queued = 0
        while True:
            async with self._db.transaction() as tx:
                row = await tx.row(
                    "SELECT queued_through, audience, first_seen FROM posts WHERE id = ?",
                    (post_id,),
                )
                if row is None or row[0] is None:
                    return queued
                cursor, audience, first_seen = int(row[0]), json.loads(str(row[1])), row[2]
                end = await tx.row(
                    "SELECT MAX(id) FROM (SELECT id FROM chats WHERE id > ? ORDER BY id LIMIT ?) "
                    "AS chunk",
                    (cursor, QUEUE_CHUNK),
                )
                if end is None or end[0] is None:
                    await tx.execute(
                        "UPDATE posts SET queued_through = NULL, audience = NULL WHERE id = ?",
                        (post_id,),
                    )
                    return queued
                queued += await queue_chats(
                    tx, post_id, audience, first_seen, after=cursor, through=int(end[0]), now=now
                )
                await tx.execute(
                    "UPDATE posts SET queued_through = ? WHERE id = ?", (int(end[0]), post_id)
                )
            await asyncio.sleep(0)  # the chunk is committed: other queries go now

    async def update_digests(self, digests: Iterable[tuple[str, str]]) -> None:
        """Remember the new content digest of posts whose files changed."""
        async with self._db.transaction() as tx:
            await tx.executemany(
                "UPDATE posts SET digest = ? WHERE id = ?",
                [(digest, post_id) for post_id, digest in digests],
            )

    # --- queueing beyond a scan: pushes and a new subscriber's backlog ----------------------

    async def push_audience(self, post_id: str, category: str | None) -> int:
        """How many chats a push of the post would reach now."""
        value = await self._db.scalar("SELECT COUNT(*) " + _PUSH_AUDIENCE, (post_id, category, ALL))
        return int(str(value or 0))

    async def push(
        self,
        post_id: str,
        digest: str,
        *,
        category: str | None,
        priority: int,
        now: float | None = None,
    ) -> int:
        """Queue a post for the chats that have not had it, ahead of other deliveries.

        The post is recorded as seen if it was not, so a later scan does not queue it again.
        Returns deliveries queued.
        """
        now = time.time() if now is None else now
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO posts (id, digest, first_seen, archived) "
                "VALUES (?, ?, ?, 0) ON CONFLICT DO NOTHING",
                (post_id, digest, now),
            )
        queued = await self._queue(post_id, now)  # a scan's queueing of it, if unfinished, first
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE posts SET audience = ?, queued_through = ? WHERE id = ?",
                (
                    _audience(None if category is None else [category], None, priority),
                    BEFORE_EVERY_CHAT,
                    post_id,
                ),
            )
        return queued + await self._queue(post_id, now)

    async def queue_backlog(
        self,
        chat_id: int,
        post_ids: Sequence[str],
        *,
        limit: int,
        priority: int = 0,
        now: float | None = None,
    ) -> int:
        """Queue the first `limit` of `post_ids` (newest first) for one newly subscribed chat.

        Only posts already recorded qualify (one not yet recorded is queued by the next scan
        anyway). Archived posts do: the archive is not broadcast, but a reader who just
        subscribed asked for the newest stories, and on a fresh install those are all archived.
        They are queued oldest first,
        so the chat reads them in the order they were published. A post that already has a
        delivery row for the chat (sent, failed, or cancelled when the chat left), or that was
        first seen before the chat's ledger floor (`ledger`), is not queued again, so the
        welcome never repeats or resurrects anything. Returns deliveries queued.
        """
        if limit <= 0 or not post_ids:
            return 0
        now = time.time() if now is None else now
        async with self._db.transaction() as tx:
            return await tx.execute(
                "INSERT INTO deliveries "
                "(post_id, chat_id, priority, created_at, updated_at) "
                "SELECT post_id, ?, ?, ?, ? FROM ("
                "  SELECT j.value AS post_id, j.key AS rank FROM json_each(?) AS j"
                "  JOIN posts AS p ON p.id = j.value"
                "  ORDER BY j.key LIMIT ?"
                ") AS backlog WHERE EXISTS (SELECT 1 FROM chats WHERE id = ? AND active = 1 "
                "  AND (compacted_through IS NULL OR compacted_through <= "
                "   (SELECT first_seen FROM posts WHERE id = backlog.post_id))) "
                "ORDER BY rank DESC ON CONFLICT DO NOTHING",
                (chat_id, priority, now, now, json.dumps(list(post_ids)), limit, chat_id),
            )


async def queue_chats(
    tx: Transaction,
    post_id: str,
    audience: dict[str, Any],
    first_seen: float,
    *,
    after: int,
    through: int,
    now: float,
) -> int:
    """Queue the post for the chats of its `audience` with ids in (`after`, `through`]: one
    chunk of its queueing, or one chat that moved behind the queueing's cursor. Returns
    deliveries queued."""
    categories = audience["categories"]
    # A chat of the chunk may have the post already (an editor pushed it, a welcome backlog
    # queued it, a group's deliveries moved to its supergroup's id). Only then is each row
    # checked for a conflict: that check is a third of the time of a million rows.
    had = await tx.row(
        "SELECT 1 FROM deliveries WHERE post_id = ? AND chat_id > ? AND chat_id <= ? LIMIT 1",
        (post_id, after, through),
    )
    return await tx.execute(
        "INSERT INTO deliveries (post_id, chat_id, priority, created_at, updated_at) "
        "SELECT ?1, c.id, ?8, ?9, ?9 " + _AUDIENCE + (" ON CONFLICT DO NOTHING" if had else ""),
        (
            post_id,
            after,
            through,
            first_seen,
            None if categories is None else json.dumps(categories),
            ALL,
            audience["language"],
            int(audience["priority"]),
            now,
            float(audience["since"]),
        ),
    )
