"""Readers' choices per chat (digests, time zone, quiet hours, filters) and forum topic routes.

A chat that chose nothing has no row and every default, so the broadcast path pays nothing for
chats that never used these choices. A chat on a digest keeps its deliveries pending in the
queue until its digest is due (the sender skips them, `DeliveryQueries.queue`); the digest's
message and the marking of every post in it as sent to that chat are one transaction
(`record_digest`), so across restarts a digest loses nothing and repeats nothing that was
recorded. Choices and routes go with the chat: deleting a chat deletes them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence

from bot.store.db import Database, Row
from bot.store.model import URGENT, ChatChoices, DigestEntry, Status

#: The columns a caller may set, and how each is written.
_COLUMNS = frozenset(
    {
        "mode",
        "time_zone",
        "quiet_from",
        "quiet_to",
        "breaking_in_quiet",
        "muted",
        "only_words",
        "general",
        "last_digest",
        "texts_language",
    }
)


class ChoiceQueries:
    """The store's queries about what each chat chose, and its digests."""

    _db: Database

    async def choices(self, chat_id: int) -> ChatChoices:
        """What a chat chose (every default when it chose nothing)."""
        return (await self.choices_of([chat_id])).get(chat_id, ChatChoices(chat_id))

    async def choices_of(self, chat_ids: Iterable[int]) -> dict[int, ChatChoices]:
        """The choices of those chats that chose anything (others take the defaults): one
        query for a whole page of the queue."""
        ids = json.dumps(sorted(set(chat_ids)))
        rows = await self._db.rows(
            "SELECT chat_id, mode, time_zone, quiet_from, quiet_to, breaking_in_quiet, muted, "
            "only_words, general, last_digest, texts_language FROM chat_choices "
            "WHERE chat_id IN (SELECT CAST(value AS BIGINT) FROM json_each(?))",
            (ids,),
        )
        routes: dict[int, dict[str, int]] = {}
        for chat, category, thread in await self._db.rows(
            "SELECT chat_id, category, thread_id FROM topic_routes "
            "WHERE chat_id IN (SELECT CAST(value AS BIGINT) FROM json_each(?))",
            (ids,),
        ):
            routes.setdefault(int(chat), {})[str(category)] = int(thread)
        found = {int(row[0]): _choices(row, routes.get(int(row[0]), {})) for row in rows}
        for chat, routed in routes.items():
            if chat not in found:
                found[chat] = ChatChoices(chat, routes=routed)
        return found

    async def set_choices(self, chat_id: int, changes: Mapping[str, object]) -> bool:
        """Write some of a chat's choices; False when the chat is not known (never
        subscribed), which has nothing to apply them to."""
        unknown = set(changes) - _COLUMNS
        if unknown:
            raise ValueError(f"no such choice: {sorted(unknown)}")
        names = sorted(changes)
        values = [_stored(changes[name]) for name in names]
        async with self._db.transaction() as tx:
            if await tx.row("SELECT 1 FROM chats WHERE id = ?", (chat_id,)) is None:
                return False
            await tx.execute(
                "INSERT INTO chat_choices (chat_id) VALUES (?) ON CONFLICT (chat_id) DO NOTHING",
                (chat_id,),
            )
            if names:
                assignments = ", ".join(f"{name} = ?" for name in names)
                await tx.execute(
                    f"UPDATE chat_choices SET {assignments} WHERE chat_id = ?",  # noqa: S608 - names are checked above
                    (*values, chat_id),
                )
        return True

    # --- forum topics -----------------------------------------------------------------------

    async def route(self, chat_id: int, categories: Iterable[str], thread_id: int) -> None:
        """Send these categories of a forum to one topic from now on."""
        async with self._db.transaction() as tx:
            await tx.executemany(
                "INSERT INTO topic_routes (chat_id, category, thread_id) VALUES (?, ?, ?) "
                "ON CONFLICT (chat_id, category) DO UPDATE SET thread_id = excluded.thread_id",
                [(chat_id, category, thread_id) for category in categories],
            )

    async def drop_topic(self, chat_id: int, thread_id: int) -> list[str]:
        """A topic is closed or deleted: its categories go to General from now on. Returns
        the categories it had; an empty list when another delivery already dropped it."""
        async with self._db.transaction() as tx:
            rows = await tx.rows(
                "SELECT category FROM topic_routes WHERE chat_id = ? AND thread_id = ?",
                (chat_id, thread_id),
            )
            # Routed to General (0) rather than forgotten: they reach the group even when
            # the admins send unrouted categories nowhere.
            await tx.execute(
                "UPDATE topic_routes SET thread_id = 0 WHERE chat_id = ? AND thread_id = ?",
                (chat_id, thread_id),
            )
        return sorted(str(row[0]) for row in rows)

    # --- digests ----------------------------------------------------------------------------

    async def digest_chats(self) -> list[ChatChoices]:
        """Active chats on a digest that have posts waiting for it."""
        rows = await self._db.rows(
            "SELECT chat_id, mode, time_zone, quiet_from, quiet_to, breaking_in_quiet, muted, "
            "only_words, general, last_digest, texts_language FROM chat_choices AS k "
            "WHERE k.mode <> 'instant' AND EXISTS ("
            " SELECT 1 FROM chats AS c WHERE c.id = k.chat_id AND c.active = 1)"
            " AND EXISTS (SELECT 1 FROM deliveries AS d WHERE d.chat_id = k.chat_id"
            " AND d.status = 'pending' AND d.priority < ?)",
            (URGENT,),
        )
        return [_choices(row, {}) for row in rows]

    async def digest_entries(self, chat_id: int) -> list[DigestEntry]:
        """The deliveries a chat's digest will carry, oldest first."""
        rows = await self._db.rows(
            "SELECT id, post_id, created_at FROM deliveries "
            "WHERE chat_id = ? AND status = 'pending' AND priority < ? ORDER BY id",
            (chat_id, URGENT),
        )
        return [DigestEntry(int(r[0]), str(r[1]), float(r[2])) for r in rows]

    async def record_digest(
        self,
        chat_id: int,
        sent: Sequence[tuple[int, int]],
        cancelled: Sequence[tuple[int, str]],
        *,
        at: float | None = None,
        complete: bool = True,
    ) -> None:
        """A digest went out: its deliveries, (delivery, message id), are sent, the ones left
        out, (delivery, why), cancelled, and, when `complete`, the chat's last digest is `at`;
        one transaction. (A digest cut short by an error keeps the rest for the next try.)"""
        at = time.time() if at is None else at
        now = time.time()
        async with self._db.transaction() as tx:
            await tx.executemany(
                "UPDATE deliveries SET status = ?, message_id = ?, sent_at = ?, "
                "sent_as = 'digest', updated_at = ?, attempts = attempts + 1 "
                "WHERE id = ? AND status = 'pending'",
                [(Status.SENT, message, now, now, delivery) for delivery, message in sent],
            )
            await tx.executemany(
                "UPDATE deliveries SET status = ?, last_error = ?, updated_at = ? "
                "WHERE id = ? AND status = 'pending'",
                [(Status.CANCELLED, why, now, delivery) for delivery, why in cancelled],
            )
            if complete:
                await tx.execute(
                    "UPDATE chat_choices SET last_digest = ? WHERE chat_id = ?", (at, chat_id)
                )


def _stored(value: object) -> object:
    """A choice as its column holds it: lists as JSON, flags as 0/1."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, list | tuple):
        return json.dumps(list(value), ensure_ascii=False)
    return value


def _choices(row: Row, routes: Mapping[str, int]) -> ChatChoices:
    quiet = (str(row[3]), str(row[4])) if row[3] and row[4] else None
    return ChatChoices(
        chat_id=int(row[0]),
        mode=str(row[1]),
        time_zone=str(row[2]) if row[2] else None,
        quiet=quiet,
        breaking_in_quiet=bool(row[5]),
        muted=tuple(json.loads(str(row[6]))) if row[6] else (),
        only=tuple(json.loads(str(row[7]))) if row[7] else (),
        general=bool(row[8]),
        last_digest=float(row[9]) if row[9] is not None else None,
        texts_language=str(row[10]) if row[10] else None,
        routes=dict(routes),
    )
