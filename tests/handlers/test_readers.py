"""End to end: readers' commands in private chats, against the Bot API double.

Each test runs the real bot. Posts are written after it started, so they are pushed (and so
qualify for a new subscriber's backlog) rather than archived as the first start's archive is.
"""

from __future__ import annotations

from typing import Any

from bot.store import ALL
from tests.conftest import StartBot
from tests.double import TelegramDouble
from tests.handlers.chat import (
    NEWSROOM,
    ago,
    cards,
    categories_of,
    finish,
    handled,
    keyboard,
    newsroom,
    publish,
    replies,
    reply,
    settled,
    ticked,
)
from tests.helpers import WritePost, eventually


async def test_start_subscribes_sends_the_newest_post_and_welcomes_back(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await newsroom(start_bot, write_post)
    double.send_command(1, "/start")
    text = await reply(double, 1, "Subscribed")
    assert "all categories" in text and "/categories" in text
    await eventually(lambda: cards(double, 1) == ["World three"])  # the backlog of one
    assert await categories_of(bot, 1) == {ALL}

    double.send_command(1, "/start")
    await reply(double, 1, "already subscribed")
    double.send_command(1, "/stop")
    await reply(double, 1, "Unsubscribed")
    assert await categories_of(bot, 1) is None
    double.send_command(1, "/stop")
    await reply(double, 1, "was not subscribed")
    double.send_command(1, "/start")
    await reply(double, 1, "Welcome back")
    await handled(double, 1)  # the /start before it has queued what it would
    await settled(bot)
    assert cards(double, 1) == ["World three"]  # the backlog is never sent twice


async def test_deep_link_subscribes_to_the_category_it_names(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await newsroom(start_bot, write_post)
    double.send_command(2, "/start business")  # what t.me/<bot>?start=business sends
    text = await reply(double, 2, "Subscribed")
    assert "BUSINESS" in text and "all categories" not in text
    await eventually(lambda: cards(double, 2) == ["Business two"])
    assert await categories_of(bot, 2) == {"business"}

    double.send_command(3, "/start world-asia_pacific")  # several, joined with "-"
    await reply(double, 3, "Subscribed")
    assert await categories_of(bot, 3) == {"world", "asia_pacific"}

    double.send_command(4, "/start nosuch")
    text = await reply(double, 4, "Subscribed")
    assert "I do not know nosuch" in text and "all categories" in text


async def test_latest_sends_the_pushed_cards_newest_first(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await newsroom(start_bot, write_post, NEWSROOM[:-1])
    await bot.store.subscribe(50, "private", None)
    await publish(bot, write_post, NEWSROOM[-1:])  # pushed to chat 50 by the broadcast
    await eventually(lambda: cards(double, 50) == ["World three"])

    double.send_command(5, "/latest")
    newest = ["World three", "Business two", "Thai one", "Asia one", "World two"]
    await eventually(lambda: cards(double, 5) == newest)
    pushed, answered = double.messages_to(50)[0], double.messages_to(5)[0]
    for field in ("text", "entities", "reply_markup", "link_preview_options"):
        assert answered.get(field) == pushed.get(field)

    double.send_command(6, "/latest 2")
    await eventually(lambda: cards(double, 6) == newest[:2])
    double.send_command(7, "/latest world 2")
    await eventually(lambda: cards(double, 7) == ["World three", "World two"])
    double.send_command(8, "/latest 2 #Asia Pacific")
    await eventually(lambda: cards(double, 8) == ["Asia one"])
    double.send_command(9, "/latest nosuch")
    text = await reply(double, 9, "I do not know nosuch")
    assert "/world" in text and "/asia_pacific" in text
    assert cards(double, 9) == []  # that answer is the handler's last word


async def test_latest_sends_at_most_ten(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    stories = tuple((f"s{n}", f"Story {n}", "WORLD", 100 - n, "en") for n in range(12))
    bot = await newsroom(start_bot, write_post, stories)
    double.send_command(10, "/latest 50")
    expected = [f"Story {n}" for n in range(11, 1, -1)]
    await eventually(lambda: cards(double, 10) == expected)
    await finish(bot, double)
    assert len(cards(double, 10)) == 10


async def test_replies_overtake_a_broadcast_in_progress(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await newsroom(start_bot, write_post, rate=30)
    chats = range(3000, 3090)  # three seconds of sending at 30 messages a second
    for chat in chats:
        await bot.store.subscribe(chat, "private", None)
    write_post("big.md", title="Story 1", category="WORLD", date=ago(1), language="en")
    bot.rescan()
    await eventually(lambda: any(cards(double, c) for c in chats))
    double.send_command(41, "/latest 2")
    double.send_command(42, "/start")
    await eventually(lambda: cards(double, 41) == ["Story 1", "World three"], timeout=2)
    await reply(double, 42, "Subscribed", timeout=2)
    assert sum(cards(double, c) == ["Story 1"] for c in chats) < len(chats)  # still going
    # The new subscriber's first post is queued ahead of the rest of the broadcast.
    await eventually(lambda: cards(double, 42) == ["Story 1"], timeout=8)


async def test_a_crowd_asking_for_the_latest_is_answered_at_telegrams_pace(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await newsroom(start_bot, write_post, rate=30)
    # Telegram's overall limit is strict; one chat may take a short burst (a /latest's cards).
    double.enforce_flood_limits(global_per_second=30, private_per_second=10)
    crowd = range(5000, 5060)  # 180 messages: six seconds' worth at 30 a second
    for chat in crowd:
        double.send_command(chat, "/latest 2")
        double.send_command(chat, "/help")  # answers in text keep to the same pace
    await eventually(
        lambda: all(cards(double, c) == ["World three", "Business two"] for c in crowd),
        timeout=20,
        description="every reader's two cards",
    )
    await eventually(lambda: all(len(replies(double, c)) == 1 for c in crowd), timeout=10)
    assert double.flood_errors == 0  # not one send refused for going too fast
    double.send_command(6000, "/latest 5")  # a lone reader's cards go at once
    await eventually(lambda: len(cards(double, 6000)) == 5, timeout=2)
    await finish(bot, double)
    assert double.flood_errors == 0


async def test_an_empty_newsroom_says_so(double: TelegramDouble, start_bot: StartBot) -> None:
    await start_bot()
    double.send_command(11, "/latest")
    await reply(double, 11, "Nothing has been published yet")
    double.send_command(11, "/categories")
    await reply(double, 11, "There are no categories yet")


async def test_categories_keyboard_toggles_in_place(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await newsroom(start_bot, write_post, subscribe_backlog=0)
    double.send_command(20, "/start")
    await reply(double, 20, "Subscribed")
    double.send_command(20, "/categories")
    await reply(double, 20, "Choose what this chat receives")
    message_id, rows = keyboard(double, 20)
    every = {"cat:asia_pacific", "cat:business", "cat:thailand", "cat:world", "cat:*"}
    assert ticked(rows) == every
    assert sum(len(row) for row in rows) == 6 and all(len(row) <= 2 for row in rows)

    async def pressed(data: str, expected: set[str]) -> None:
        answers = len(double.callback_answers)
        double.press_button(20, message_id, data)
        await eventually(lambda: ticked(keyboard(double, 20)[1]) == expected)
        await eventually(lambda: len(double.callback_answers) > answers)
        assert keyboard(double, 20)[0] == message_id  # the same message, edited

    await pressed("cat:world", {"cat:asia_pacific", "cat:business", "cat:thailand"})
    assert await categories_of(bot, 20) == {"asia_pacific", "business", "thailand"}
    await pressed("cat:-", {"cat:-"})
    assert await categories_of(bot, 20) == frozenset()
    await pressed("cat:business", {"cat:business"})
    await pressed("cat:*", every)
    assert await categories_of(bot, 20) == {ALL}

    double.send_command(20, "/settings")  # every choice; its "Categories…" shows this keyboard
    await eventually(lambda: "Tap to change" in double.texts_to(20)[-1])
    settings = double.messages_to(20)[-1]["message_id"]
    double.press_button(20, settings, "set:c")
    await eventually(lambda: keyboard(double, 20)[0] == settings)
    assert ticked(keyboard(double, 20)[1]) == every


async def test_keyboard_of_a_category_that_disappeared_is_stale(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost, content: Any
) -> None:
    bot = await newsroom(start_bot, write_post, NEWSROOM[:2])
    double.send_command(21, "/categories")
    await reply(double, 21, "Choose what this chat receives")
    message_id, _ = keyboard(double, 21)
    (content / "b1.md").unlink()
    bot.rescan()
    await eventually(lambda: "business" not in bot.library.categories)
    double.press_button(21, message_id, "cat:business")
    await eventually(
        lambda: any("out of date" in a.get("text", "") for a in double.callback_answers)
    )
    assert await bot.store.chat(21) is None


async def test_subscribe_unsubscribe_and_stop_by_name(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await newsroom(start_bot, write_post)
    double.send_command(22, "/subscribe world Asia Pacific")
    text = await reply(double, 22, "now receives")
    assert "WORLD" in text and "Asia Pacific" in text
    assert await categories_of(bot, 22) == {"world", "asia_pacific"}
    await eventually(lambda: cards(double, 22) == ["World three"])  # a new subscriber

    async def answer(command: str) -> str:
        """Send a command from chat 22 and wait for its one reply."""
        return await handled(double, 22, command)

    await answer("/subscribe #business")
    assert await categories_of(bot, 22) == {"world", "asia_pacific", "business"}
    assert "I do not know sport" in await answer("/subscribe sport")
    assert await categories_of(bot, 22) == {"world", "asia_pacific", "business"}
    text = await answer("/unsubscribe world asia_pacific")
    assert text == "This chat now receives BUSINESS."
    assert "all categories" in await answer("/subscribe all")
    text = await answer("/unsubscribe thailand")
    assert text == "This chat now receives Asia Pacific, BUSINESS, WORLD."
    assert await categories_of(bot, 22) == {"world", "asia_pacific", "business"}
    assert "no category" in await answer("/unsubscribe all")
    assert await categories_of(bot, 22) == frozenset()

    double.send_command(23, "/subscribe")  # no category: the keyboard
    await reply(double, 23, "Choose what this chat receives")  # chat 22's commands are done
    await settled(bot)
    assert cards(double, 22) == ["World three"]  # only a new subscriber gets the backlog
    double.send_command(23, "/unsubscribe world")
    await reply(double, 23, "was not subscribed")


async def test_new_subscribers_get_the_configured_backlog_oldest_first(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await newsroom(start_bot, write_post, subscribe_backlog=2)
    double.send_command(24, "/start world")
    double.send_command(25, "/start")
    await eventually(lambda: cards(double, 24) == ["World two", "World three"])
    await eventually(
        lambda: cards(double, 25) == ["Business two", "World three"],
        description=f"chat 25's backlog, which is {cards(double, 25)}",
    )
    write_post("w4.md", title="World four", category="WORLD", date=ago(1), language="en")
    bot.rescan()  # then only new posts
    await eventually(lambda: cards(double, 24)[-1:] == ["World four"])
    await settled(bot)
    assert cards(double, 24) == ["World two", "World three", "World four"]


async def test_backlog_comes_from_the_archive_too_and_only_once(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    write_post("old.md", title="World one", category="WORLD", date=ago(10), language="en")
    bot = await start_bot()  # the first start: the folder's posts are the archive, never broadcast
    double.send_command(26, "/start")
    await reply(double, 26, "Subscribed")
    # ...but a new reader asked for the newest story, and on a fresh install that is archived.
    await eventually(lambda: cards(double, 26) == ["World one"])
    double.send_command(26, "/start")
    await reply(double, 26, "already subscribed")
    await handled(double, 26)  # the /start before it has queued what it would
    await settled(bot)
    assert cards(double, 26) == ["World one"]


async def test_article_languages_filter_what_a_chat_receives(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await newsroom(start_bot, write_post, subscribe_backlog=0)
    double.send_command(30, "/language")
    text = await reply(double, 30, "every language")
    assert "en, th" in text
    double.send_command(30, "/language th")
    await reply(double, 30, "/start first")
    double.send_command(30, "/start")
    await reply(double, 30, "Subscribed")
    double.send_command(30, "/language th")
    await reply(double, 30, "now receives articles in th")
    chat = await bot.store.chat(30)
    assert chat is not None and chat.languages == {"th"}
    double.send_command(30, "/language klingon!")
    await reply(double, 30, "not a language code")

    double.send_command(30, "/latest")
    await eventually(lambda: cards(double, 30) == ["Thai one"])
    write_post("w4.md", title="World four", category="WORLD", date=ago(2), language="en")
    write_post("t2.md", title="Thai two", category="THAILAND", date=ago(1), language="th")
    bot.rescan()
    await eventually(lambda: cards(double, 30) == ["Thai one", "Thai two"])
    await settled(bot)  # World four, queued with Thai two, would have come by now
    assert cards(double, 30) == ["Thai one", "Thai two"]

    double.send_command(30, "/language all")
    await reply(double, 30, "now receives articles in every language")
    chat = await bot.store.chat(30)
    assert chat is not None and chat.languages is None


async def test_thai_readers_get_thai_texts(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    await newsroom(start_bot, write_post, subscribe_backlog=0)
    double.send_command(31, "/start", language_code="th")
    await reply(double, 31, "สมัครรับข่าวแล้ว")
    double.send_command(31, "/categories", language_code="th-TH")
    await reply(double, 31, "เลือกสิ่งที่แชตนี้จะได้รับ")
    assert any(b["text"].endswith("ทั้งหมด") for row in keyboard(double, 31)[1] for b in row)
    double.send_command(32, "/start", language_code="de")  # no German: English
    await reply(double, 32, "Subscribed")


async def test_help_for_a_newsroom_of_many_categories_comes_in_several_messages(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    names = [f"Region {n:03d} {'x' * 30}" for n in range(150)]
    bot = await start_bot()
    write_post("many.md", title="Everywhere", categories=[f'"{n}"' for n in names], date=ago(5))
    bot.rescan()
    await eventually(lambda: len(bot.library.categories) == 150)
    double.send_command(33, "/help")
    await reply(double, 33, "/region_149")
    texts = double.texts_to(33)
    assert len(texts) > 1 and all(len(t) <= 4096 for t in texts)
    assert all(f"/region_{n:03d}" in "".join(texts) for n in range(150))
