"""End to end: the real bot against the Bot API double, delivering posts through faults."""

from __future__ import annotations

from bot.store import Status
from tests.conftest import StartBot
from tests.helpers import WritePost
from tests.telegram_double import TelegramDouble

RECENT = "2026-11-25T06:00:00Z"


def recent(**meta: object) -> dict[str, object]:
    meta.setdefault("date", RECENT)
    return meta


async def subscribe(double: TelegramDouble, *chats: int) -> None:
    """Send /start from each chat and wait for the bot's confirmation."""
    for chat in chats:
        double.send_command(chat, "/start")
    for chat in chats:
        await double.wait_for(lambda c=chat: any("ubscribed" in t for t in double.texts_to(c)))


def headlines(double: TelegramDouble, chat: int, title: str) -> int:
    """How many messages with this headline the chat has received."""
    return sum(title in text for text in double.texts_to(chat))


async def test_new_post_reaches_every_subscriber_once(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    write_post("old.md", title="Archive story", date=RECENT)
    bot = await start_bot()
    await subscribe(double, 1, 2, -1001)
    write_post("new.md", title="Fresh story", **recent())
    for chat in (1, 2, -1001):
        await double.wait_for(lambda c=chat: headlines(double, c, "Fresh story") == 1)
    bot.rescan()
    await double.wait_for(lambda: bot.library.get("new") is not None)
    assert all(headlines(double, c, "Archive story") == 0 for c in (1, 2, -1001))
    assert await bot.store.delivery_counts() == {Status.SENT: 3}
