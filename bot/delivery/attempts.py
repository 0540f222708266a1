"""One attempt at a delivery or a revision, and what Telegram's answer makes of it.

A Telegram error is read once (`bot.telegram_errors.classify`), then acted on in one place per
meaning: flood control holds the chat (or everything), a moved chat is followed, a chat that is
gone is made inactive, a refused token pauses all sending. What becomes of the delivery or the
revision itself is decided after that, from the same `Fault`:

    Fault                               a delivery                    a revision
    RETRY_LATER, TOKEN_REFUSED          waits, kept pending           waits, kept due
    CHAT_MOVED                          moves with its chat           skipped (the message is
                                                                      out of reach)
    CHAT_GONE                           dropped with its chat         done
    TIMED_OUT, NETWORK                  retried with backoff, then    retried with backoff, then
                                        failed with the reason        given up
    any refusal of the request itself   failed: a bug, never retried  skipped, with the reason

(An edit with nothing to change, a message no longer there and one too old to delete are a
revision's own business: `bot.corrections` finishes those without an error.)
"""

from __future__ import annotations

import html
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from telegram.error import TelegramError

from bot.corrections import Corrections
from bot.delivery.cards import Cards, ImagePending, Options
from bot.delivery.outcomes import OutcomeWriter
from bot.i18n import catalogue
from bot.metrics import Metrics
from bot.pace import Pace
from bot.posts import PostLibrary
from bot.store import (
    Delivery,
    Deposed,
    Outcome,
    Revision,
    RevisionOutcome,
    SentMessage,
    Status,
    Store,
)
from bot.telegram_errors import Classification, Fault, classify

log = logging.getLogger(__name__)

#: The delivery the running task is sending: a late answer to its request belongs to it.
_DELIVERING: ContextVar[int | None] = ContextVar("newsbot_delivering", default=None)

#: How long all sending pauses, each time, while Telegram refuses the bot's token or address.
TOKEN_REFUSED_PAUSE = 60.0


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


class Attempts:
    """Makes one delivery or revision at a time and notes its outcome."""

    def __init__(
        self,
        *,
        cards: Cards,
        corrections: Corrections,
        library: PostLibrary,
        store: Store,
        pace: Pace,
        outcomes: OutcomeWriter,
        retry: RetryPolicy,
        metrics: Metrics,
        moved: Callable[[], None],
        retry_in: Callable[[float], None] = lambda _: None,
        on_sent: Callable[[Delivery], Awaitable[None]] | None = None,
    ) -> None:
        """`moved` is called when a chat moved to a new id, whose deliveries are due there now;
        `retry_in(seconds)` when a delivery was put back to wait, so it goes when due."""
        self._cards = cards
        self._corrections = corrections
        self._library = library
        self._store = store
        self._pace = pace
        self._outcomes = outcomes
        self._retry = retry
        self._metrics = metrics
        self._moved = moved
        self._retry_in = retry_in
        self._on_sent = on_sent
        self.sent = 0
        """Deliveries Telegram accepted in this run."""
        self.failed = 0
        """Deliveries given up in this run."""

    # --- one delivery -------------------------------------------------------------------------

    async def deliver(self, delivery: Delivery, options: Options | None = None) -> None:
        """Send a delivery's card to its chat (with `options`: its forum topic, no sound in
        quiet hours) and note what became of it."""
        post = self._library.get(delivery.post_id)
        if post is None or not post.is_live(datetime.now(UTC)):
            self._outcomes.note(Outcome(delivery.id, Status.CANCELLED, error="post withdrawn"))
            return
        chat = delivery.chat_id
        _DELIVERING.set(delivery.id)  # this task's context only
        try:
            answer = await self._cards.send(chat, post, extra=options)
        except TelegramError as exc:
            match await self._act_on(chat, exc, options):
                case Fault.TIMED_OUT | Fault.NETWORK:
                    self._retry_later(delivery, f"{type(exc).__name__}: {exc}")
                case Fault.RETRY_LATER | Fault.TOKEN_REFUSED:
                    self._wait(delivery, f"{type(exc).__name__}: {exc}")
                case Fault.CHAT_MOVED | Fault.CHAT_GONE:
                    pass  # it moved with its chat, or was dropped with it
                case Fault.TOPIC_GONE:
                    # Its categories now go to General: it goes again, there, at once.
                    self._outcomes.note(
                        Outcome(delivery.id, Status.PENDING, counts_as_attempt=False)
                    )
                    self._moved()
                case _:
                    log.error("telegram refused post=%s chat=%s error=%s", post.id, chat, exc)
                    self._fail(delivery, str(exc), reason="rejected")
        except ImagePending:
            # Telegram cannot fetch the image and its download is under way: the delivery
            # waits for it (the sender looks again when it is over), and that is no attempt.
            self._outcomes.note(Outcome(delivery.id, Status.PENDING, counts_as_attempt=False))
        except Deposed:
            return  # another instance sends now; the delivery stays pending for it
        except Exception as exc:  # a bug or a local fault (disk, database): never a silent loop
            log.exception("delivery error delivery=%s", delivery.id)
            self._retry_later(delivery, f"{type(exc).__name__}: {exc}")
        else:
            self.sent += 1
            self._metrics.delivered(delivery.created_at)
            photo = post.image or post.photo_id if answer.photo is not None else None
            self._outcomes.note(
                Outcome(
                    delivery.id,
                    Status.SENT,
                    message_id=answer.message_id,
                    sent_as="text" if answer.photo is None else "photo",
                    sent_image=photo,
                )
            )
            if self._on_sent is not None:
                await self._on_sent(delivery)

    def late_answer(self, answer: bytes) -> None:
        """A request that timed out was carried out after all: keep the message's id with its
        delivery, whose retry may well have sent a second copy, so a correction or a
        retraction reaches both. Called in the context of the request's task."""
        delivery = _DELIVERING.get()
        if delivery is None:
            return  # an edit or a deletion: nothing to keep
        try:
            message_id = int(json.loads(answer)["result"]["message_id"])
        except (ValueError, KeyError, TypeError):
            return
        log.warning("a timed-out send was delivered delivery=%s message=%s", delivery, message_id)
        self._outcomes.note_copy(delivery, message_id)

    def _wait(self, delivery: Delivery, error: str) -> None:
        """Keep the delivery as long as Telegram asked its chat (or the bot) to wait.

        The time is written with the delivery, so its chat still waits after a restart; it
        is no attempt of the delivery's own.
        """
        wait = max(self._pace.chat_wait(delivery.chat_id), self._pace.paused)
        self._outcomes.note(
            Outcome(
                delivery.id,
                Status.PENDING,
                error=error,
                not_before=time.time() + wait,
                counts_as_attempt=False,
            )
        )
        self._retry_in(wait)

    def _retry_later(self, delivery: Delivery, error: str) -> None:
        attempt = delivery.attempts + 1
        if attempt >= self._retry.attempts:
            self._fail(delivery, f"gave up after {attempt} attempts: {error}", reason="gave_up")
            return
        delay = self._retry.delay(attempt)
        self._metrics.retries.inc()
        log.warning("retrying delivery=%s delay=%.1fs error=%s", delivery.id, delay, error)
        # The chat waits too: its later posts must not overtake this one.
        self._pace.hold_chat(delivery.chat_id, delay)
        self._outcomes.note(
            Outcome(delivery.id, Status.PENDING, error=error, not_before=time.time() + delay)
        )
        self._retry_in(delay)

    def _fail(self, delivery: Delivery, error: str, *, reason: str) -> None:
        self.failed += 1
        self._metrics.gave_up(reason)
        log.error(
            "delivery failed delivery=%s chat=%s error=%s", delivery.id, delivery.chat_id, error
        )
        self._outcomes.note(Outcome(delivery.id, Status.FAILED, error=error))

    # --- one revision -------------------------------------------------------------------------

    async def revise(self, copy: SentMessage) -> None:
        """Correct, retract or delete a reader's copy of a post and note what became of it."""
        post = self._library.get(copy.post_id)
        if post is None and copy.revision is Revision.UPDATE:
            # The file is gone or unreadable for now: a correction has nothing to show, and a
            # missing file is no retraction.
            self._outcomes.note_revision(
                RevisionOutcome(copy.delivery_id, done=True, error="post gone")
            )
            return
        card = None
        if post is not None and copy.revision is Revision.UPDATE:
            card = self._cards.card_as_sent(post, copy.sent_as, copy.sent_image)
        outcome = RevisionOutcome(copy.delivery_id, done=True)
        try:
            # Every copy the reader has; one already revised is done again at no cost (an edit
            # that changes nothing, a message already gone).
            for message_id in (copy.message_id, *copy.copies):
                revised = replace(copy, message_id=message_id)
                outcome = await self._corrections.make(revised, post, card)
        except TelegramError as exc:
            match await self._act_on(copy.chat_id, exc):
                case Fault.RETRY_LATER | Fault.TOKEN_REFUSED:
                    wait = max(self._pace.chat_wait(copy.chat_id), self._pace.paused)
                    outcome = replace(outcome, done=False, not_before=time.time() + wait)
                case Fault.TIMED_OUT | Fault.NETWORK:
                    if copy.attempts + 1 < self._retry.attempts:
                        later = time.time() + self._retry.delay(copy.attempts + 1)
                        outcome = replace(outcome, done=False, not_before=later)
                    else:
                        outcome = replace(outcome, error=f"revision gave up: {exc}")
                case Fault.CHAT_GONE:
                    pass  # done: nobody is left to read it
                case _:
                    # The message is out of reach (moved chat, edited or deleted by hand), or
                    # the edit is refused as it is.
                    log.warning("revision skipped delivery=%s error=%s", copy.delivery_id, exc)
                    outcome = replace(outcome, error=f"revision skipped: {exc}")
        except Deposed:
            return  # another instance revises now; the revision stays due for it
        except Exception as exc:  # a bug or a local fault: recorded, never retried in a loop
            log.exception("revision error delivery=%s", copy.delivery_id)
            outcome = replace(outcome, error=f"revision failed: {exc}")
        else:
            log.info("message revised delivery=%s how=%s", copy.delivery_id, copy.revision)
        self._outcomes.note_revision(outcome)

    # --- what an error asks of the chat or the bot --------------------------------------------

    async def _act_on(self, chat: int, exc: TelegramError, options: Options | None = None) -> Fault:
        """Do what a Telegram error asks of the chat or of the bot as a whole, and say what it
        means, so the delivery or revision that met it can decide its outcome.

        When acting fails (the database refuses to move or deactivate the chat), the error
        counts as a network fault: the delivery or revision is tried again later, with backoff.
        """
        error = classify(exc)
        try:
            if error.fault is Fault.TOPIC_GONE:
                await self._topic_gone(chat, (options or {}).get("message_thread_id"))
            await self._act(chat, error)
        except Exception:
            log.exception("could not act on a telegram error chat=%s error=%s", chat, exc)
            return Fault.NETWORK
        return error.fault

    async def _act(self, chat: int, error: Classification) -> None:
        match error.fault:
            case Fault.RETRY_LATER:
                self._flood_control(chat, error.retry_after)
            case Fault.CHAT_MOVED if error.new_chat_id is not None:
                log.info("chat migrated chat=%s new_chat=%s", chat, error.new_chat_id)
                await self._store.migrate_chat(chat, error.new_chat_id)
                self._pace.move_chat(chat, error.new_chat_id)
                self._moved()
            case Fault.CHAT_GONE:
                log.info("chat deactivated chat=%s reason=%s", chat, error.reason)
                self._metrics.gave_up("chat_gone")
                await self._store.deactivate(chat, error.reason)
            case Fault.TOKEN_REFUSED:
                # The bot's own set-up is wrong (revoked token, wrong TELEGRAM_API_URL): nothing
                # sent is at fault, so nothing is failed; everything waits for the fix.
                log.error("telegram refuses the bot itself, pausing all sending: %s", error.reason)
                self._pace.hold_all(TOKEN_REFUSED_PAUSE)
            case _:
                pass  # about this request alone: its delivery or revision decides

    async def _topic_gone(self, chat: int, thread: object) -> None:
        """A forum topic is closed or deleted: its categories go to General from now on, and
        the group hears it once (only the delivery that re-routed them tells)."""
        if not isinstance(thread, int):
            return
        moved = await self._store.drop_topic(chat, thread)
        log.warning("forum topic gone chat=%s topic=%s categories=%s", chat, thread, moved)
        if moved:
            await self._cards.say(chat, topic_gone_notice(moved))

    def _flood_control(self, chat: int, delay: float) -> None:
        """Hold the chat for as long as Telegram asked; the pace judges whether the refusals
        of the last second show the bot's overall limit, and then holds everything."""
        self._metrics.flood_control.inc()
        overall = self._pace.refused(chat, delay)
        log.warning("flood control chat=%s retry_after=%.0fs overall=%s", chat, delay, overall)


def topic_gone_notice(categories: list[str]) -> str:
    """What a forum is told when a topic newsbot posted to is closed or deleted: in English and
    Thai, since a group has no one language (HTML: the keys are escaped)."""
    keys = html.escape(", ".join(categories))
    return "\n\n".join(
        catalogue(language)("topics.gone", categories=keys) for language in ("en", "th")
    )
