"""Corrections and retractions of messages already delivered, as revisions on their deliveries.

A delivery that was sent keeps its message id, when it was sent and how (photo or text); a
revision (`update`, `delete` or `retract`) is then asked of it and worked off like the queue:
due in order, retried later when Telegram says so, cleared when done. A message can only be
deleted within Telegram's 48 hours; an older one is edited to say the story was retracted.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

from bot.store.db import Database
from bot.store.model import Revision, RevisionOutcome, SentMessage, Status


class RevisionQueries:
    """The store's queries about revisions of delivered messages."""

    _db: Database

    async def request_updates(self, post_id: str, *, sent_since: float) -> int:
        """Ask for the post's messages sent since `sent_since` to be edited to its new card.

        A message already waiting to be deleted or marked retracted keeps that revision.
        Returns how many messages will be edited.
        """
        async with self._db.transaction() as tx:
            return await tx.execute(
                "UPDATE deliveries SET revision = ?, revision_attempts = 0, "
                "revision_not_before = 0 WHERE post_id = ? AND status = 'sent' "
                "AND message_id IS NOT NULL AND sent_at >= ? "
                # A digest's message holds many posts: a correction of one leaves it alone.
                "AND (sent_as IS NULL OR sent_as <> 'digest') "
                "AND (revision IS NULL OR revision = ?)",
                (Revision.UPDATE, post_id, sent_since, Revision.UPDATE),
            )

    async def request_retraction(self, post_id: str, *, delete_since: float) -> int:
        """Withdraw a post: nothing more is sent, and every delivered message is revised.

        Messages sent since `delete_since` (Telegram lets a bot delete for 48 hours) are
        deleted; older ones are edited to say the story was retracted. Returns messages
        to revise.
        """
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE deliveries SET status = ?, last_error = 'retracted', updated_at = ? "
                "WHERE post_id = ? AND status = 'pending'",
                (Status.CANCELLED, time.time(), post_id),
            )
            return await tx.execute(
                "UPDATE deliveries SET revision = CASE WHEN sent_at >= ? THEN ? ELSE ? END, "
                "revision_attempts = 0, revision_not_before = 0 "
                "WHERE post_id = ? AND status = 'sent' AND message_id IS NOT NULL "
                "AND (sent_as IS NULL OR sent_as <> 'digest')",
                (delete_since, Revision.DELETE, Revision.RETRACT, post_id),
            )

    async def due_revisions(self, now: float, *, limit: int = 200) -> list[SentMessage]:
        """Delivered messages waiting for a correction or retraction, oldest request first."""
        rows = await self._db.rows(
            "SELECT d.id, d.post_id, d.chat_id, c.type, d.message_id, d.sent_as, "
            "d.sent_image, d.revision, d.revision_attempts, d.copies "
            "FROM deliveries AS d JOIN chats AS c ON c.id = d.chat_id "
            "WHERE d.revision IS NOT NULL AND d.revision_not_before <= ? AND c.active = 1 "
            "ORDER BY d.revision_not_before, d.id LIMIT ?",
            (now, limit),
        )
        return [
            SentMessage(
                delivery_id=int(r[0]),
                post_id=str(r[1]),
                chat_id=int(r[2]),
                chat_type=str(r[3]),
                message_id=int(r[4]),
                sent_as=str(r[5] or "text"),
                sent_image=None if r[6] is None else str(r[6]),
                revision=Revision(str(r[7])),
                attempts=int(r[8]),
                copies=tuple(int(m) for m in json.loads(str(r[9]))) if r[9] else (),
            )
            for r in rows
        ]

    async def record_revisions(self, outcomes: Sequence[RevisionOutcome]) -> None:
        """Write the results of revision attempts in one transaction."""
        if not outcomes:
            return
        async with self._db.transaction() as tx:
            await tx.executemany(
                "UPDATE deliveries SET "
                "revision = CASE WHEN ? THEN NULL ELSE revision END, "
                "status = CASE WHEN ? THEN ? ELSE status END, "
                "last_error = COALESCE(?, last_error), "
                "sent_image = COALESCE(?, sent_image), "
                "revision_attempts = revision_attempts + 1, revision_not_before = ?, "
                "updated_at = ? WHERE id = ?",
                [
                    (
                        o.done,
                        o.deleted,
                        Status.DELETED,
                        o.error,
                        o.image,
                        o.not_before,
                        time.time(),
                        o.delivery_id,
                    )
                    for o in outcomes
                ],
            )
