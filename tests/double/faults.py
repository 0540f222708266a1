"""Fault injection: errors, slow answers and flood control, as Telegram produces them.

Queued faults (`fail_next`, `server_error_next`, `delay_next`) answer the next calls of one
method, optionally for one chat only, and are used up as they fire. Scattered faults
(`scatter_faults`) answer a random share of sends with 429 or 5xx, as a busy Telegram does with
no limit exceeded; a chat sent to again before its `retry_after` is refused again and counted
in `early_sends`. Flood control is a sliding
window per second overall and per chat (per minute in groups), answering 429 with
`retry_after` the way Telegram does; only sends that go through count against it.
"""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass
from http import HTTPStatus

from tests.double.chats import ChatsMixin
from tests.double.wire import ApiError, JSONDict


@dataclass
class _Failure:
    method: str
    status: int
    description: str
    parameters: JSONDict | None
    remaining: int
    chat_id: int | str | None = None


@dataclass
class _Delay:
    method: str
    seconds: float
    remaining: int
    drop: bool


@dataclass(frozen=True)
class _Scattered:
    refused: float
    server_errors: float
    retry_after: tuple[int, int]
    pick: random.Random


@dataclass(frozen=True)
class _FloodLimits:
    global_per_second: int
    private_per_second: int
    group_per_minute: int
    paid_per_second: int


class FaultsMixin(ChatsMixin):
    """Faults a test queues or switches on; each applies from the next request."""

    def __init__(self) -> None:
        """No faults queued and flood control off."""
        super().__init__()
        self.flood_errors = 0
        self._failures: list[_Failure] = []
        self._delays: list[_Delay] = []
        self._flood: _FloodLimits | None = None
        self._flood_global: deque[float] = deque()
        self._flood_chats: dict[int, deque[float]] = {}
        self._scattered: _Scattered | None = None
        self._held_until: dict[object, float] = {}
        self.early_sends = 0
        """Sends to a chat before the `retry_after` it was given had passed."""

    def fail_next(
        self,
        method: str,
        *,
        status: int,
        description: str | None = None,
        retry_after: int | None = None,
        migrate_to: int | None = None,
        times: int = 1,
        chat_id: int | str | None = None,
    ) -> None:
        """Queues ``times`` error answers for ``method`` (optionally only for one chat)."""
        parameters: JSONDict = {}
        if retry_after is not None:
            parameters["retry_after"] = retry_after
        if migrate_to is not None:
            parameters["migrate_to_chat_id"] = migrate_to
        if description is None:
            if retry_after is not None:
                description = f"Too Many Requests: retry after {retry_after}"
            elif migrate_to is not None:
                description = "Bad Request: group chat was upgraded to a supergroup chat"
            else:
                description = HTTPStatus(status).phrase
        self._failures.append(
            _Failure(method.lower(), status, description, parameters or None, times, chat_id)
        )

    def server_error_next(self, method: str, times: int = 1, status: int = 502) -> None:
        """Queues gateway-style failures (PTB raises NetworkError) for ``method``."""
        self.fail_next(method, status=status, description=HTTPStatus(status).phrase, times=times)

    def delay_next(
        self, method: str, seconds: float, times: int = 1, *, drop: bool = False
    ) -> None:
        """Delays the answer to trigger client timeouts.

        The call is still carried out (and recorded) before the pause, as Telegram may deliver
        a message whose answer never arrives. With ``drop=True`` it is not carried out and the
        late answer is 504 Gateway Timeout.
        """
        self._delays.append(_Delay(method.lower(), seconds, times, drop))

    def enforce_flood_limits(
        self,
        global_per_second: int = 30,
        private_per_second: int = 1,
        group_per_minute: int = 20,
        paid_per_second: int = 1000,
    ) -> None:
        """Switches on sliding-window flood control for send* methods (429 + retry_after).

        `paid_per_second` replaces the overall limit for messages sent with
        `allow_paid_broadcast`, as Telegram does.
        """
        self._flood = _FloodLimits(
            global_per_second, private_per_second, group_per_minute, paid_per_second
        )
        self._flood_global.clear()
        self._flood_chats.clear()

    def scatter_faults(
        self,
        *,
        refused: float = 0.0,
        server_errors: float = 0.0,
        retry_after: tuple[int, int] = (1, 3),
        seed: int = 18,
    ) -> None:
        """Answers a random share of send* calls with 429 (`retry_after` seconds drawn from the
        range) and another with 502, reproducibly for a given `seed`."""
        self._scattered = _Scattered(refused, server_errors, retry_after, random.Random(seed))

    def disable_flood_limits(self) -> None:
        """Switches flood control off again."""
        self._flood = None

    def _take_failure(self, method: str, chat_id: object) -> ApiError | None:
        held = self._held_until.get(chat_id)
        if held is not None:
            if self._clock() < held:
                self.early_sends += 1
                wait = max(1, math.ceil(held - self._clock()))
                return ApiError(
                    429, f"Too Many Requests: retry after {wait}", {"retry_after": wait}
                )
            del self._held_until[chat_id]
        scattered = self._scattered
        if scattered is not None and method.lower().startswith("send"):
            roll = scattered.pick.random()
            if roll < scattered.refused:
                wait = scattered.pick.randint(*scattered.retry_after)
                self._held_until[chat_id] = self._clock() + wait
                return ApiError(
                    429, f"Too Many Requests: retry after {wait}", {"retry_after": wait}
                )
            if roll < scattered.refused + scattered.server_errors:
                return ApiError(502, "Bad Gateway")
        for failure in self._failures:
            if failure.method != method.lower():
                continue
            if failure.chat_id is not None and failure.chat_id != chat_id:
                continue
            failure.remaining -= 1
            if failure.remaining <= 0:
                self._failures.remove(failure)
            return ApiError(failure.status, failure.description, failure.parameters)
        return None

    def _take_delay(self, method: str) -> _Delay | None:
        for delay in self._delays:
            if delay.method == method.lower():
                delay.remaining -= 1
                if delay.remaining <= 0:
                    self._delays.remove(delay)
                return delay
        return None

    def _check_flood(self, chat_id: int, params: JSONDict) -> None:
        """Sliding windows like Telegram's limits; counts only sends that go through."""
        limits = self._flood
        if limits is None:
            return
        now = self._clock()
        paid = params.get("allow_paid_broadcast")
        global_limit = limits.paid_per_second if paid else limits.global_per_second
        if self.chat_type(chat_id) == "private":
            window, chat_limit = 1.0, limits.private_per_second
        else:
            window, chat_limit = 60.0, limits.group_per_minute
        per_chat = self._flood_chats.setdefault(chat_id, deque())
        waits: list[float] = []
        for stamps, span, limit in (
            (self._flood_global, 1.0, global_limit),
            (per_chat, window, chat_limit),
        ):
            while stamps and stamps[0] <= now - span:
                stamps.popleft()
            if len(stamps) >= limit:
                waits.append(stamps[-limit] + span - now)
        if waits:
            self.flood_errors += 1
            retry_after = max(1, math.ceil(max(waits)))
            raise ApiError(
                429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
            )
        self._flood_global.append(now)
        per_chat.append(now)
