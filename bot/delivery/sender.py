"""The sender: takes due deliveries from the queue and gets each one to its chat.

Guarantees, and where they come from:
- A delivery is marked sent only after Telegram accepted the message; until then it stays
  pending in the database. A restart therefore resumes exactly where the last run stopped.
- A graceful stop waits for messages in flight and records them, so it loses and repeats nothing.
  After a hard kill, only the messages in flight at that instant (at most `concurrency`) can be
  sent a second time.
- A timeout is treated as "not delivered" and retried: a rare duplicate is better than a reader
  missing the news.
- Flood control (`RetryAfter`) keeps the message and holds that chat alone, for as long as
  Telegram asked; the wait is written with the delivery, so it holds over a restart. Server and
  network errors retry with exponential backoff and jitter, then give up with the reason
  recorded.
- A waiting delivery goes when its time comes, whatever else is queued (a timer wakes the loop,
  and the next pass starts at the top of the queue), and it keeps its chat's later deliveries
  behind it: each chat gets its posts in queue order (a higher priority jumps ahead, on purpose).
- A timed-out send whose answer arrives late leaves its message id with the delivery
  (`bot.transport`), so revisions reach every copy a reader has.
- A blocked bot or a vanished chat deactivates the chat (its settings are kept); a group that
  became a supergroup is moved to its new id and sent there.
- Only the active one of several instances sends (`bot.role`): each call asks `may_send`; a
  sender deposed by another instance (`Deposed`) stops at once and leaves what is in flight to
  it, so duplicates are bounded by what was in flight, as after a kill -9.

This module is the loop: which delivery or revision goes next, and its turn of the pace. What
one attempt does and what Telegram's answer makes of it is `attempts.py`; what a post becomes
for one chat (its card, its image) is `cards.py`; writing the outcomes down is `outcomes.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable, Coroutine
from functools import partial
from typing import Any

from telegram import Bot

from bot.calls import Sent
from bot.corrections import Corrections
from bot.delivery.attempts import Attempts, RetryPolicy
from bot.delivery.cards import Cards, CardStyle
from bot.delivery.choices import plan
from bot.delivery.digests import Digests
from bot.delivery.outcomes import Key, OutcomeWriter
from bot.delivery.turns import Turns
from bot.images import ImageCache
from bot.metrics import Metrics
from bot.pace import FREE_RATE, Pace
from bot.posts import Post, PostLibrary
from bot.store import URGENT, Delivery, Outcome, Status, Store
from bot.transport import AiohttpRequest

log = logging.getLogger(__name__)

#: The least time between two passes begun for a waiting delivery's sake.
REPASS_AFTER = 0.05


class Sender:
    """Sends due deliveries at Telegram's pace, until stopped."""

    def __init__(
        self,
        bot: Bot,
        store: Store,
        library: PostLibrary,
        images: ImageCache,
        *,
        pace: Pace,
        style: CardStyle | None = None,
        retry: RetryPolicy | None = None,
        concurrency: int = 8,
        paid_broadcast: bool = False,
        on_sent: Callable[[Delivery], Awaitable[None]] | None = None,
        metrics: Metrics | None = None,
        may_send: Callable[[], bool] = lambda: True,
    ) -> None:
        """`paid_broadcast` marks broadcast messages `allow_paid_broadcast`, which a rate above
        Telegram's free 30 a second needs (Telegram bills them in Stars). Edits and deletions
        cannot be paid for, so they then also keep to the free rate. `may_send`: whether this
        instance is still the active one."""
        self._bot = bot
        self._may_send = may_send
        self._deposed = False
        self._store = store
        self._library = library
        self._pace = pace
        self._slots = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._turns = Turns(
            bot,
            pace,
            stopping=self._stopping,
            free_pace=Pace(FREE_RATE) if paid_broadcast else None,
            may_send=may_send,
        )
        self._in_flight: dict[Key, asyncio.Task[None]] = {}
        self._busy_chats: set[int] = set()
        self._wake_timer: asyncio.TimerHandle | None = None
        self._wake_due: float | None = None
        self._outcomes = OutcomeWriter(
            store, in_flight=lambda: bool(self._in_flight), deposed=self._on_deposed
        )
        self._writer: asyncio.Task[None] | None = None
        self._cards = Cards(
            bot,
            images,
            turn=self._turns.for_call,
            style=style,
            paid_broadcast=paid_broadcast,
            on_ready=self.wake,
        )
        self.digests = Digests(store, library, self._cards, pace, wake=self.wake)
        """Chats on a digest: their posts gathered into one message when it is due."""
        # A download for an upload runs on its own; when it is over, its chats may go.
        images.on_ready = lambda _url: self.wake()
        self._attempts = Attempts(
            cards=self._cards,
            corrections=Corrections(bot, images, turn=self._turns.for_unpaid),
            library=library,
            store=store,
            pace=pace,
            outcomes=self._outcomes,
            retry=retry or RetryPolicy(),
            metrics=metrics or Metrics(),
            moved=self.wake,
            retry_in=self._retry_in,
            on_sent=on_sent,
        )
        # A send that timed out may have been carried out: its late answer is kept.
        if isinstance(bot.request, AiohttpRequest):
            bot.request.late_answer = self._attempts.late_answer

    @property
    def sent(self) -> int:
        """Deliveries Telegram accepted in this run."""
        return self._attempts.sent

    @property
    def failed(self) -> int:
        """Deliveries given up in this run."""
        return self._attempts.failed

    @property
    def pending_outcomes(self) -> int:
        """Outcomes noted but not yet committed to the database."""
        return self._outcomes.pending

    async def send_post(
        self, chat_id: int, post: Post, *, bot: Bot | None = None, topic: int | None = None
    ) -> Sent:
        """Send a post's card now, with its image when at all possible, else as text, in a
        forum's `topic` if given.

        Broadcasts use the sender's own bot; replies to commands pass the application's bot so
        they do not wait behind a broadcast. Telegram errors are left to the caller.
        """
        extra = {"message_thread_id": topic} if topic is not None else None
        return await self._cards.send(chat_id, post, bot=bot, extra=extra)

    async def reply_turn(self) -> None:
        """Wait for a turn of the overall pace before a reply's message (a card for `/latest`):
        Telegram counts replies and broadcasts against one limit for the bot."""
        await self._turns.for_reply()

    # --- lifecycle ----------------------------------------------------------------------------

    def wake(self) -> None:
        """New deliveries were queued: look at the queue now."""
        self._wake.set()

    async def run(self) -> None:
        """Send until `stop()`; the outcome writer runs alongside."""
        writer = asyncio.create_task(self._outcomes.run(), name="newsbot-outcomes")
        self._writer = writer
        digests = asyncio.create_task(self.digests.run(self._stopping), name="newsbot-digests")
        try:
            await self._resume_waits()
            while not self._stopping.is_set():
                self._wake.clear()
                revised, soonest = await self._revision_pass()
                started, later = await self._pass()
                if not (revised or started):
                    await self._idle(min((t for t in (soonest, later) if t), default=None))
        finally:
            if self._wake_timer is not None:
                self._wake_timer.cancel()
            await self._drain()
            await asyncio.gather(digests, return_exceptions=True)  # it ends when stopping
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)
            await self._outcomes.flush()

    def trouble(self) -> str | None:
        """Why the sender cannot be trusted right now, for `/healthz`; None when it can.

        Messages go out only while their outcomes are written down: a writer that died, or a
        database that has refused outcomes for a while, means a restart would send them again.
        """
        writer = self._writer
        if writer is not None and writer.done() and not self._stopping.is_set():
            return "the outcome writer has stopped"
        return self._outcomes.trouble()

    async def stop(self) -> None:
        """Stop taking deliveries; `run()` then finishes what is in flight and returns."""
        self._stopping.set()
        self._wake.set()

    def resume(self) -> None:
        """Be ready to `run()` again (active again) once the previous `run()` has returned."""
        self._stopping.clear()
        self._deposed = False

    def _on_deposed(self) -> None:
        """Another instance took over: stop at once, leaving what is in flight to it."""
        if not self._deposed:
            log.warning("sender stopping: deposed in_flight=%d", len(self._in_flight))
        self._deposed = True
        self._stopping.set()
        self._wake.set()

    async def _resume_waits(self) -> None:
        """Keep waiting the chats Telegram asked to wait before a restart (their deliveries
        carry the time), so that nothing, not even a correction, reaches them early."""
        now = time.time()
        for chat, until in (await self._store.waiting_chats(now)).items():
            self._pace.hold_chat(chat, until - now)

    async def _idle(self, soonest: float | None) -> None:
        timeout = 1.0 if soonest is None else min(max(soonest - time.monotonic(), 0.01), 1.0)
        next_due = await self._store.next_due_time()
        if next_due is not None:
            timeout = min(timeout, max(next_due - time.time(), 0.01))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout)

    async def _drain(self, grace: float = 8.0) -> None:
        """Let messages in flight finish; what cannot finish in time stays pending."""
        tasks = list(self._in_flight.values())
        if not tasks:
            return
        if self._deposed:
            grace = 0.0  # nothing they learn could be recorded any more
        _, late = await asyncio.wait(tasks, timeout=grace)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)

    # --- the queue ----------------------------------------------------------------------------

    async def _pass(self) -> tuple[int, float | None]:
        """Go once through the queue, starting the deliveries whose chat may receive now.

        Each chat gets its deliveries in queue order: one that must wait (for its chat's pace,
        for Telegram's `retry_after`, for its backoff, or in flight) keeps every later one of
        its chat waiting behind it in this pass. When a waiting delivery's time comes, or new
        work is queued, the pass ends early and the next begins at the top of the queue, so a
        retry goes when it is due, not when a long pass comes round again.

        Returns how many were started and, if some were held back, the monotonic time the
        first of them may go.
        """
        started = 0
        soonest: float | None = None
        cursor: tuple[int, int] | None = None
        waiting: set[int] = set()  # chats with an earlier delivery that did not go
        while not self._stopping.is_set():
            # Taken before the page is read: a row in flight now may be answered and recorded
            # while this page is worked through, and must not be started a second time.
            busy = set(self._in_flight) | self._outcomes.unrecorded
            page = await self._store.queue(after=cursor, limit=200)
            if not page:
                break
            cursor = (page[-1].priority, page[-1].id)
            now = time.time()
            chosen = await self._store.choices_of(d.chat_id for d in page)
            for delivery in page:
                chat = delivery.chat_id
                key = ("delivery", delivery.id)
                if key in busy or key in self._outcomes.unrecorded:
                    waiting.add(chat)
                    continue
                if chat in self._store.stopped_chats:
                    self._outcomes.note(
                        Outcome(delivery.id, Status.CANCELLED, error="chat stopped")
                    )
                    continue
                if delivery.not_before > now:
                    waiting.add(chat)
                    soonest = _earliest(soonest, delivery.not_before - now)
                    continue
                if chat in waiting:
                    continue
                if self._wake.is_set() and started:
                    break  # new work, or a retry's time came: look at the queue again
                # Withdrawn after this page was read, or kept out by the chat's choices (word
                # filters, a forum's topics): no turn, no message, and handled for good.
                post = self._library.get(delivery.post_id)
                urgent = delivery.priority >= URGENT
                how = plan(chosen.get(chat), post, zone=self._cards.zone, urgent=urgent)
                if how.cancelled is not None or post is None:
                    self._outcomes.note(Outcome(delivery.id, Status.CANCELLED, error=how.cancelled))
                    continue
                work = partial(self._attempts.deliver, delivery, how.options)
                wait = await self._offer(key, chat, delivery.chat_type, work, post=post)
                if wait < 0:
                    break
                if wait > 0:
                    waiting.add(chat)
                started += wait == 0
                soonest = _earliest(soonest, wait)
            if self._wake.is_set() and started:
                break  # something new (perhaps more urgent) arrived: begin again at the top
        if soonest is not None:
            self._wake_at(soonest)
        return started, soonest

    def _wake_at(self, due: float) -> None:
        """Look at the queue again at monotonic time `due` (or a moment later), when a waiting
        delivery may go: a pass under way then ends and the next starts at the top."""
        due = max(due, time.monotonic() + REPASS_AFTER)
        if self._wake_due is not None and self._wake_due <= due:
            return
        if self._wake_timer is not None:
            self._wake_timer.cancel()
        self._wake_due = due
        self._wake_timer = asyncio.get_running_loop().call_later(
            due - time.monotonic(), self._timer_woke
        )

    def _timer_woke(self) -> None:
        self._wake_due = None
        self._wake_timer = None
        self._wake.set()

    def _retry_in(self, seconds: float) -> None:
        """A delivery was put back to wait `seconds`: be there when its time comes."""
        self._wake_at(time.monotonic() + seconds)

    async def _revision_pass(self) -> tuple[int, float | None]:
        """Start the corrections and retractions that are due, before any new message.

        A correction is news about news readers already have, so it goes first; it counts
        against the same limits as a message.
        """
        started = 0
        soonest: float | None = None
        busy = set(self._in_flight) | self._outcomes.unrecorded
        for copy in await self._store.due_revisions(time.time()):
            key = ("revision", copy.delivery_id)
            if key in busy or key in self._outcomes.unrecorded:
                continue
            wait = await self._offer(
                key, copy.chat_id, copy.chat_type, partial(self._attempts.revise, copy)
            )
            if wait < 0:
                break
            started += wait == 0
            soonest = _earliest(soonest, wait)
        return started, soonest

    async def _offer(
        self,
        key: Key,
        chat_id: int,
        chat_type: str,
        work: Callable[[], Coroutine[Any, Any, None]],
        *,
        post: Post | None = None,
    ) -> float:
        """Start `work` when its chat may receive now and a slot is free; it waits its turn.

        A delivery's `post` may have an image another chat is trying for all (`claim_image`):
        then it waits for that, and the sender is woken when it is over.

        Returns 0 when started, -1 when stopping, else seconds until the chat may receive
        (infinite when waiting for an image).
        """
        if self._stopping.is_set() or not self._may_send():
            return -1
        if key in self._in_flight or chat_id in self._busy_chats:
            return max(self._pace.chat_wait(chat_id), 0.05)
        wait = self._pace.chat_wait(chat_id)
        if wait > 0:
            return wait
        if post is not None and not self._cards.claim_image(post, claim=False)[0]:
            return math.inf
        if not self._slots.locked():
            await self._slots.acquire()  # free: no wait, so no need to race a stop
        elif not await self._turns.unless_stopping(self._slots.acquire):
            return -1
        image: str | None = None
        if post is not None:
            go, image = self._cards.claim_image(post)
            if not go:  # another chat took the image while this one waited for a slot
                self._slots.release()
                return math.inf
        self._busy_chats.add(chat_id)
        task = asyncio.create_task(
            self._turns.run_in_turn(chat_id, chat_type, work), name=f"{key[0]}-{key[1]}"
        )
        self._in_flight[key] = task

        def done(_: asyncio.Task[None]) -> None:
            self._in_flight.pop(key, None)
            self._busy_chats.discard(chat_id)
            self._slots.release()
            if image is not None:
                self._cards.release_image(image)
            if not self._in_flight:
                self._outcomes.drained()

        task.add_done_callback(done)
        return 0


def _earliest(soonest: float | None, wait: float) -> float | None:
    """The sooner of a monotonic time and `wait` seconds from now (a wait of 0 or less, or
    without end: none)."""
    if wait <= 0 or wait == math.inf:
        return soonest
    due = time.monotonic() + wait
    return due if soonest is None else min(soonest, due)
