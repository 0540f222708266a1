"""Sending digests: the posts waiting for a chat on a digest, as one message, when it is due.

Guarantees, and where they come from:
- Nothing is lost across restarts: a digest chat's deliveries stay pending in the queue (the
  sender passes them by) until its digest is sent, and the marking of each post in it as sent
  to that chat, with the digest's message id, is one transaction with the chat's new
  `last_digest` (`Store.record_digest`). A post is in one digest only.
- Nothing is sent twice but what a hard kill catches between Telegram's answer and that
  transaction, as for any message in flight.
- A digest waits for its chat's turn of the pace and for the overall one, like every message.
  Telegram's refusals are read as the sender reads them: flood control holds the chat and the
  digest goes at a later check; a chat that is gone is made inactive; a refusal of the message
  itself cancels its posts for that chat with the reason (never a loop).
- Timing comes from `clock` (Unix seconds), which tests replace: `poke()` makes a check now,
  and `checks` counts the checks made, for a test to wait on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime

from telegram.error import TelegramError

from bot.delivery.cards import Cards
from bot.delivery.choices import plan
from bot.digests import digest_pieces, is_due
from bot.i18n import texts_for
from bot.pace import Pace
from bot.posts import Post, PostLibrary
from bot.quiet import silent, zone_of
from bot.store import ChatChoices, DigestEntry, Store
from bot.telegram_errors import Fault, classify

log = logging.getLogger(__name__)

#: How often digest chats are looked at (a slot is at a full minute at the earliest).
CHECK_SECONDS = 20.0


class Digests:
    """Sends each digest chat's waiting posts as one message when its time comes."""

    def __init__(
        self,
        store: Store,
        library: PostLibrary,
        cards: Cards,
        pace: Pace,
        *,
        wake: Callable[[], None],
    ) -> None:
        """`wake` tells the sender to look at the queue (a chat's posts went back to it)."""
        self._store = store
        self._library = library
        self._cards = cards
        self._pace = pace
        self._wake = wake
        self._poke = asyncio.Event()
        self.clock: Callable[[], float] = time.time
        """The time digests are due by (Unix seconds); tests put their own clock here."""
        self.checks = 0
        """Checks made in this run."""
        self.sent = 0
        """Digest messages Telegram accepted in this run."""

    def poke(self) -> None:
        """Check for due digests now."""
        self._poke.set()

    async def run(self, stopping: asyncio.Event) -> None:
        """Check every `CHECK_SECONDS`, or when poked, until `stopping` is set."""
        while not stopping.is_set():
            self._poke.clear()
            try:
                await self.check()
            except Exception:  # a database fault: the next check tries again
                log.exception("digest check failed")
            self.checks += 1
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CHECK_SECONDS):
                    stop = asyncio.ensure_future(stopping.wait())
                    poke = asyncio.ensure_future(self._poke.wait())
                    try:
                        await asyncio.wait({stop, poke}, return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        stop.cancel()
                        poke.cancel()

    async def check(self) -> int:
        """Send every digest that is due; returns how many chats got one."""
        now = self.clock()
        moment = datetime.fromtimestamp(now, UTC)
        done = 0
        for choices in await self._store.digest_chats():
            entries = await self._store.digest_entries(choices.chat_id)
            if not entries:
                continue
            zone = zone_of(choices, self._cards.zone)
            since = max(choices.last_digest or 0.0, min(e.created_at for e in entries))
            if not is_due(choices.mode, zone, moment, since=since):
                continue
            if self._pace.chat_wait(choices.chat_id) > 0:
                continue  # flood control holds the chat: a later check sends it
            done += await self._send(choices, entries, now)
        return done

    async def _send(self, choices: ChatChoices, entries: list[DigestEntry], now: float) -> int:
        """One chat's digest: its posts (filtered as the chat chose), in as few messages as
        Telegram's limit allows, then one transaction for all of it."""
        chat = choices.chat_id
        moment = datetime.fromtimestamp(now, UTC)
        posts: dict[str, tuple[int, Post]] = {}
        cancelled: list[tuple[int, str]] = []
        for entry in entries:
            post = self._library.get(entry.post_id)
            how = plan(choices, post, zone=self._cards.zone, urgent=False)
            if how.cancelled is not None or post is None:
                cancelled.append((entry.delivery_id, how.cancelled or "post withdrawn"))
            else:
                posts[post.id] = (entry.delivery_id, post)
        texts = texts_for(choices.texts_language)
        heading = texts("digest.heading", count=len(posts))
        pieces = digest_pieces(heading, [post for _, post in posts.values()])
        options = {"disable_notification": True} if self._quiet(choices, moment) else {}
        sent: list[tuple[int, int]] = []
        complete = True
        for piece in pieces:
            try:
                answer = await self._cards.say(chat, piece.text, extra=options)
            except TelegramError as exc:
                complete = await self._refused(chat, exc, piece.post_ids, posts, cancelled)
                break
            self.sent += 1
            sent.extend((posts[post_id][0], answer.message_id) for post_id in piece.post_ids)
        await self._store.record_digest(chat, sent, cancelled, at=now, complete=complete)
        log.info("digest sent chat=%s posts=%d complete=%s", chat, len(sent), complete)
        return 1

    def _quiet(self, choices: ChatChoices, moment: datetime) -> bool:
        return silent(choices, self._cards.zone, moment, urgent=False)

    async def _refused(
        self,
        chat: int,
        exc: TelegramError,
        post_ids: tuple[str, ...],
        posts: dict[str, tuple[int, Post]],
        cancelled: list[tuple[int, str]],
    ) -> bool:
        """Act on Telegram's refusal of a digest; returns whether the digest is over (its
        remaining posts cancelled) rather than to be tried again."""
        error = classify(exc)
        match error.fault:
            case Fault.RETRY_LATER:
                self._pace.refused(chat, error.retry_after)
            case Fault.CHAT_GONE:
                await self._store.deactivate(chat, error.reason)
            case Fault.CHAT_MOVED if error.new_chat_id is not None:
                await self._store.migrate_chat(chat, error.new_chat_id)
                self._wake()
            case _ if error.final:
                log.error("telegram refused a digest chat=%s error=%s", chat, exc)
                cancelled.extend((posts[p][0], f"digest refused: {error.reason}") for p in post_ids)
                return True
        log.warning("digest not sent chat=%s error=%s", chat, exc)
        return False
