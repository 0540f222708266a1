"""What every part of the double shares: the bot's identity, the clock, and the records.

The double is one object composed of parts (chats, faults, files, messages, updates, command
menus, the server), each a mixin keeping its own state. This base holds what they all use:
records are plain lists in call order, so tests can assert on them directly, and each carries
the clock's time so pacing can be measured.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import NamedTuple

from tests.double.wire import JSONDict


class SentRecord(NamedTuple):
    """One successful send/edit/delete, with a snapshot of the message as it was then."""

    method: str
    chat_id: int
    params: JSONDict
    message: JSONDict | None
    at: float


class RequestRecord(NamedTuple):
    """Every API call, failed ones included, so tests can assert on retries and errors."""

    method: str
    params: JSONDict
    status: int
    response: JSONDict
    at: float


class DoubleState:
    """The base every part of `TelegramDouble` builds on."""

    #: The bot as getMe describes it; set by `TelegramDouble`'s constructor.
    bot_user: JSONDict
    #: Drives flood windows and record times (`time.monotonic` unless a test passes its own).
    _clock: Callable[[], float]

    def __init__(self) -> None:
        """Empty records; each part's own `__init__` adds the state it keeps."""
        self.sent: list[SentRecord] = []
        self.requests: list[RequestRecord] = []
        self.internal_errors: list[str] = []
        self._ids = itertools.count(1)  # unique numbers for file and callback query ids
        self._closing = asyncio.Event()  # set when the server stops: whatever waits, wakes
        self._port: int | None = None

    def calls(self, method: str) -> list[RequestRecord]:
        """All requests to ``method`` (case-insensitive), failed ones included."""
        return [r for r in self.requests if r.method.lower() == method.lower()]

    @property
    def port(self) -> int:
        """The bound port; only valid while running."""
        if self._port is None:
            raise RuntimeError("TelegramDouble is not running; call start() first")
        return self._port

    @property
    def url(self) -> str:
        """Root URL of the server."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url()``; PTB appends the token and ``/method``."""
        return f"{self.url}/bot"

    @property
    def file_base_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url()``; PTB appends token and file path."""
        return f"{self.url}/file/bot"
