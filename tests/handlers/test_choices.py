"""End to end: readers' choices against the Bot API double, in English and Thai: word filters,
quiet hours, forum topics, digests (with an injected clock) and the settings keyboard."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.store import URGENT
from tests.conftest import StartBot
from tests.double import TelegramDouble
from tests.handlers.chat import ADMIN, ago, cards, handled, publish, reply, settled
from tests.helpers import WritePost, eventually

FORUM = -1005001


def sends_to(double: TelegramDouble, chat: int) -> list[dict[str, Any]]:
    """Parameters of each message the bot sent to a chat."""
    return [r.params for r in double.sent if r.chat_id == chat and r.method.startswith("send")]


async def test_mute_and_only_keep_posts_out_for_good_and_apply_to_latest(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await start_bot(subscribe_backlog=0)
    double.send_command(60, "/start")
    await reply(double, 60, "Subscribed")
    double.send_command(60, "/mute Football")
    await reply(double, 60, "Muted: football")
    double.send_command(61, "/start", language_code="th")
    await handled(double, 61, "/only น้ำท่วม", language_code="th")
    assert "น้ำท่วม" in (await reply(double, 61, "เฉพาะข่าวที่มี"))
    write_post("f.md", title="World one", category="WORLD", date=ago(30), tags=["football"])
    write_post("r.md", title="Business one", category="BUSINESS", date=ago(20))
    write_post("t.md", title="Thai one", category="THAILAND", date=ago(10), language="th",
               body="น้ำท่วมหนักในเชียงใหม่")  # fmt: skip
    bot.rescan()
    await eventually(lambda: len(cards(double, 60)) == 2 and len(cards(double, 61)) == 1)
    await settled(bot)
    assert sorted(cards(double, 60)) == ["Business one", "Thai one"]  # the football tag: muted
    assert cards(double, 61) == ["Thai one"]
    counts = await bot.store.delivery_counts("f")
    assert counts == {"cancelled": 2}  # handled for chats 60 and 61: never sent later

    double.send_command(60, "/latest")
    await eventually(lambda: len(cards(double, 60)) == 4)
    assert cards(double, 60)[2:] == ["Thai one", "Business one"]
    double.send_command(60, "/filters")
    shown = await reply(double, 60, "Word filters of this chat")
    assert "football" in shown
    message = next(m for m in reversed(double.messages_to(60)) if "reply_markup" in m)
    double.press_button(60, message["message_id"], "set:f")
    await eventually(lambda: "Tap to change" in (double.texts_to(60)[-1]))
    assert (await bot.store.choices(60)).muted == ()


async def test_quiet_hours_are_silent_unless_breaking_news_may_ring(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await start_bot(subscribe_backlog=0)
    now = datetime.now(UTC)
    start = (now - timedelta(hours=1)).strftime("%H:%M")
    end = (now + timedelta(hours=1)).strftime("%H:%M")
    double.send_command(62, "/start")
    await reply(double, 62, "Subscribed")
    double.send_command(62, f"/quiet {start}-{end}")
    await reply(double, 62, "Quiet hours")
    await publish(bot, write_post, [("q0", "Business one", "BUSINESS", 6, "en"),
                                    ("q1", "World one", "WORLD", 5, "en")])  # fmt: skip
    await eventually(lambda: sorted(cards(double, 62)) == ["Business one", "World one"])
    assert all(sent.get("disable_notification") is True for sent in sends_to(double, 62)[2:])
    # Breaking news (urgent) rings in quiet hours where the chat allowed it, and only there.
    for chat, breaking in ((64, "on"), (65, "off")):
        double.send_command(chat, "/start business")
        double.send_command(chat, f"/quiet {start}-{end}")
        double.send_command(chat, f"/quiet breaking {breaking}")
        await reply(double, chat, "Breaking news")
    await publish(bot, write_post, [("q2", "World two", "WORLD", 1, "en")])
    assert await bot.store.push("q2", "x", category=None, priority=URGENT) == 2
    bot.sender.wake()
    await eventually(lambda: cards(double, 64) == cards(double, 65) == ["World two"])
    assert not sends_to(double, 64)[-1].get("disable_notification")
    assert sends_to(double, 65)[-1].get("disable_notification") is True
    double.send_command(63, "/start", language_code="th")
    double.send_command(63, "/quiet 22:00-07:00", language_code="th")
    await reply(double, 63, "ช่วงเวลาเงียบ 22:00–07:00 (UTC)")
