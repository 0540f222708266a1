"""Telegram's flood limits as a schedule the sender follows, so it never provokes a 429.

Three limits apply at once: an overall rate (`NEWSBOT_RATE`, 30 messages/s by default), about
one message a second to one private chat, and 20 messages a minute to one group or channel.
The per-chat limits are a next-allowed time per chat, which costs nothing for the many chats
that are idle.

The overall rate is a schedule of evenly spaced slots, checked against the send times of the
last `rate` messages. Two simpler designs fall short, measured against a double that counts
like Telegram: a leaky bucket of size one (aiolimiter's `AsyncLimiter(1, 1/rate)`) loses every
millisecond by which the event loop wakes late, which costs 3-5% of the rate on a busy machine;
a bigger bucket keeps that time but lets a burst through on top of a full second's worth, which
is a 429. Here a late wake-up is made up by the next slot coming sooner, and the window (a
little longer than a second) is what guarantees the limit.

A refusal (`RetryAfter`) always holds the chat it names for as long as Telegram asked. Telegram
does not say which limit was hit, so whether the bot as a whole went too fast is judged from the
refusals of the last second against the messages sent in it (`refused`): at 1,000 messages a
second, twenty scattered refusals are twenty chats' business, not a reason to stop the queue.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable

# A few per cent above Telegram's figures: a message's journey varies by some milliseconds,
# and two sent exactly one interval apart can arrive a little closer than that.
PRIVATE_INTERVAL = 1.05
GROUP_INTERVAL = 3.1  # 20 messages a minute
#: How the overall window grows after a refusal for the overall rate, and how far at most.
WIDEN_STEP = 1.02
WIDEN_MOST = 1.2
#: Seconds without a refusal after which the window shrinks back a step.
NARROW_AFTER = 30.0
NARROW_STEP = 1.005
#: Telegram's overall limit for a bot; above it, broadcasts must be sent as paid broadcasts
#: (`allow_paid_broadcast`), which Telegram allows up to 1,000 a second.
FREE_RATE = 30.0
#: The same margin on the overall rate: never more than 30 messages in any 1.03 s.
SPACING_MARGIN = 1.03
#: The most lateness of the event loop the overall schedule makes up with earlier slots.
_CATCH_UP = 0.02
#: Chats whose next-allowed time passed this long ago are forgotten, to keep memory flat.
_FORGET_AFTER = 60.0
#: Refusals of different chats within a second read as the overall limit only when there are at
#: least this many, and at least this share of the messages sent in that second.
OVERALL_REFUSALS_LEAST = 2
OVERALL_REFUSED_SHARE = 0.05


class Pace:
    """When the next message may go, overall and to each chat."""

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._interval = 1.0 / rate
        self._window_count = max(1, math.floor(rate))
        self._base_span = SPACING_MARGIN * self._window_count / rate
        self._window_span = self._base_span
        self._widened_at = 0.0
        self._narrowed_at = 0.0
        self._waiting = 0
        self._recent: deque[float] = deque(maxlen=self._window_count)
        self._next_slot = 0.0
        self._catch_up = max(self._interval, _CATCH_UP)
        self._turns = asyncio.Lock()
        self._next_for_chat: dict[int, float] = {}
        self._paused_until = 0.0
        self._last_prune = clock()
        self._refusals: dict[int, float] = {}

    @staticmethod
    def interval(chat_type: str) -> float:
        """The shortest gap between two messages to one chat of this type."""
        return PRIVATE_INTERVAL if chat_type == "private" else GROUP_INTERVAL

    def chat_wait(self, chat_id: int) -> float:
        """Seconds until this chat may receive its next message (0 when it may now)."""
        return max(0.0, self._next_for_chat.get(chat_id, 0.0) - self._clock())

    def claim(self, chat_id: int, chat_type: str) -> None:
        """Record that a message to this chat is leaving now."""
        now = self._clock()
        self._next_for_chat[chat_id] = now + self.interval(chat_type)
        if now - self._last_prune > _FORGET_AFTER:
            self._last_prune = now
            self._next_for_chat = {
                chat: due for chat, due in self._next_for_chat.items() if due > now
            }

    def hold_chat(self, chat_id: int, delay: float) -> None:
        """Keep a chat waiting, after Telegram asked for it with a RetryAfter."""
        due = self._clock() + delay
        self._next_for_chat[chat_id] = max(self._next_for_chat.get(chat_id, 0.0), due)

    def refused(self, chat_id: int, delay: float) -> bool:
        """Telegram refused a message to this chat for `delay` seconds: hold the chat, and
        hold everything (and widen the window) when the refusals show the overall limit.

        Returns whether they did. The judgment is made at the rate in force: different chats
        refused within a second count as the overall limit when they are at least
        `OVERALL_REFUSALS_LEAST` and `OVERALL_REFUSED_SHARE` of the messages sent in that
        second. At 30 a second that is two refusals; at 1,000, fifty:
        scattered per-chat refusals (2% of messages, say) leave every other chat at full speed.
        """
        self.hold_chat(chat_id, delay)
        now = self._clock()
        self._refusals = {c: t for c, t in self._refusals.items() if now - t < 1.0}
        self._refusals[chat_id] = now
        sent = 0
        for at in reversed(self._recent):
            if now - at >= 1.0:
                break
            sent += 1
        overall = len(self._refusals) >= max(OVERALL_REFUSALS_LEAST, OVERALL_REFUSED_SHARE * sent)
        if overall:
            self.hold_all(delay)
            self.widen()
        return overall

    def widen(self) -> None:
        """Leave more room between messages after Telegram refused some for the overall rate.

        The pace never sends more than the rate in any window at this end, but Telegram counts
        at its end: a message held up on the way (a pause of the network, of Telegram's server,
        or of this process between taking its turn and sending) arrives closer to the next
        ones than it left. Each such refusal widens the window by 2%, up to a fifth; every
        half-minute without one gives 0.5% back.
        """
        now = self._clock()
        if now - self._widened_at < 1.0:
            return  # refusals of one moment count once
        self._window_span = min(self._window_span * WIDEN_STEP, self._base_span * WIDEN_MOST)
        self._widened_at = now

    def hold_all(self, delay: float) -> None:
        """Pause every sending, when Telegram's flood limit is about the bot as a whole."""
        self._paused_until = max(self._paused_until, self._clock() + delay)

    @property
    def paused(self) -> float:
        """Seconds until a pause of all sending ends (0 when there is none)."""
        return max(0.0, self._paused_until - self._clock())

    def move_chat(self, old_id: int, new_id: int) -> None:
        """Carry a chat's schedule over to its new id after a migration."""
        if old_id in self._next_for_chat:
            self._next_for_chat[new_id] = self._next_for_chat.pop(old_id)

    async def turn(self) -> None:
        """Wait for the next overall sending slot (and out any pause of the whole queue).

        Callers take turns in the order they asked (the lock is fair), so the sender's
        workers share the rate without a stampede at each slot.
        """
        self._waiting += 1
        try:
            async with self._turns:
                while (wait := self._due() - self._clock()) > 0:
                    await self._sleep(wait)
                self._take()
        finally:
            self._waiting -= 1

    def turn_now(self) -> bool:
        """Take the next overall slot if it is free right now and nobody is waiting for one.

        The sender tries this first: at high rates most turns need no wait, and `turn()` costs
        a lock and, in the sender, a race against a stop.
        """
        if self._waiting or self._due() > self._clock():
            return False
        self._take()
        return True

    def _due(self) -> float:
        """When the next message may go overall."""
        due = max(self._next_slot, self._paused_until)
        if len(self._recent) == self._window_count:
            due = max(due, self._recent[0] + self._window_span)
        return due

    def _take(self) -> None:
        now = self._clock()
        quiet_since = max(self._widened_at, self._narrowed_at)
        if self._window_span > self._base_span and now - quiet_since > NARROW_AFTER:
            self._window_span = max(self._base_span, self._window_span / NARROW_STEP)
            self._narrowed_at = now
        self._recent.append(now)
        # Lateness is made up, up to a point: after an idle spell the schedule restarts from
        # about now rather than letting every missed slot through at once.
        self._next_slot = max(self._next_slot, now - self._catch_up) + self._interval
