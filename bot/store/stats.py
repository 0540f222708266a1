"""Figures for editors (/stats) and for the metrics: counts only, never a change."""

from __future__ import annotations

from bot.store.db import Database
from bot.store.model import Stats


class StatsQueries:
    """The store's read-only figures about chats, posts and deliveries."""

    _db: Database

    async def stats(self, *, since: float) -> Stats:
        """Subscribers, posts and deliveries at a glance, with deliveries since `since`."""
        chats: dict[str, tuple[int, int]] = {}
        for kind, active, count in await self._db.rows(
            "SELECT type, active, COUNT(*) FROM chats GROUP BY type, active"
        ):
            current = chats.get(str(kind), (0, 0))
            n = int(str(count))
            chats[str(kind)] = (current[0] + n, current[1]) if active else (current[0], n)
        subscribers = {
            str(category): int(str(count))
            for category, count in await self._db.rows(
                "SELECT s.category, COUNT(*) FROM subscriptions AS s "
                "JOIN chats AS c ON c.id = s.chat_id WHERE c.active = 1 "
                "GROUP BY s.category ORDER BY COUNT(*) DESC"
            )
        }
        deliveries = {
            str(status): int(str(count))
            for status, count in await self._db.rows(
                "SELECT status, COUNT(*) FROM deliveries WHERE created_at >= ? GROUP BY status",
                (since,),
            )
        }
        errors = [
            (str(post), int(str(chat)), str(error))
            for post, chat, error in await self._db.rows(
                "SELECT post_id, chat_id, last_error FROM deliveries "
                "WHERE status = 'failed' ORDER BY updated_at DESC LIMIT 5"
            )
        ]
        return Stats(
            chats=chats,
            subscribers=subscribers,
            posts_seen=int(str(await self._db.scalar("SELECT COUNT(*) FROM posts") or 0)),
            deliveries=deliveries,
            queue_depth=await self.queue_depth(),
            last_errors=errors,
        )

    async def delivery_counts(self, post_id: str | None = None) -> dict[str, int]:
        """How many deliveries are in each status, overall or for one post."""
        sql = "SELECT status, COUNT(*) FROM deliveries"
        params: tuple[str, ...] = ()
        if post_id is not None:
            sql += " WHERE post_id = ?"
            params = (post_id,)
        rows = await self._db.rows(sql + " GROUP BY status", params)
        return {str(row[0]): int(row[1]) for row in rows}

    async def active_chats(self) -> int:
        """How many chats are subscribed and reachable."""
        value = await self._db.scalar("SELECT COUNT(*) FROM chats WHERE active = 1")
        return int(str(value or 0))

    async def queue_depth(self) -> int:
        """How many deliveries are pending; reads only the queue's index, not every delivery."""
        value = await self._db.scalar("SELECT COUNT(*) FROM deliveries WHERE status = 'pending'")
        return int(str(value or 0))
