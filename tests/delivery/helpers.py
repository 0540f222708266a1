"""What the delivery tests share: recent dates, subscribed bots, and counting what chats got."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from bot.app import Newsbot
from tests.conftest import StartBot
from tests.double import TelegramDouble
from tests.helpers import eventually

#: Posts in these tests are dated an hour ago: new enough to be pushed whenever the suite runs.
RECENT = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
#: A small JPEG, as far as anyone checking its first bytes can tell.
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 2048


def recent(**meta: object) -> dict[str, object]:
    """Front matter fields with a recent date."""
    meta.setdefault("date", RECENT)
    return meta


def headlines(double: TelegramDouble, chat: int, title: str) -> int:
    """How many messages with this headline the chat has received."""
    return sum(title in text for text in double.texts_to(chat))


async def subscribe(double: TelegramDouble, *chats: int) -> None:
    """Send /start from each chat and wait for the bot's confirmation."""
    for chat in chats:
        double.send_command(chat, "/start")
    for chat in chats:
        await eventually(
            lambda c=chat: any("ubscribed" in t for t in double.texts_to(c)),
            description=f"chat {chat} subscribed",
        )


async def subscribed_bot(start_bot: StartBot, *chats: int, **overrides: object) -> Newsbot:
    """A started bot with these chats subscribed to everything (negative ids are groups)."""
    bot = await start_bot(**overrides)
    for chat in chats:
        await bot.store.subscribe(chat, "private" if chat > 0 else "supergroup", None)
    return bot


def counts_are(bot: Newsbot, expected: dict[str, int]) -> Callable[[], Awaitable[bool]]:
    """A check for `eventually`: the deliveries are in these statuses. Telegram's answer reaches
    the bot a moment after the double recorded the message, and the outcome is written after."""

    async def check() -> bool:
        return await bot.store.delivery_counts() == expected

    return check


def is_inactive(bot: Newsbot, chat: int) -> Callable[[], Awaitable[bool]]:
    """A check for `eventually`: the chat was made inactive."""

    async def check() -> bool:
        state = await bot.store.chat(chat)
        return state is not None and not state.active

    return check
