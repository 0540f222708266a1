"""When deliveries go under faults, end to end: a refused chat waits alone, a retry goes when it
is due, each chat reads its posts in the order they were queued, and a wait outlives a restart."""

from __future__ import annotations

from bot.settings import Settings
from bot.store import Store
from tests.conftest import StartBot
from tests.delivery.helpers import headlines, recent, subscribed_bot
from tests.double import TelegramDouble
from tests.double.state import RequestRecord
from tests.helpers import WritePost, eventually
from tests.postgres import each_engine

__all__ = ["each_engine"]  # every test here runs on both engines


def sends_to(double: TelegramDouble, chat: int) -> list[RequestRecord]:
    """Every sendMessage to the chat, refused ones included, in the order they arrived."""
    return [r for r in double.calls("sendMessage") if r.params.get("chat_id") == chat]


def arrival(double: TelegramDouble, chat: int, title: str) -> float:
    """When the chat's message with this headline was accepted."""
    [accepted] = [
        r for r in sends_to(double, chat) if r.status == 200 and title in str(r.params.get("text"))
    ]
    return accepted.at


async def test_a_refused_chat_waits_alone_while_the_others_go_at_full_speed(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    chats = list(range(1, 301))
    await subscribed_bot(start_bot, *chats, rate=200)  # a second and a half of sending
    for held in (150, 151):  # two chats refused within a second, in the middle of the broadcast
        double.fail_next("sendMessage", status=429, retry_after=3, chat_id=held)
    write_post("a.md", title="Story", **recent())
    others = [c for c in chats if c not in (150, 151)]
    await eventually(lambda: all(headlines(double, c, "Story") for c in others), timeout=10)
    refused = min(sends_to(double, 150)[0].at, sends_to(double, 151)[0].at)
    last_other = max(arrival(double, c, "Story") for c in others)
    assert last_other - refused < 2.5  # nobody else waited the three seconds on top
    await eventually(lambda: all(headlines(double, c, "Story") for c in (150, 151)), timeout=8)
    for held in (150, 151):
        first, second = sends_to(double, held)
        assert first.status == 429 and second.at - first.at >= 2.9  # retry_after obeyed


async def test_a_retry_goes_when_due_and_each_chat_reads_its_posts_in_queued_order(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    chats = list(range(1, 41))
    await subscribed_bot(start_bot, *chats, rate=20)  # two posts: four seconds of sending
    double.fail_next("sendMessage", status=502, chat_id=1)  # backs off
    double.fail_next("sendMessage", status=429, retry_after=1, chat_id=2)  # waits a second
    write_post("a.md", title="First story", **recent())
    await eventually(lambda: len(double.calls("sendMessage")) >= 3)
    write_post("b.md", title="Second story", **recent())
    await eventually(lambda: all(headlines(double, c, "Second story") for c in chats), timeout=15)
    for chat, due_after in ((1, 0.0), (2, 1.0)):
        refused = sends_to(double, chat)[0]
        assert refused.status in (502, 429)
        # Due after its backoff (at most 0.2 s here) or retry_after, and the chat's one second;
        # the pass over the queue takes four.
        assert arrival(double, chat, "First story") - refused.at < due_after + 1.05 + 1.0
    for chat in chats:
        assert double.texts_to(chat)[0].count("First story") == 1, chat
        assert "Second story" in double.texts_to(chat)[1], chat


async def test_a_chats_wait_outlives_a_restart(
    double: TelegramDouble,
    start_bot: StartBot,
    write_post: WritePost,
    bot_settings: Settings,
) -> None:
    bot = await subscribed_bot(start_bot, 1, 2)
    double.fail_next("sendMessage", status=429, retry_after=3, chat_id=1)
    write_post("a.md", title="First story", **recent())
    await eventually(lambda: headlines(double, 2, "First story") == 1)

    async def kept() -> bool:
        return 1 in await bot.store.waiting_chats(0)

    await eventually(kept)
    await bot.stop()
    write_post("b.md", title="Second story", **recent())  # queued for chat 1 too, behind
    await start_bot()
    await eventually(lambda: headlines(double, 1, "Second story") == 1, timeout=10)
    refused, *delivered = sends_to(double, 1)
    assert refused.status == 429
    assert [r.status for r in delivered] == [200, 200]
    assert all(r.at - refused.at >= 2.9 for r in delivered)  # no early send after the restart
    assert "First story" in str(delivered[0].params["text"])
    store = await Store.open(bot_settings.database)
    assert await store.waiting_chats(0) == {}
    await store.close()
