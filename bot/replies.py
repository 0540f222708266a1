"""Replies that meet Telegram's flood control wait it out and go, rather than being lost.

Replies take turns of the bot's overall pace (`Sender.reply_turn`), so Telegram rarely refuses
one. When it does (a busy second shared with a full-rate broadcast, a group's own limit), the
reader is waiting for that answer: it is sent again once Telegram's `retry_after` has passed,
twice at most, and only when the wait is short. A longer wait or any other error goes to the
handler as before. This is python-telegram-bot's own hook for every call of the application's
bot (`BaseRateLimiter`), so no handler has to remember it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.telegram_errors import retry_after_seconds

#: Tries of one call in all; a refusal asking for a longer wait than this is not waited out.
ATTEMPTS = 3
LONGEST_WAIT = 10.0

Answer = bool | dict[str, Any] | list[dict[str, Any]]


class WaitOutFloodControl(BaseRateLimiter[None]):
    """Sends a refused reply again after Telegram's short `retry_after`."""

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Answer]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> Answer:
        """Make the call; after a short flood-control refusal, wait and make it again."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                wait = retry_after_seconds(exc.retry_after)
                if attempt == ATTEMPTS or wait > LONGEST_WAIT:
                    raise
                await asyncio.sleep(wait)
        raise AssertionError("unreachable")  # the last attempt returns or raises
