"""Turns of the pace: every Bot API call of the sender waits for one, and a stop cuts any wait.

The overall turn is taken by the task that sends, just before its first call, so the time the
pace records is close to the time the request leaves. A second call of the same delivery or
revision (the text card after a refused photo, an upload) waits for a turn of its own, since
Telegram counts every call. Edits and deletions also keep to the free rate when broadcasts are
paid for: Telegram sells no paid edits.

Each call is also the last moment to ask whether this instance may still send (`may_send`, its
role in `bot.role`): an instance that lost its role while it waited (a paused machine that woke
up) makes the call no more.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from contextvars import ContextVar
from typing import Any

from telegram import Bot

from bot.pace import Pace
from bot.store import Deposed

#: Whether the running task still holds the overall turn it was given (see `Turns.for_call`).
_SPARE_TURN: ContextVar[bool] = ContextVar("newsbot_spare_turn", default=False)


class Turns:
    """The sender's calls in the pace's turns, each wait cut short by a stop."""

    def __init__(
        self,
        bot: Bot,
        pace: Pace,
        *,
        stopping: asyncio.Event,
        free_pace: Pace | None = None,
        may_send: Callable[[], bool] = lambda: True,
    ) -> None:
        """`bot` is the broadcaster's (only its calls are paced); `free_pace`, when broadcasts
        are paid for, is the free rate edits and deletions keep to; `may_send` says whether
        this instance is still the one that sends."""
        self._bot = bot
        self._may_send = may_send
        self._pace = pace
        self._stopping = stopping
        self._free_pace = free_pace

    async def unless_stopping(self, waiting: Callable[[], Awaitable[object]]) -> bool:
        """Wait for something unless a stop comes first; returns whether it completed.

        A pause for flood control can last minutes; a stop must not wait for it. The wait is
        begun only when no stop has come yet: one never begun leaves no coroutine unawaited.
        """
        if self._stopping.is_set():
            return False
        task = asyncio.ensure_future(waiting())
        stop = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait({task, stop}, return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        if task.done() and not task.cancelled():
            return True
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return False

    async def run_in_turn(
        self, chat_id: int, chat_type: str, work: Callable[[], Coroutine[Any, Any, None]]
    ) -> None:
        """Wait for the overall turn, then do the work at once.

        The turn is taken by the task that sends, just before its first call (the only thing
        that may come between is looking up an image's `file_id` in the database), so the time
        the pace records is close to the time the request leaves. Taken before the task
        started, it was off by however long a busy event loop took to start the task, and at
        1,000 messages a second that drift let more than the rate into some seconds.
        """
        if not self._pace.turn_now() and not await self.unless_stopping(self._pace.turn):
            return
        if self._pace.chat_wait(chat_id) > 0:
            return  # flood control held the chat meanwhile: a later pass offers it again
        if not self._may_send():
            return  # deposed meanwhile: the delivery stays pending for the active instance
        self._pace.claim(chat_id, chat_type)
        _SPARE_TURN.set(True)  # this task's context only: its first call uses this turn
        await work()

    async def for_call(self, bot: Bot) -> None:
        """Every Bot API call of the sender takes a turn of the overall pace.

        The first call of a delivery or revision uses the turn its task was given; a second
        one (the text card after a refused photo, an upload, a caption after a refused image)
        waits for a turn of its own, since Telegram counts every call. Replies to readers,
        made through the application's bot, are not paced here.
        """
        if bot is not self._bot:
            return
        await self._overall()
        self._still_sending()

    async def for_unpaid(self) -> None:
        """An edit or a deletion takes a turn of the overall pace, and of the free rate when
        broadcasts are paid for: Telegram sells no paid edits, and counts them all against the
        bot's one limit."""
        await self.for_reply()
        self._still_sending()

    async def for_reply(self) -> None:
        """A reply to a reader takes its turns as an edit does; any instance may reply, since
        a reply is no broadcast (with a webhook, standbys answer commands too)."""
        await self._overall()
        if self._free_pace is not None and not self._free_pace.turn_now():
            await self._free_pace.turn()

    async def _overall(self) -> None:
        if _SPARE_TURN.get():
            _SPARE_TURN.set(False)
        elif not self._pace.turn_now():
            await self._pace.turn()

    def _still_sending(self) -> None:
        """The last moment before a call of the queue's: refuse it once this instance has lost
        its role (a wait for a turn may have lasted past the lease)."""
        if not self._may_send():
            raise Deposed("this instance is no longer the active one")
