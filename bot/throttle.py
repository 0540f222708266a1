"""How many commands one reader may send before the bot stops answering for a moment.

Telegram lets a bot send about one message a second to a chat, and a reader hammering a command
would otherwise get a cascade of replies, then flood errors. Each reader (or button presser) may
be answered `limit` times in any `window` seconds; the first command past that gets one polite
notice, and the rest are dropped without a word until the window has room again.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from enum import StrEnum

#: Readers idle this long are forgotten, to keep memory flat with many readers.
_FORGET_AFTER = 300.0


class Verdict(StrEnum):
    """What to do with one command."""

    ANSWER = "answer"
    NOTICE = "notice"
    """Too many: say so, once."""
    DROP = "drop"


class ReaderThrottle:
    """A sliding window per reader: at most `limit` answers in any `window` seconds."""

    def __init__(
        self, limit: int = 8, window: float = 10.0, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a throttle needs limit >= 1 and window > 0")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._answered: dict[int, deque[float]] = {}
        self._noticed: set[int] = set()
        self._last_prune = clock()

    def check(self, reader: int) -> Verdict:
        """Decide about one command from `reader` (a Telegram user id) arriving now."""
        now = self._clock()
        self._prune(now)
        answered = self._answered.setdefault(reader, deque())
        while answered and answered[0] <= now - self.window:
            answered.popleft()
        if len(answered) < self.limit:
            answered.append(now)
            self._noticed.discard(reader)
            return Verdict.ANSWER
        if reader in self._noticed:
            return Verdict.DROP
        self._noticed.add(reader)
        return Verdict.NOTICE

    def _prune(self, now: float) -> None:
        if now - self._last_prune < _FORGET_AFTER:
            return
        self._last_prune = now
        self._answered = {
            reader: stamps
            for reader, stamps in self._answered.items()
            if stamps and stamps[-1] > now - self.window
        }
        self._noticed &= self._answered.keys()
