"""The delivery queue as the sender reads it, and the outcome of each attempt.

Every row of `deliveries` is one post for one chat (queued by `queueing`), unique per pair, so
no chat can be queued the same post twice however often a post is found. A delivery stays
`pending` until Telegram has accepted the message; that is what makes the queue survive crashes
and restarts.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

from bot.store.db import Database, Transaction
from bot.store.model import URGENT, Delivery, Outcome, Status


class DeliveryQueries:
    """The store's queries about the queue the sender reads, and what became of each delivery."""

    _db: Database

    # --- the sender's side: what is due, and what became of it ------------------------------

    async def due(
        self, now: float, *, after: tuple[int, int] | None = None, limit: int = 500
    ) -> list[Delivery]:
        """Pending deliveries whose time has come, highest priority first, then oldest.

        `after` is the (priority, id) of the last row of the previous page, so the sender can
        page past deliveries it must hold back without reading them again.
        """
        priority, last_id = after if after is not None else (1 << 62, 0)
        rows = await self._db.rows(
            "SELECT d.id, d.post_id, d.chat_id, c.type, d.priority, d.attempts, d.created_at "
            "FROM deliveries AS d JOIN chats AS c ON c.id = d.chat_id "
            "WHERE d.status = 'pending' AND d.not_before <= ? "
            # A chat on a digest gets these in its digest (`bot.store.choices`); only urgent
            # ones (breaking news: priority `URGENT`) go at once.
            "AND (d.priority >= ? OR NOT EXISTS (SELECT 1 FROM chat_choices AS k "
            "WHERE k.chat_id = d.chat_id AND k.mode <> 'instant')) "
            "AND (d.priority < ? OR (d.priority = ? AND d.id > ?)) "
            "ORDER BY d.priority DESC, d.id LIMIT ?",
            (now, URGENT, priority, priority, last_id, limit),
        )
        return [
            Delivery(int(r[0]), str(r[1]), int(r[2]), str(r[3]), int(r[4]), int(r[5]), float(r[6]))
            for r in rows
        ]

    async def queue(
        self, *, after: tuple[int, int] | None = None, limit: int = 200
    ) -> list[Delivery]:
        """Pending deliveries in the order they go, those still waiting (`not_before` in the
        future) included: a waiting delivery keeps the later ones of its chat behind it.

        Highest priority first, then oldest; `after` is the (priority, id) of the last row of
        the previous page.
        """
        priority, last_id = after if after is not None else (1 << 62, 0)
        rows = await self._db.rows(
            "SELECT d.id, d.post_id, d.chat_id, c.type, d.priority, d.attempts, d.created_at, "
            "d.not_before FROM deliveries AS d JOIN chats AS c ON c.id = d.chat_id "
            "WHERE d.status = 'pending' "
            # A chat on a digest gets these in its digest (`bot.store.choices`), not one by
            # one; only urgent ones (breaking news: priority `URGENT`) go at once.
            "AND (d.priority >= ? OR NOT EXISTS (SELECT 1 FROM chat_choices AS k "
            "WHERE k.chat_id = d.chat_id AND k.mode <> 'instant')) "
            "AND (d.priority < ? OR (d.priority = ? AND d.id > ?)) "
            "ORDER BY d.priority DESC, d.id LIMIT ?",
            (URGENT, priority, priority, last_id, limit),
        )
        return [
            Delivery(
                int(r[0]),
                str(r[1]),
                int(r[2]),
                str(r[3]),
                int(r[4]),
                int(r[5]),
                float(r[6]),
                float(r[7]),
            )
            for r in rows
        ]

    async def next_due_time(self) -> float | None:
        """When the earliest held-back (retrying) pending delivery becomes due, if any."""
        value = await self._db.scalar(
            "SELECT MIN(not_before) FROM deliveries "
            "WHERE status = 'pending' AND not_before > 0 AND not_before > ?",
            (time.time(),),
        )
        return None if value is None else float(str(value))

    async def waiting_chats(self, now: float) -> dict[int, float]:
        """Chats with a delivery that may not go before a later time, and that time: a
        restart keeps them waiting as long as Telegram asked."""
        rows = await self._db.rows(
            "SELECT chat_id, MAX(not_before) FROM deliveries "
            "WHERE status = 'pending' AND not_before > 0 AND not_before > ? GROUP BY chat_id",
            (now,),
        )
        return {int(r[0]): float(r[1]) for r in rows}

    async def record(self, outcomes: Sequence[Outcome], *, now: float | None = None) -> None:
        """Write the results of many attempts in one transaction."""
        if not outcomes:
            return
        now = time.time() if now is None else now
        async with self._db.transaction() as tx:
            await tx.executemany(
                # A message Telegram accepted is recorded even if the delivery was cancelled
                # while it was in flight; if a retraction cancelled it, it is deleted next.
                "UPDATE deliveries SET "
                "revision = CASE WHEN ?1 = 'sent' AND status = 'cancelled' "
                "AND last_error = 'retracted' THEN 'delete' ELSE revision END, "
                "status = ?1, message_id = COALESCE(?2, message_id), "
                "last_error = ?3, not_before = ?4, attempts = attempts + ?5, updated_at = ?6, "
                "sent_at = CASE WHEN ?1 = 'sent' THEN ?6 ELSE sent_at END, "
                "sent_as = COALESCE(?7, sent_as), sent_image = COALESCE(?8, sent_image) "
                "WHERE id = ?9 AND (status = 'pending' OR ?1 = 'sent')",
                [
                    (
                        o.status,
                        o.message_id,
                        o.error,
                        o.not_before,
                        int(o.counts_as_attempt),
                        now,
                        o.sent_as,
                        o.sent_image,
                        o.delivery_id,
                    )
                    for o in outcomes
                ],
            )

    async def record_copies(self, copies: Sequence[tuple[int, int]]) -> None:
        """Keep further message ids of deliveries, (delivery, message) pairs: a request that
        timed out was carried out after all, so the chat has one more copy to revise."""
        if not copies:
            return
        async with self._db.transaction() as tx:
            for delivery_id, message_id in copies:
                row = await tx.row("SELECT copies FROM deliveries WHERE id = ?", (delivery_id,))
                if row is None:
                    continue
                kept = [*json.loads(str(row[0] or "[]")), message_id]
                await tx.execute(
                    "UPDATE deliveries SET copies = ? WHERE id = ?", (json.dumps(kept), delivery_id)
                )


async def stop_pending(
    tx: Transaction, post_id: str, *, first: int, last: int, reason: str, now: float
) -> int:
    """Cancel the post's deliveries queued from id `first` to `last` that are still pending.

    The sender only takes pending deliveries, so none of these is sent from now on; what was
    sent stays sent, and a message already on its way when this commits is recorded as sent
    when Telegram accepts it (`DeliveryQueries.record`). Returns deliveries stopped.
    """
    return await tx.execute(
        "UPDATE deliveries SET status = ?, last_error = ?, updated_at = ? "
        "WHERE post_id = ? AND id >= ? AND id <= ? AND status = ?",
        (Status.CANCELLED, reason, now, post_id, first, last, Status.PENDING),
    )
