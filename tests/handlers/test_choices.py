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
#: A group gets one message every three seconds (Telegram's 20 a minute): waits cover several.
PACED = 45.0


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


async def test_forum_topics_route_categories_and_survive_a_closed_topic(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await start_bot(subscribe_backlog=0)
    double.forum_chats.add(FORUM)
    double.set_member_status(FORUM, ADMIN, "administrator")
    await publish(bot, write_post, [("w0", "World one", "WORLD", 60, "en"),
                                    ("b0", "Business one", "BUSINESS", 50, "en")])  # fmt: skip
    double.send_command(FORUM, "/start", user_id=ADMIN)
    await reply(double, FORUM, "Subscribed")
    desk = double.open_topic(FORUM, "World desk")
    double.send_command(FORUM, "/here world", user_id=ADMIN, thread_id=desk)
    await reply(double, FORUM, "This topic now receives WORLD")
    assert double.messages_to(FORUM)[-1].get("message_thread_id") == desk  # answered there
    await publish(bot, write_post, [("w1", "World two", "WORLD", 5, "en"),
                                    ("b1", "Business two", "BUSINESS", 4, "en")])  # fmt: skip
    await eventually(lambda: sorted(cards(double, FORUM)) == ["Business two", "World two"], PACED)
    threads = {m["text"].split("\n")[1]: m.get("message_thread_id")
               for m in double.messages_to(FORUM) if "\n" in m["text"]}  # fmt: skip
    assert threads["World two"] == desk and threads["Business two"] is None  # General

    double.close_topic(FORUM, desk)
    await publish(bot, write_post, [("w2", "World three", "WORLD", 3, "en")])
    await eventually(lambda: "World three" in cards(double, FORUM), PACED)
    notice = await reply(double, FORUM, "was closed or deleted", PACED)
    assert "world" in notice and "หัวข้อทั่วไป" in notice  # English and Thai
    last = next(m for m in reversed(double.messages_to(FORUM)) if "World three" in m["text"])
    assert "message_thread_id" not in last  # re-sent to General: nothing lost
    await publish(bot, write_post, [("w3", "World four", "WORLD", 2, "en")])
    await eventually(lambda: "World four" in cards(double, FORUM), PACED)
    await settled(bot)
    assert sum("was closed or deleted" in t for t in double.texts_to(FORUM)) == 1  # told once
    assert (await bot.store.chat(FORUM)) is not None and (await bot.store.chat(FORUM)).active


async def test_topics_created_per_category_and_a_deleted_one_falls_back(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await start_bot(subscribe_backlog=0)
    double.forum_chats.add(FORUM)
    double.set_member_status(FORUM, ADMIN, "administrator")
    await publish(bot, write_post, [("w0", "World one", "WORLD", 60, "en"),
                                    ("b0", "Business one", "BUSINESS", 50, "en")])  # fmt: skip
    double.send_command(FORUM, "/start", user_id=ADMIN, language_code="th")
    double.send_command(FORUM, "/topics create", user_id=ADMIN, language_code="th")
    await reply(double, FORUM, "บอทจัดการหัวข้อในกลุ่มนี้ไม่ได้")  # not allowed to manage topics
    double.topic_managers.add(FORUM)
    double.send_command(FORUM, "/topics create", user_id=ADMIN)
    await reply(double, FORUM, "Topics created for")
    made = {t["name"]: thread for (chat, thread), t in double.topics.items() if chat == FORUM}
    assert made.keys() == {"WORLD", "BUSINESS"}
    double.send_command(FORUM, "/topics general off", user_id=ADMIN)
    await reply(double, FORUM, "not sent to this group")
    double.delete_topic(FORUM, made["BUSINESS"])
    await publish(bot, write_post, [("w1", "World two", "WORLD", 5, "en"),
                                    ("b1", "Business two", "BUSINESS", 4, "en")])  # fmt: skip
    await eventually(lambda: sorted(cards(double, FORUM)) == ["Business two", "World two"], PACED)
    threads = {m["text"].split("\n")[1]: m.get("message_thread_id")
               for m in double.messages_to(FORUM) if m["text"].count("\n") > 2}  # fmt: skip
    assert threads == {"World two": made["WORLD"], "Business two": None}
    await reply(double, FORUM, "was closed or deleted", PACED)


async def test_a_digest_goes_when_due_by_the_clock_once_and_survives_a_restart(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await start_bot(subscribe_backlog=0)
    at = (datetime.now(UTC) + timedelta(hours=2)).strftime("%H:%M")
    double.send_command(70, "/start")
    double.send_command(70, f"/digest daily {at}")
    await reply(double, 70, f"a digest every day at {at}")
    double.send_command(71, "/start", language_code="th")
    double.send_command(71, "/digest hourly", language_code="th")
    await reply(double, 71, "สรุปข่าวทุกชั่วโมง")
    await publish(bot, write_post, [("d1", "World one", "WORLD", 30, "en"),
                                    ("d2", "Business one", "BUSINESS", 20, "en")])  # fmt: skip
    digests = bot.sender.digests
    checks = digests.checks
    digests.poke()
    await eventually(lambda: digests.checks > checks)  # a check was made at this hour
    assert cards(double, 70) == [] and not any("Your digest" in t for t in double.texts_to(70))

    digests.clock = lambda: time.time() + 3 * 3600  # past both digests' times
    digests.poke()
    text = await reply(double, 70, "Your digest: 2 posts")
    assert text.index("Business one") < text.index("World one")  # newest first
    await reply(double, 71, "สรุปข่าวของคุณ: 2 ข่าว")
    counts = await bot.store.delivery_counts("d1")
    assert counts == {"sent": 2}  # delivered to both chats, in their digests

    await bot.stop()
    bot = await start_bot(subscribe_backlog=0)
    bot.sender.digests.clock = lambda: time.time() + 30 * 3600
    checks = bot.sender.digests.checks
    bot.sender.digests.poke()
    await eventually(lambda: bot.sender.digests.checks > checks)
    assert sum("Your digest" in t for t in double.texts_to(70)) == 1  # never twice


async def test_the_settings_keyboard_edits_one_message(
    double: TelegramDouble, start_bot: StartBot
) -> None:
    bot = await start_bot(subscribe_backlog=0)
    double.send_command(72, "/start")
    double.send_command(72, "/settings")
    await reply(double, 72, "Tap to change")
    message = double.messages_to(72)[-1]

    def ticked(data: str) -> bool:
        shown = double.live_message(72, message["message_id"]) or {}
        rows = shown.get("reply_markup", {}).get("inline_keyboard", [])
        return any(b["callback_data"] == data and b["text"][0] == "✅" for r in rows for b in r)

    for data in ("set:m:hourly", "set:q:22:00-07:00", "set:b", "set:z:Asia/Bangkok"):
        double.press_button(72, message["message_id"], data)
        await eventually(lambda d=data: ticked(d))  # type: ignore[misc]
    choices = await bot.store.choices(72)
    assert (choices.mode, choices.quiet, choices.breaking_in_quiet, choices.time_zone) == (
        "hourly", ("22:00", "07:00"), True, "Asia/Bangkok")  # fmt: skip
    assert len(double.messages_to(72)) == 2  # the answer to /start, and the one edited
    double.press_button(72, message["message_id"], "set:c")
    await eventually(lambda: "no categories yet" in double.texts_to(72)[-1])  # none published
