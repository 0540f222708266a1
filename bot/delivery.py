"""The sender: takes due deliveries from the queue and gets each one to its chat.

Guarantees, and where they come from:
- A delivery is marked sent only after Telegram accepted the message; until then it stays
  pending in the database. A restart therefore resumes exactly where the last run stopped.
- A graceful stop waits for messages in flight and records them, so it loses and repeats nothing.
  After a hard kill, only the messages in flight at that instant (at most `concurrency`) can be
  sent a second time.
- A timeout is treated as "not delivered" and retried: a rare duplicate is better than a reader
  missing the news.
- Flood control (`RetryAfter`) keeps the message and holds the chat; server and network errors
  retry with exponential backoff and jitter, then give up with the reason recorded.
- A blocked bot or a vanished chat deactivates the chat (its settings are kept); a group that
  became a supergroup is moved to its new id and sent there.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Coroutine
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from enum import Enum, auto
from functools import partial
from typing import Any

from telegram import Bot, InputFile
from telegram import Message as TelegramMessage
from telegram.error import (
    BadRequest,
    ChatMigrated,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)

from bot.calls import keyboard, link_preview
from bot.corrections import CannotDelete, new_image, revise
from bot.images import ImageCache
from bot.metrics import Metrics
from bot.pace import FREE_RATE, Pace, seconds
from bot.posts import Post, PostLibrary
from bot.render import Message, render
from bot.store import (
    Delivery,
    Outcome,
    Revision,
    RevisionOutcome,
    SentMessage,
    Status,
    Store,
)

log = logging.getLogger(__name__)

#: Telegram's words when it could not use a photo it was given.
PHOTO_ERRORS = (
    "wrong file identifier",
    "wrong remote file identifier",
    "failed to get http url content",
    "wrong type of the web page content",
    "photo_invalid_dimensions",
    "image_process_failed",
    "file is too big",
)
#: Whether the running task still holds the overall turn it was given (see `_turn_for`).
_SPARE_TURN: ContextVar[bool] = ContextVar("newsbot_spare_turn", default=False)
#: Outcomes the database has refused for this long make `/healthz` report the sender unwell.
UNWRITTEN_ALARM_SECONDS = 30.0
#: Longest the outcome writer waits, while messages are in flight, to gather the next batch.
OUTCOME_GATHER_SECONDS = 0.02
#: Telegram's words for a chat that is gone for good.
GONE_ERRORS = (
    "chat not found",
    "user is deactivated",
    "have no rights to send",
    "not enough rights",
    "need administrator rights",
    "chat_write_forbidden",
)


_Key = tuple[str, int]
"""What is in flight: ("delivery", id) or ("revision", id)."""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently a delivery is retried after server or network errors."""

    attempts: int = 8
    base: float = 1.0
    cap: float = 300.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait before attempt number `attempt + 1`: exponential, with jitter."""
        ceiling = min(self.cap, self.base * 2 ** max(attempt - 1, 0))
        return random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not secrecy


class Fault(Enum):
    """What a Telegram error says, whatever the request was (a card, an edit, a deletion)."""

    FLOOD = auto()
    """Too many requests: the chat (or the bot) waits as long as Telegram asked."""
    MIGRATED = auto()
    """The group became a supergroup: the chat moved to a new id."""
    CHAT_GONE = auto()
    """Blocked, removed, deleted, or no right to post: the chat is made inactive."""
    REFUSED = auto()
    """This request will never be accepted as it is."""
    BOT_SETUP = auto()
    """The token or the API address is wrong: every sending waits for the fix."""
    TRANSIENT = auto()
    """Timeouts, lost connections, server errors: worth trying again later."""


@dataclass(frozen=True, slots=True)
class CardStyle:
    """How cards look for this newsroom."""

    zone: tzinfo = UTC
    source_name: str | None = None


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
    ) -> None:
        """`paid_broadcast` marks broadcast messages `allow_paid_broadcast`, which a rate above
        Telegram's free 30 a second needs (Telegram bills them in Stars). Edits and deletions
        cannot be paid for, so they then also keep to the free rate."""
        self._bot = bot
        self._paid_broadcast = paid_broadcast
        self._free_pace = Pace(FREE_RATE) if paid_broadcast else None
        self._store = store
        self._library = library
        self._images = images
        self._pace = pace
        self._style = style or CardStyle()
        self._retry = retry or RetryPolicy()
        self._slots = asyncio.Semaphore(concurrency)
        self._on_sent = on_sent
        self._metrics = metrics or Metrics()
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._in_flight: dict[_Key, asyncio.Task[None]] = {}
        self._busy_chats: set[int] = set()
        self._outcomes: list[Outcome] = []
        self._revision_outcomes: list[RevisionOutcome] = []
        # Deliveries answered but not yet written: still "pending" in the database, so a pass
        # reading the queue in that moment must not start them a second time.
        self._unrecorded: set[_Key] = set()
        self._recent_floods: dict[int, float] = {}
        self._outcomes_ready = asyncio.Event()
        self._drained = asyncio.Event()
        self._writing = 0
        self._writer: asyncio.Task[None] | None = None
        self._unwritten_since: float | None = None
        self._cards: dict[tuple[str, str, bool, str | None], Message] = {}
        self.sent = 0
        self.failed = 0

    # --- lifecycle ----------------------------------------------------------------------------

    def wake(self) -> None:
        """New deliveries were queued: look at the queue now."""
        self._wake.set()

    async def run(self) -> None:
        """Send until `stop()`; the outcome writer runs alongside."""
        writer = asyncio.create_task(self._write_outcomes(), name="newsbot-outcomes")
        self._writer = writer
        try:
            while not self._stopping.is_set():
                self._wake.clear()
                revised, soonest = await self._revision_pass()
                started, later = await self._pass()
                if not (revised or started):
                    await self._idle(min((t for t in (soonest, later) if t), default=None))
        finally:
            await self._drain()
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)
            await self._flush()

    def trouble(self) -> str | None:
        """Why the sender cannot be trusted right now, for `/healthz`; None when it can.

        Messages go out only while their outcomes are written down: a writer that died, or a
        database that has refused outcomes for a while, means a restart would send them again.
        """
        writer = self._writer
        if writer is not None and writer.done() and not self._stopping.is_set():
            return "the outcome writer has stopped"
        since = self._unwritten_since
        if since is not None and time.monotonic() - since > UNWRITTEN_ALARM_SECONDS:
            return f"outcomes unwritten for {time.monotonic() - since:.0f} s"
        return None

    async def stop(self) -> None:
        """Stop taking deliveries; `run()` then finishes what is in flight and returns."""
        self._stopping.set()
        self._wake.set()

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
        _, late = await asyncio.wait(tasks, timeout=grace)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)

    # --- the queue ----------------------------------------------------------------------------

    async def _pass(self) -> tuple[int, float | None]:
        """Go once through the due deliveries, starting those whose chat may receive now.

        Returns how many were started and, if some were held back for their chat's pace, the
        monotonic time the first of them may go.
        """
        started = 0
        soonest: float | None = None
        cursor: tuple[int, int] | None = None
        while not self._stopping.is_set():
            # Taken before the page is read: a row in flight now may be answered and recorded
            # while this page is worked through, and must not be started a second time.
            busy = set(self._in_flight) | self._unrecorded
            page = await self._store.due(time.time(), after=cursor, limit=200)
            if not page:
                break
            cursor = (page[-1].priority, page[-1].id)
            for delivery in page:
                key = ("delivery", delivery.id)
                if key in busy or key in self._unrecorded:
                    continue
                if delivery.chat_id in self._store.stopped_chats:
                    self._note(Outcome(delivery.id, Status.CANCELLED, error="chat stopped"))
                    continue
                if self._wake.is_set() and started:
                    break  # new work (a correction, breaking news): look at the queue again
                if not self._is_live(delivery.post_id):
                    # Withdrawn after this page was read: no turn, no message.
                    self._note(Outcome(delivery.id, Status.CANCELLED, error="post withdrawn"))
                    continue
                wait = await self._offer(
                    key, delivery.chat_id, delivery.chat_type, partial(self._deliver, delivery)
                )
                if wait < 0:
                    break
                started += wait == 0
                soonest = _earliest(soonest, wait)
            if self._wake.is_set() and started:
                break  # something new (perhaps more urgent) arrived: begin again at the top
        return started, soonest

    async def _unless_stopping(self, waiting: Awaitable[object]) -> bool:
        """Wait for something unless a stop comes first; returns whether it completed.

        A pause for flood control can last minutes; a stop must not wait for it.
        """
        if self._stopping.is_set():
            return False
        task = asyncio.ensure_future(waiting)
        stop = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if task.done() and not task.cancelled():
            return True
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return False

    async def _revision_pass(self) -> tuple[int, float | None]:
        """Start the corrections and retractions that are due, before any new message.

        A correction is news about news readers already have, so it goes first; it counts
        against the same limits as a message.
        """
        started = 0
        soonest: float | None = None
        busy = set(self._in_flight) | self._unrecorded
        for sent in await self._store.due_revisions(time.time()):
            key = ("revision", sent.delivery_id)
            if key in busy or key in self._unrecorded:
                continue
            wait = await self._offer(key, sent.chat_id, sent.chat_type, partial(self._revise, sent))
            if wait < 0:
                break
            started += wait == 0
            soonest = _earliest(soonest, wait)
        return started, soonest

    async def _offer(
        self,
        key: _Key,
        chat_id: int,
        chat_type: str,
        work: Callable[[], Coroutine[Any, Any, None]],
    ) -> float:
        """Start `work` when its chat may receive now and a slot is free; it waits its turn.

        Returns 0 when started, -1 when stopping, else seconds until the chat may receive.
        """
        if self._stopping.is_set():
            return -1
        if key in self._in_flight or chat_id in self._busy_chats:
            return max(self._pace.chat_wait(chat_id), 0.05)
        wait = self._pace.chat_wait(chat_id)
        if wait > 0:
            return wait
        if not self._slots.locked():
            await self._slots.acquire()  # free: no wait, so no need to race a stop
        elif not await self._unless_stopping(self._slots.acquire()):
            return -1
        self._busy_chats.add(chat_id)
        task = asyncio.create_task(
            self._in_turn(chat_id, chat_type, work), name=f"{key[0]}-{key[1]}"
        )
        self._in_flight[key] = task

        def done(_: asyncio.Task[None]) -> None:
            self._in_flight.pop(key, None)
            self._busy_chats.discard(chat_id)
            self._slots.release()
            if not self._in_flight:
                self._drained.set()

        task.add_done_callback(done)
        return 0

    async def _in_turn(
        self, chat_id: int, chat_type: str, work: Callable[[], Coroutine[Any, Any, None]]
    ) -> None:
        """Wait for the overall turn, then do the work at once.

        The turn is taken by the task that sends, just before its first call (the only thing
        that may come between is looking up an image's `file_id` in the database), so the time
        the pace records is close to the time the request leaves. Taken before the task
        started, it was off by however long a busy event loop took to start the task, and at
        1,000 messages a second that drift let more than the rate into some seconds.
        """
        if not self._pace.turn_now() and not await self._unless_stopping(self._pace.turn()):
            return
        if self._pace.chat_wait(chat_id) > 0:
            return  # flood control held the chat meanwhile: a later pass offers it again
        self._pace.claim(chat_id, chat_type)
        _SPARE_TURN.set(True)  # this task's context only: its first call uses this turn
        await work()

    # --- one delivery -------------------------------------------------------------------------

    def _is_live(self, post_id: str) -> bool:
        post = self._library.get(post_id)
        return post is not None and post.is_live(datetime.now(UTC))

    async def _deliver(self, delivery: Delivery) -> None:
        post = self._library.get(delivery.post_id)
        if post is None or not post.is_live(datetime.now(UTC)):
            self._note(Outcome(delivery.id, Status.CANCELLED, error="post withdrawn"))
            return
        chat = delivery.chat_id
        try:
            sent = await self.send_post(chat, post)
        except TelegramError as exc:
            fault = await self._act_on(chat, exc)
            if fault is Fault.REFUSED:
                log.error("telegram refused post=%s chat=%s error=%s", post.id, chat, exc)
                self._fail(delivery, str(exc), reason="rejected")
            elif fault is Fault.TRANSIENT:
                self._retry_later(delivery, f"{type(exc).__name__}: {exc}")
            # Otherwise the delivery waits for its chat or the bot, moved with its chat, or
            # was dropped with it.
        except Exception as exc:  # a bug or a local fault (disk, database): never a silent loop
            log.exception("delivery error delivery=%s", delivery.id)
            self._retry_later(delivery, f"{type(exc).__name__}: {exc}")
        else:
            self.sent += 1
            self._metrics.delivered(delivery.created_at)
            photo = post.image or post.photo_id if sent.photo else None
            self._note(
                Outcome(
                    delivery.id,
                    Status.SENT,
                    message_id=sent.message_id,
                    sent_as="photo" if sent.photo else "text",
                    sent_image=photo,
                )
            )
            if self._on_sent is not None:
                await self._on_sent(delivery)

    async def _act_on(self, chat: int, exc: TelegramError) -> Fault:
        """Do what a Telegram error asks of the chat or of the bot as a whole, and say which
        kind of error it was, so the delivery or revision that met it can decide its outcome.

        When acting fails (the database refuses to move or deactivate the chat), the error
        counts as transient: the delivery or revision is tried again later, with backoff.
        """
        try:
            return await self._act_on_fault(chat, exc)
        except Exception:
            log.exception("could not act on a telegram error chat=%s error=%s", chat, exc)
            return Fault.TRANSIENT

    async def _act_on_fault(self, chat: int, exc: TelegramError) -> Fault:
        if isinstance(exc, RetryAfter):
            self._flood_control(chat, exc)
            return Fault.FLOOD
        if isinstance(exc, ChatMigrated):
            log.info("chat migrated chat=%s new_chat=%s", chat, exc.new_chat_id)
            await self._store.migrate_chat(chat, exc.new_chat_id)
            self._pace.move_chat(chat, exc.new_chat_id)
            self.wake()
            return Fault.MIGRATED
        if isinstance(exc, Forbidden) or (
            isinstance(exc, BadRequest) and any(w in str(exc).lower() for w in GONE_ERRORS)
        ):
            await self._chat_gone(chat, str(exc))
            return Fault.CHAT_GONE
        if isinstance(exc, BadRequest):
            return Fault.REFUSED
        if isinstance(exc, InvalidToken | EndPointNotFound):
            # The bot's own set-up is wrong (revoked token, wrong TELEGRAM_API_URL): nothing
            # sent is at fault, so nothing is failed; everything waits for the fix.
            log.error("telegram refuses the bot itself, pausing all sending: %s", exc)
            self._pace.hold_all(60)
            return Fault.BOT_SETUP
        return Fault.TRANSIENT  # timeouts, lost connections, server errors

    def _flood_control(self, chat: int, exc: RetryAfter) -> None:
        """Hold the chat for as long as Telegram asked, and the whole queue when it is global.

        Telegram does not say which limit was hit. One chat refused is that chat's limit;
        two different chats refused within a second is the bot's overall one.
        """
        delay = seconds(exc.retry_after)
        self._metrics.flood_control.inc()
        self._pace.hold_chat(chat, delay)
        now = time.monotonic()
        self._recent_floods = {c: t for c, t in self._recent_floods.items() if now - t < 1.0}
        self._recent_floods[chat] = now
        if len(self._recent_floods) >= 2:
            self._pace.hold_all(delay)
            self._pace.widen()
        log.warning("flood control chat=%s retry_after=%.0fs", chat, delay)

    # --- one revision -------------------------------------------------------------------------

    async def _revise(self, sent: SentMessage) -> None:
        post = self._library.get(sent.post_id)
        if post is None and sent.revision is Revision.UPDATE:
            # The file is gone or unreadable for now: a correction has nothing to show, and a
            # missing file is no retraction.
            self._note_revision(RevisionOutcome(sent.delivery_id, done=True, error="post gone"))
            return
        card = None
        if post is not None and sent.revision is Revision.UPDATE:
            photo = post.image or post.photo_id or sent.sent_image
            card = (
                self.card(post, image=photo)
                if sent.sent_as == "photo" and photo
                else self.card(post, with_image=False)
            )
        outcome = RevisionOutcome(sent.delivery_id, done=True)
        try:
            try:
                image = await self._revise_call(sent, post, card)
            except CannotDelete:
                await self._edit(replace(sent, revision=Revision.RETRACT), post, None)
            else:
                outcome = replace(outcome, deleted=sent.revision is Revision.DELETE, image=image)
        except TelegramError as exc:
            fault = await self._act_on(sent.chat_id, exc)
            if fault in (Fault.FLOOD, Fault.BOT_SETUP):
                later = time.time() + max(self._pace.chat_wait(sent.chat_id), self._pace.paused)
                outcome = RevisionOutcome(sent.delivery_id, done=False, not_before=later)
            elif fault in (Fault.MIGRATED, Fault.REFUSED):
                # The message is out of reach (moved chat, edited or deleted by hand).
                log.warning("revision skipped delivery=%s error=%s", sent.delivery_id, exc)
                outcome = replace(outcome, error=f"revision skipped: {exc}")
            elif fault is Fault.TRANSIENT:
                if sent.attempts + 1 < self._retry.attempts:
                    later = time.time() + self._retry.delay(sent.attempts + 1)
                    outcome = RevisionOutcome(sent.delivery_id, done=False, not_before=later)
                else:
                    outcome = replace(outcome, error=f"revision gave up: {exc}")
        except Exception as exc:  # a bug or a local fault: recorded, never retried in a loop
            log.exception("revision error delivery=%s", sent.delivery_id)
            outcome = replace(outcome, error=f"revision failed: {exc}")
        else:
            log.info("message revised delivery=%s how=%s", sent.delivery_id, sent.revision)
        self._note_revision(outcome)

    async def _revise_call(
        self, sent: SentMessage, post: Post | None, card: Message | None
    ) -> str | None:
        """Make a revision's call; returns the new lead image when the message now shows one.

        A new image goes as the `file_id` Telegram already holds for it, else as its URL; when
        Telegram cannot fetch the URL, newsbot uploads the image (once for all chats), as for
        a first delivery. An image that cannot be had at all leaves the reader's photo in place
        and corrects the caption alone.
        """
        url = new_image(sent, post) if card is not None and card.has_photo else None
        if url is None:
            await self._edit(sent, post, card)
            return None
        if self._images.unavailable(url):
            await self._edit(replace(sent, sent_image=url), post, card)  # the caption alone
            return None
        known = await self._images.file_id(url)
        try:
            result = await self._edit(sent, post, card, photo=known)
        except BadRequest as exc:
            if not _is_photo_error(exc):
                raise
            if known is not None:
                await self._images.forget(url)
            async with self._images.lock(url):
                result = await self._edit_with_upload(sent, post, card, url)
            if result is None:
                await self._edit(replace(sent, sent_image=url), post, card)
                return None
        if isinstance(result, TelegramMessage):
            await self._keep_file_id(url, result)
        return url

    async def _edit_with_upload(
        self, sent: SentMessage, post: Post | None, card: Message | None, url: str
    ) -> TelegramMessage | bool | None:
        """The image edit once Telegram could not fetch the URL: by a `file_id` another chat's
        edit got meanwhile, else by uploading the image; None when it cannot be had."""
        upload: str | InputFile | None = await self._images.file_id(url)
        if upload is None and not self._images.unavailable(url):
            upload = await self._images.upload(url, attach=True)
        if upload is None:
            return None
        try:
            return await self._edit(sent, post, card, photo=upload)
        except BadRequest as exc:
            if not _is_photo_error(exc):
                raise
            self._images.mark_unavailable(url, str(exc))
            return None

    async def _edit(
        self,
        sent: SentMessage,
        post: Post | None,
        card: Message | None,
        *,
        photo: str | InputFile | None = None,
    ) -> TelegramMessage | bool | None:
        """One revision call, in its turn of the overall pace (and of the free rate, when
        broadcasts are paid for)."""
        await self._turn_for(self._bot)
        if self._free_pace is not None and not self._free_pace.turn_now():
            await self._free_pace.turn()
        return await revise(self._bot, sent, post, card, photo=photo)

    async def _turn_for(self, bot: Bot) -> None:
        """Every Bot API call of the sender takes a turn of the overall pace.

        The first call of a delivery or revision uses the turn its task was given; a second
        one (the text card after a refused photo, an upload, a caption after a refused image)
        waits for a turn of its own, since Telegram counts every call. Replies to readers,
        made through the application's bot, are not paced here.
        """
        if bot is not self._bot:
            return
        if _SPARE_TURN.get():
            _SPARE_TURN.set(False)
        elif not self._pace.turn_now():
            await self._pace.turn()

    def _note_revision(self, outcome: RevisionOutcome) -> None:
        self._unrecorded.add(("revision", outcome.delivery_id))
        self._revision_outcomes.append(outcome)
        self._outcomes_ready.set()

    async def _chat_gone(self, chat: int, reason: str) -> None:
        log.info("chat deactivated chat=%s reason=%s", chat, reason)
        self._metrics.gave_up("chat_gone")
        await self._store.deactivate(chat, reason)

    def _retry_later(self, delivery: Delivery, error: str) -> None:
        attempt = delivery.attempts + 1
        if attempt >= self._retry.attempts:
            self._fail(delivery, f"gave up after {attempt} attempts: {error}", reason="gave_up")
            return
        delay = self._retry.delay(attempt)
        self._metrics.retries.inc()
        log.warning("retrying delivery=%s delay=%.1fs error=%s", delivery.id, delay, error)
        self._note(
            Outcome(delivery.id, Status.PENDING, error=error, not_before=time.time() + delay)
        )

    def _fail(self, delivery: Delivery, error: str, *, reason: str) -> None:
        self.failed += 1
        self._metrics.gave_up(reason)
        log.error(
            "delivery failed delivery=%s chat=%s error=%s", delivery.id, delivery.chat_id, error
        )
        self._note(Outcome(delivery.id, Status.FAILED, error=error))

    # --- sending ------------------------------------------------------------------------------

    def card(self, post: Post, *, with_image: bool = True, image: str | None = None) -> Message:
        """The rendered message for a post, computed once per version of the post."""
        key = (post.id, post.digest, with_image, image)
        message = self._cards.get(key)
        if message is None:
            if len(self._cards) > 512:
                self._cards.clear()
            message = render(
                post,
                zone=self._style.zone,
                source_name=self._style.source_name,
                with_image=with_image,
                image=image,
            )
            self._cards[key] = message
        return message

    async def _call(
        self, bot: Bot, chat_id: int, message: Message, *, photo: str | InputFile | None = None
    ) -> TelegramMessage:
        """Make the rendered Bot API call for one chat (optionally with another photo).

        Only broadcasts, which go through the sender's own bot, are paid; a reply to a reader
        is not part of the broadcast rate.
        """
        await self._turn_for(bot)
        params = message.params
        buttons = keyboard(params, bot)
        paid = True if self._paid_broadcast and bot is self._bot else None
        if message.method == "sendPhoto":
            return await bot.send_photo(
                chat_id,
                photo=photo or params["photo"],
                caption=params["caption"],
                parse_mode=params["parse_mode"],
                reply_markup=buttons,
                allow_paid_broadcast=paid,
            )
        return await bot.send_message(
            chat_id,
            text=params["text"],
            parse_mode=params["parse_mode"],
            link_preview_options=link_preview(params),
            reply_markup=buttons,
            allow_paid_broadcast=paid,
        )

    async def send_post(
        self, chat_id: int, post: Post, *, bot: Bot | None = None
    ) -> TelegramMessage:
        """Send a post's card now, with its image when at all possible, else as text.

        Broadcasts use the sender's own bot; replies to commands pass the application's bot so
        they do not wait behind a broadcast. Telegram errors are left to the caller.
        """
        bot = bot or self._bot
        url = post.image
        if url is None and post.photo_id is not None:
            # An editor's photo: Telegram already holds it, there is nothing to download.
            try:
                return await self._call(bot, chat_id, self.card(post))
            except BadRequest as exc:
                if not _is_photo_error(exc):
                    raise
        if url is None or self._images.unavailable(url):
            return await self._call(bot, chat_id, self.card(post, with_image=False))
        known = await self._images.file_id(url)
        try:
            result = await self._call(bot, chat_id, self.card(post, image=known))
        except BadRequest as exc:
            if not _is_photo_error(exc):
                raise
            if known is not None:
                await self._images.forget(url)
            return await self._upload(bot, chat_id, post, url)
        await self._keep_file_id(url, result)
        return result

    async def _upload(self, bot: Bot, chat_id: int, post: Post, url: str) -> TelegramMessage:
        """Upload the image ourselves (once for all chats), or fall back to text."""
        async with self._images.lock(url):
            known = await self._images.file_id(url)
            upload = None
            if known is None and not self._images.unavailable(url):
                upload = await self._images.upload(url)
            if upload is not None:
                try:
                    result = await self._call(bot, chat_id, self.card(post), photo=upload)
                except BadRequest as exc:
                    if not _is_photo_error(exc):
                        raise
                    self._images.mark_unavailable(url, str(exc))
                else:
                    await self._keep_file_id(url, result)
                    return result
        known = await self._images.file_id(url)
        if known is not None:
            return await self._call(bot, chat_id, self.card(post, image=known))
        return await self._call(bot, chat_id, self.card(post, with_image=False))

    async def _keep_file_id(self, url: str, result: TelegramMessage) -> None:
        """Remember the photo's file_id; the message is sent, so a failure here only costs
        a later re-fetch, and must not make the delivery look unsent."""
        if result.photo:
            try:
                await self._images.remember(url, result.photo[-1].file_id)
            except Exception:
                log.exception("could not remember the file_id of %s", url)

    # --- writing outcomes ---------------------------------------------------------------------

    @property
    def pending_outcomes(self) -> int:
        """Outcomes noted but not yet committed to the database."""
        return len(self._outcomes) + len(self._revision_outcomes) + self._writing

    def _note(self, outcome: Outcome) -> None:
        self._unrecorded.add(("delivery", outcome.delivery_id))
        self._outcomes.append(outcome)
        self._outcomes_ready.set()

    async def _write_outcomes(self) -> None:
        """Write outcomes as they come; under load each transaction carries many."""
        while True:
            await self._outcomes_ready.wait()
            self._outcomes_ready.clear()
            # Shielded: a stop cancels this task, and a batch cut off before its commit would
            # be lost, its messages sent again after the restart.
            try:
                await asyncio.shield(self._flush())
            except Exception:
                # The database refused (disk full, locked): keep the outcomes and try again;
                # until then the deliveries stay marked busy, so nothing is sent twice.
                log.exception("could not record outcomes; retrying")
                if self._unwritten_since is None:
                    self._unwritten_since = time.monotonic()
                await asyncio.sleep(1.0)
                self._outcomes_ready.set()
                continue
            self._unwritten_since = None
            if self._in_flight:
                # More outcomes are on their way: gather them, but write at once when the last
                # message in flight is answered. Without this most transactions carried one or
                # two outcomes, and their commits took a fifth of the sender's CPU at 1,000/s.
                # (`asyncio.timeout`, not `wait_for`: on Python 3.11 `wait_for` swallows a stop's
                # cancellation that arrives as the last message is answered, and the stop hangs.)
                self._drained.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(OUTCOME_GATHER_SECONDS):
                        await self._drained.wait()

    async def _flush(self) -> None:
        """Write the outcomes noted so far; what could not be written is kept for next time."""
        batch, self._outcomes = self._outcomes, []
        revisions, self._revision_outcomes = self._revision_outcomes, []
        count = len(batch) + len(revisions)
        if not count:
            return
        self._writing += count
        try:
            if batch:
                await self._store.record(batch)
                self._unrecorded.difference_update(("delivery", o.delivery_id) for o in batch)
                batch = []
            await self._store.record_revisions(revisions)
            self._unrecorded.difference_update(("revision", o.delivery_id) for o in revisions)
            revisions = []
        finally:
            self._writing -= count
            self._outcomes[:0] = batch
            self._revision_outcomes[:0] = revisions


def _earliest(soonest: float | None, wait: float) -> float | None:
    """The sooner of a monotonic time and `wait` seconds from now (a wait of 0 or less: none)."""
    if wait <= 0:
        return soonest
    due = time.monotonic() + wait
    return due if soonest is None else min(soonest, due)


def _is_photo_error(exc: BadRequest) -> bool:
    text = str(exc).lower()
    return any(words in text for words in PHOTO_ERRORS)
