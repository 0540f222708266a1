"""Telegram's flood limits as a schedule the sender follows, so it never provokes a 429.

Three limits apply at once: an overall rate (`NEWSBOT_RATE`, 30 messages/s by default), about
one message a second to one private chat, and 20 messages a minute to one group or channel.
The overall rate is a leaky bucket of size one from aiolimiter, which spaces messages evenly
instead of letting a burst through at the start of every second. The per-chat limits are a
next-allowed time per chat, which costs nothing for the many chats that are idle.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta

from aiolimiter import AsyncLimiter

# A few per cent above Telegram's figures: a message's journey varies by some milliseconds,
# and two sent exactly one interval apart can arrive a little closer than that.
PRIVATE_INTERVAL = 1.05
GROUP_INTERVAL = 3.1  # 20 messages a minute
#: Telegram's overall limit for a bot; above it, broadcasts must be sent as paid broadcasts
#: (`allow_paid_broadcast`), which Telegram allows up to 1,000 a second.
FREE_RATE = 30.0
#: The same margin on the overall rate: 30 a second is sent as about 29.
SPACING_MARGIN = 1.03
#: Chats whose next-allowed time passed this long ago are forgotten, to keep memory flat.
_FORGET_AFTER = 60.0


def seconds(value: int | float | timedelta) -> float:
    """A `retry_after` value in seconds, whether PTB gives an int or a timedelta."""
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class Pace:
    """When the next message may go, overall and to each chat."""

    def __init__(self, rate: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._limiter = AsyncLimiter(1, SPACING_MARGIN / rate)
        self._clock = clock
        self._next_for_chat: dict[int, float] = {}
        self._paused_until = 0.0
        self._last_prune = clock()

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

    def hold_all(self, delay: float) -> None:
        """Pause every sending, when Telegram's flood limit is about the bot as a whole."""
        self._paused_until = max(self._paused_until, self._clock() + delay)

    def move_chat(self, old_id: int, new_id: int) -> None:
        """Carry a chat's schedule over to its new id after a migration."""
        if old_id in self._next_for_chat:
            self._next_for_chat[new_id] = self._next_for_chat.pop(old_id)

    async def turn(self) -> None:
        """Wait for the next overall sending slot (and out any pause of the whole queue)."""
        pause = self._paused_until - self._clock()
        if pause > 0:
            await asyncio.sleep(pause)
        await self._limiter.acquire()
