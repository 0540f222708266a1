"""Chats and their subscriptions: who is subscribed to what, who reads which languages, who left.

A chat is never deleted when it leaves: it becomes inactive, keeps its subscriptions (unless it
unsubscribed) and its delivery history, so a returning chat is recognised and nothing it was
already sent is sent again. Stopping a chat cancels what was queued for it in the same
transaction.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from collections.abc import Set as AbstractSet

from bot.store.db import Database, Row, Transaction
from bot.store.model import ALL, Chat, Joined, Status
from bot.store.queueing import queue_chats


class ChatQueries:
    """The store's queries about chats and subscriptions."""

    _db: Database
    _stopped: set[int]

    @property
    def stopped_chats(self) -> AbstractSet[int]:
        """Chats unsubscribed or deactivated in this run: a sender holding an older page of
        the queue checks this before sending, so a chat that just left gets nothing more.

        Changed only once the transaction that stopped or restarted the chat has committed, so
        it never disagrees with the database about a write that failed.
        """
        return self._stopped

    async def subscribe(
        self,
        chat_id: int,
        chat_type: str,
        title: str | None,
        categories: Iterable[str] = (ALL,),
        *,
        now: float | None = None,
    ) -> Joined:
        """Subscribe a chat, creating or reactivating it; its other subscriptions stay."""
        now = time.time() if now is None else now
        async with self._db.transaction() as tx:
            joined = await _activate(tx, chat_id, chat_type, title, now)
            await tx.executemany(
                "INSERT INTO subscriptions (chat_id, category) VALUES (?, ?) "
                "ON CONFLICT DO NOTHING",
                [(chat_id, category) for category in categories],
            )
        self._stopped.discard(chat_id)
        return joined

    async def unsubscribe_all(self, chat_id: int, *, now: float | None = None) -> bool:
        """Remove every subscription of a chat and stop its queued deliveries.

        Returns whether the chat had been active.
        """
        async with self._db.transaction() as tx:
            await tx.execute("DELETE FROM subscriptions WHERE chat_id = ?", (chat_id,))
            was_active = (
                await tx.execute(
                    "UPDATE chats SET active = 0, deactivated_at = ?, deactivated_reason = ? "
                    "WHERE id = ? AND active = 1",
                    (time.time() if now is None else now, "unsubscribed", chat_id),
                )
                > 0
            )
            await _cancel_pending(tx, chat_id, "unsubscribed")
        self._stopped.add(chat_id)
        return was_active

    async def deactivate(self, chat_id: int, reason: str) -> None:
        """Mark a chat that Telegram will not let us reach; its subscriptions are kept."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE chats SET active = 0, deactivated_at = ?, deactivated_reason = ? "
                "WHERE id = ?",
                (time.time(), reason, chat_id),
            )
            await _cancel_pending(tx, chat_id, reason)
        self._stopped.add(chat_id)

    async def migrate_chat(self, old_id: int, new_id: int) -> None:
        """Move a group that became a supergroup, with its subscriptions, choices and deliveries.

        If the new id is already known, the rows are merged; a post queued for both ids is kept
        once, under the new id.
        """
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO chats (id, type, title, active, subscribed_at) "
                "SELECT ?, 'supergroup', title, active, subscribed_at FROM chats WHERE id = ? "
                "ON CONFLICT DO NOTHING",
                (new_id, old_id),
            )
            await tx.execute(  # the later of the two ledger floors (`ledger`)
                "UPDATE chats SET compacted_through = (SELECT MAX(compacted_through) FROM chats "
                "WHERE id IN (?1, ?2)) WHERE id = ?1",
                (new_id, old_id),
            )
            await tx.execute(
                "INSERT INTO subscriptions (chat_id, category) "
                "SELECT ?, category FROM subscriptions WHERE chat_id = ? ON CONFLICT DO NOTHING",
                (new_id, old_id),
            )
            await tx.execute(  # its digest, quiet hours and filters (`choices`) go with it
                "INSERT INTO chat_choices (chat_id, mode, time_zone, quiet_from, quiet_to, "
                "breaking_in_quiet, muted, only_words, general, last_digest, texts_language) "
                "SELECT CAST(? AS BIGINT), mode, time_zone, quiet_from, quiet_to, "
                "breaking_in_quiet, muted, only_words, general, last_digest, texts_language "
                "FROM chat_choices "
                "WHERE chat_id = ? ON CONFLICT DO NOTHING",
                (new_id, old_id),
            )
            await tx.execute(
                "UPDATE deliveries SET chat_id = ?1 WHERE chat_id = ?2 AND NOT EXISTS ("
                "  SELECT 1 FROM deliveries AS other"
                "  WHERE other.chat_id = ?1 AND other.post_id = deliveries.post_id)",
                (new_id, old_id),
            )
            # A post being queued a chunk at a time whose cursor is past the new id but not yet
            # at the old one would reach the chat under neither (a supergroup's id is lower
            # than its group's): it is queued for the new id now.
            for post_id, audience, first_seen in await tx.rows(
                "SELECT id, audience, first_seen FROM posts "
                "WHERE queued_through IS NOT NULL AND queued_through >= ? AND queued_through < ?",
                (new_id, old_id),
            ):
                await queue_chats(
                    tx,
                    str(post_id),
                    json.loads(str(audience)),
                    float(first_seen),
                    after=new_id - 1,
                    through=new_id,
                    now=time.time(),
                )
            await tx.execute("DELETE FROM deliveries WHERE chat_id = ?", (old_id,))
            await tx.execute("DELETE FROM chats WHERE id = ?", (old_id,))

    async def chat(self, chat_id: int) -> Chat | None:
        """A chat with its subscribed categories."""
        row = await self._db.row(
            "SELECT id, type, title, active, languages FROM chats WHERE id = ?", (chat_id,)
        )
        if row is None:
            return None
        rows = await self._db.rows(
            "SELECT category FROM subscriptions WHERE chat_id = ?", (chat_id,)
        )
        return _chat(row, frozenset(str(r[0]) for r in rows))

    async def chats_of_type(self, chat_type: str) -> list[Chat]:
        """Every active chat of one type ("channel", say) with its categories, by title."""
        rows = await self._db.rows(
            "SELECT c.id, c.type, c.title, c.active, c.languages "
            "FROM chats AS c WHERE c.type = ? AND c.active = 1 ORDER BY c.title, c.id",
            (chat_type,),
        )
        categories: dict[int, set[str]] = {}
        for chat_id, category in await self._db.rows(
            "SELECT s.chat_id, s.category FROM subscriptions AS s JOIN chats AS c "
            "ON c.id = s.chat_id WHERE c.type = ? AND c.active = 1",
            (chat_type,),
        ):
            categories.setdefault(int(chat_id), set()).add(str(category))
        return [_chat(row, frozenset(categories.get(int(row[0]), ()))) for row in rows]

    async def set_subscriptions(
        self,
        chat_id: int,
        chat_type: str,
        title: str | None,
        categories: Iterable[str],
        *,
        now: float | None = None,
    ) -> Joined:
        """Make a chat's subscriptions exactly `categories`, creating or reactivating it.

        An empty set keeps the chat (and its languages) but cancels what was queued for it, so
        "none" means nothing more arrives; it does not bring back a chat that had stopped.
        """
        wanted = sorted(set(categories))
        now = time.time() if now is None else now
        if not wanted:
            return await self._subscribe_to_nothing(chat_id)
        async with self._db.transaction() as tx:
            joined = await _activate(tx, chat_id, chat_type, title, now)
            await tx.execute(
                "DELETE FROM subscriptions WHERE chat_id = ? "
                "AND category NOT IN (SELECT value FROM json_each(?))",
                (chat_id, json.dumps(wanted)),
            )
            await tx.execute(
                "INSERT INTO subscriptions (chat_id, category) "
                "SELECT ?, value FROM json_each(?) WHERE true ON CONFLICT DO NOTHING",
                (chat_id, json.dumps(wanted)),
            )
        self._stopped.discard(chat_id)
        return joined

    async def _subscribe_to_nothing(self, chat_id: int) -> Joined:
        """`set_subscriptions` with no category: an unknown chat is not even recorded."""
        async with self._db.transaction() as tx:
            row = await tx.row("SELECT active FROM chats WHERE id = ?", (chat_id,))
            if row is None:
                return Joined.NEW
            await tx.execute("DELETE FROM subscriptions WHERE chat_id = ?", (chat_id,))
            await _cancel_pending(tx, chat_id, "unsubscribed")
        self._stopped.add(chat_id)
        return Joined.ALREADY if row[0] else Joined.REACTIVATED

    async def set_languages(self, chat_id: int, languages: Iterable[str] | None) -> bool:
        """Choose the article languages a chat reads (None: all). False if the chat is unknown."""
        value = None if languages is None else json.dumps(sorted(set(languages)))
        async with self._db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE chats SET languages = ? WHERE id = ?", (value, chat_id)
            )
        return changed > 0


async def _activate(
    tx: Transaction, chat_id: int, chat_type: str, title: str | None, now: float
) -> Joined:
    """Create the chat, or make it active again (a returning chat's subscribed_at is now)."""
    row = await tx.row("SELECT active FROM chats WHERE id = ?", (chat_id,))
    if row is None:
        await tx.execute(
            "INSERT INTO chats (id, type, title, active, subscribed_at) VALUES (?, ?, ?, 1, ?)",
            (chat_id, chat_type, title, now),
        )
        return Joined.NEW
    await tx.execute(
        "UPDATE chats SET type = ?, title = ?, active = 1, "
        "subscribed_at = CASE WHEN active = 1 THEN subscribed_at ELSE ? END, "
        "deactivated_at = NULL, deactivated_reason = NULL WHERE id = ?",
        (chat_type, title, now, chat_id),
    )
    return Joined.ALREADY if row[0] else Joined.REACTIVATED


async def _cancel_pending(tx: Transaction, chat_id: int, reason: str) -> None:
    """Cancel what is queued for a chat that stopped (the caller marks it stopped on commit)."""
    await tx.execute(
        "UPDATE deliveries SET status = ?, last_error = ?, updated_at = ? "
        "WHERE chat_id = ? AND status = ?",
        (Status.CANCELLED, reason, time.time(), chat_id, Status.PENDING),
    )


def _chat(row: Row, categories: frozenset[str]) -> Chat:
    """A `Chat` from the columns id, type, title, active, languages."""
    languages = None if row[4] is None else frozenset(json.loads(str(row[4])))
    title = None if row[2] is None else str(row[2])
    return Chat(int(str(row[0])), str(row[1]), title, bool(row[3]), categories, languages)
