"""End to end: readers' commands against the Bot API double, in private chats, groups, channels.

Each test runs the real bot. Posts are written after it started, so they are pushed (and so
qualify for a new subscriber's backlog) rather than archived as the first start's archive is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from telegram import Update
from telegram.ext import CommandHandler, MessageHandler, filters

from bot.app import Newsbot
from bot.i18n import catalogue
from bot.store import ALL
from tests.conftest import StartBot
from tests.double import TelegramDouble
from tests.helpers import WritePost

BOT = "newsbot_test_bot"
ANY_CHATTER = catalogue("en")("unknown.text")
Post = tuple[str, str, str, float, str]

#: (id, headline, category, minutes ago, language): newest first is w3 b2 t1 a1 w2 b1 w1.
NEWSROOM: tuple[Post, ...] = (
    ("w1", "World one", "WORLD", 90, "en"),
    ("b1", "Business one", "BUSINESS", 80, "en"),
    ("w2", "World two", "WORLD", 70, "en"),
    ("a1", "Asia one", "Asia Pacific", 60, "en"),
    ("t1", "Thai one", "THAILAND", 50, "th"),
    ("b2", "Business two", "BUSINESS", 40, "en"),
    ("w3", "World three", "WORLD", 30, "en"),
)
HEADLINES = {post[1] for post in NEWSROOM}


def ago(minutes: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    """Wait (bounded) for an async condition, such as a database state."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"{check.__qualname__} not met within {timeout}s")
        await asyncio.sleep(0.02)


async def publish(bot: Newsbot, write_post: WritePost, posts: Sequence[Post]) -> None:
    """Write posts and wait until the bot has recorded (and pushed) them."""
    for post_id, title, category, minutes, language in posts:
        write_post(
            f"{post_id}.md", title=title, category=category, date=ago(minutes), language=language
        )
    bot.rescan()

    async def recorded() -> bool:
        return {p[0] for p in posts} <= (await bot.store.seen_posts()).keys()

    await until(recorded)


async def newsroom(
    start_bot: StartBot,
    write_post: WritePost,
    posts: Sequence[Post] = NEWSROOM,
    **overrides: object,
) -> Newsbot:
    """A running bot with the newsroom's posts published."""
    bot = await start_bot(**overrides)
    await publish(bot, write_post, posts)
    return bot


def cards(double: TelegramDouble, chat: int) -> list[str]:
    """Headlines of the post cards a chat received, in order."""
    return [t.split("\n")[1] for t in double.texts_to(chat) if _is_card(t)]


EXTRA_HEADLINES = {f"Story {n}" for n in range(20)} | {"Science one", "World four", "Thai two"}


def replies(double: TelegramDouble, chat: int) -> list[str]:
    """Texts the bot sent to a chat other than post cards."""
    return [t for t in double.texts_to(chat) if not _is_card(t)]


def _is_card(text: str) -> bool:
    lines = text.split("\n")
    return len(lines) > 1 and lines[1] in HEADLINES | EXTRA_HEADLINES


async def reply(double: TelegramDouble, chat: int, words: str, timeout: float = 5.0) -> str:
    """Wait for a reply containing `words` and return it."""
    found: list[str] = []

    def seen() -> bool:
        found[:] = [t for t in double.texts_to(chat) if words in t]
        return bool(found)

    await double.wait_for(seen, timeout, description=f"a reply with {words!r} in chat {chat}")
    return found[-1]


async def quiet(seconds: float = 0.3) -> None:
    """Give the bot time to (wrongly) answer before asserting it did not."""
    await asyncio.sleep(seconds)


def keyboard(double: TelegramDouble, chat: int) -> tuple[int, list[list[dict[str, Any]]]]:
    """The newest categories keyboard in a chat: its message id and its rows of buttons."""
    for message in reversed(double.messages_to(chat)):
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        if any(str(b.get("callback_data", "")).startswith("cat:") for row in rows for b in row):
            return message["message_id"], rows
    raise AssertionError(f"no categories keyboard in chat {chat}")


def ticked(rows: list[list[dict[str, Any]]]) -> set[str]:
    """callback_data of the ticked buttons."""
    return {b["callback_data"] for row in rows for b in row if b["text"].startswith("✅")}


async def categories_of(bot: Newsbot, chat: int) -> frozenset[str] | None:
    found = await bot.store.chat(chat)
    return None if found is None or not found.active else found.categories


# --- private chats -------------------------------------------------------------------------------


async def test_start_subscribes_sends_the_newest_post_and_welcomes_back(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await newsroom(start_bot, write_post)
    double.send_command(1, "/start")
    text = await reply(double, 1, "Subscribed")
    assert "all categories" in text and "/categories" in text
    await double.wait_for(lambda: cards(double, 1) == ["World three"])  # the backlog of one
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
    await quiet()
    assert cards(double, 1) == ["World three"]  # the backlog is never sent twice


async def test_deep_link_subscribes_to_the_category_it_names(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await newsroom(start_bot, write_post)
    double.send_command(2, "/start business")  # what t.me/<bot>?start=business sends
    text = await reply(double, 2, "Subscribed")
    assert "BUSINESS" in text and "all categories" not in text
    await double.wait_for(lambda: cards(double, 2) == ["Business two"])
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
    await double.wait_for(lambda: cards(double, 50) == ["World three"])

    double.send_command(5, "/latest")
    newest = ["World three", "Business two", "Thai one", "Asia one", "World two"]
    await double.wait_for(lambda: cards(double, 5) == newest)
    pushed, answered = double.messages_to(50)[0], double.messages_to(5)[0]
    for field in ("text", "entities", "reply_markup", "link_preview_options"):
        assert answered.get(field) == pushed.get(field)

    double.send_command(6, "/latest 2")
    await double.wait_for(lambda: cards(double, 6) == newest[:2])
    double.send_command(7, "/latest world 2")
    await double.wait_for(lambda: cards(double, 7) == ["World three", "World two"])
    double.send_command(8, "/latest 2 #Asia Pacific")
    await double.wait_for(lambda: cards(double, 8) == ["Asia one"])
    double.send_command(9, "/latest nosuch")
    text = await reply(double, 9, "I do not know nosuch")
    assert "/world" in text and "/asia_pacific" in text
    await quiet()
    assert cards(double, 9) == []


async def test_latest_sends_at_most_ten(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    stories = tuple((f"s{n}", f"Story {n}", "WORLD", 100 - n, "en") for n in range(12))
    await newsroom(start_bot, write_post, stories)
    double.send_command(10, "/latest 50")
    expected = [f"Story {n}" for n in range(11, 1, -1)]
    await double.wait_for(lambda: cards(double, 10) == expected)
    await quiet()
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
    await double.wait_for(lambda: any(cards(double, c) for c in chats))
    double.send_command(41, "/latest 2")
    double.send_command(42, "/start")
    await double.wait_for(lambda: cards(double, 41) == ["Story 1", "World three"], timeout=2)
    await reply(double, 42, "Subscribed", timeout=2)
    assert sum(cards(double, c) == ["Story 1"] for c in chats) < len(chats)  # still going
    # The new subscriber's first post is queued ahead of the rest of the broadcast.
    await double.wait_for(lambda: cards(double, 42) == ["Story 1"], timeout=8)


async def test_an_empty_newsroom_says_so(double: TelegramDouble, start_bot: StartBot) -> None:
    await start_bot()
    double.send_command(11, "/latest")
    await reply(double, 11, "Nothing has been published yet")
    double.send_command(11, "/categories")
    await reply(double, 11, "There are no categories yet")


async def test_each_category_has_its_command_and_new_ones_need_no_restart(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await newsroom(start_bot, write_post)
    double.send_command(12, "/world")
    await double.wait_for(lambda: cards(double, 12) == ["World three", "World two", "World one"])
    double.send_command(13, "/asia_pacific")
    await double.wait_for(lambda: cards(double, 13) == ["Asia one"])
    double.send_command(14, f"/business@{BOT} 1")
    await double.wait_for(lambda: cards(double, 14) == ["Business two"])
    double.send_command(15, "/world@OtherBot")
    double.send_command(15, "/latest@OtherBot")

    double.send_command(16, "/science")
    await reply(double, 16, "I do not know /science")
    write_post("sc.md", title="Science one", category="Science", date=ago(5), language="en")
    bot.rescan()
    await double.wait_for(lambda: any(c["command"] == "science" for c in double.commands_for()))
    assert any(c["command"] == "science" for c in double.commands_for(language_code="th"))
    double.send_command(16, "/science")
    await double.wait_for(lambda: cards(double, 16) == ["Science one"])
    await quiet()
    assert double.texts_to(15) == []  # addressed to another bot


async def test_menus_for_readers_in_two_languages_and_for_admins(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    await newsroom(start_bot, write_post, admin_ids=frozenset({77}))
    await double.wait_for(lambda: len(double.commands_for()) == 12)
    reader = [c["command"] for c in double.commands_for()]
    assert reader[:8] == [
        "start",
        "latest",
        "categories",
        "subscribe",
        "unsubscribe",
        "language",
        "help",
        "stop",
    ]
    assert reader[8:] == ["asia_pacific", "business", "thailand", "world"]
    english = {c["command"]: c["description"] for c in double.commands_for()}
    thai = {c["command"]: c["description"] for c in double.commands_for(language_code="th")}
    assert english.keys() == thai.keys() and english["world"] == "Newest in WORLD"
    assert thai["help"] != english["help"]
    admin_scope = {"type": "chat", "chat_id": 77}
    await double.wait_for(lambda: len(double.commands_for(admin_scope)) == 18)
    assert "channels" in [c["command"] for c in double.commands_for(admin_scope)]
    assert "channels" in [c["command"] for c in double.commands_for(admin_scope, "th")]
    assert "channels" not in english


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
        await double.wait_for(lambda: ticked(keyboard(double, 20)[1]) == expected)
        await double.wait_for(lambda: len(double.callback_answers) > answers)
        assert keyboard(double, 20)[0] == message_id  # the same message, edited

    await pressed("cat:world", {"cat:asia_pacific", "cat:business", "cat:thailand"})
    assert await categories_of(bot, 20) == {"asia_pacific", "business", "thailand"}
    await pressed("cat:-", {"cat:-"})
    assert await categories_of(bot, 20) == frozenset()
    await pressed("cat:business", {"cat:business"})
    await pressed("cat:*", every)
    assert await categories_of(bot, 20) == {ALL}

    double.send_command(20, "/settings")  # the same keyboard under another name
    await double.wait_for(lambda: keyboard(double, 20)[0] != message_id)
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
    await double.wait_for(lambda: "business" not in bot.library.categories)
    double.press_button(21, message_id, "cat:business")
    await double.wait_for(
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
    await double.wait_for(lambda: cards(double, 22) == ["World three"])  # a new subscriber

    async def answer(command: str) -> str:
        """Send a command from chat 22 and wait for its one reply."""
        count = len(replies(double, 22))
        double.send_command(22, command)
        await double.wait_for(lambda: len(replies(double, 22)) > count)
        return replies(double, 22)[-1]

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
    await quiet()
    assert cards(double, 22) == ["World three"]  # only a new subscriber gets the backlog

    double.send_command(23, "/subscribe")  # no category: the keyboard
    await reply(double, 23, "Choose what this chat receives")
    double.send_command(23, "/unsubscribe world")
    await reply(double, 23, "was not subscribed")


async def test_new_subscribers_get_the_configured_backlog_oldest_first(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await newsroom(start_bot, write_post, subscribe_backlog=2)
    double.send_command(24, "/start world")
    double.send_command(25, "/start")
    await double.wait_for(lambda: cards(double, 24) == ["World two", "World three"])
    await double.wait_for(lambda: cards(double, 25) == ["Business two", "World three"])
    write_post("w4.md", title="World four", category="WORLD", date=ago(1), language="en")
    bot.rescan()  # then only new posts
    await double.wait_for(lambda: cards(double, 24)[-1:] == ["World four"])
    await quiet()
    assert cards(double, 24) == ["World two", "World three", "World four"]


async def test_backlog_comes_from_the_archive_too_and_only_once(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    write_post("old.md", title="World one", category="WORLD", date=ago(10), language="en")
    await start_bot()  # the first start: the folder's posts are the archive, never broadcast
    double.send_command(26, "/start")
    await reply(double, 26, "Subscribed")
    # ...but a new reader asked for the newest story, and on a fresh install that is archived.
    await double.wait_for(lambda: cards(double, 26) == ["World one"])
    double.send_command(26, "/start")
    await reply(double, 26, "already subscribed")
    await quiet()
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
    await double.wait_for(lambda: cards(double, 30) == ["Thai one"])
    write_post("w4.md", title="World four", category="WORLD", date=ago(2), language="en")
    write_post("t2.md", title="Thai two", category="THAILAND", date=ago(1), language="th")
    bot.rescan()
    await double.wait_for(lambda: cards(double, 30) == ["Thai one", "Thai two"])
    await quiet()
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


async def test_help_unknown_commands_and_chatter(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    await newsroom(start_bot, write_post, admin_ids=frozenset({34}))
    double.send_command(33, "/help")
    text = await reply(double, 33, "/latest")
    assert "/world" in text and "/asia_pacific" in text and "/channels" not in text
    double.send_command(34, "/help")
    await reply(double, 34, "/channels")  # administrators learn their commands too
    double.send_command(33, "/frobnicate")
    await reply(double, 33, "I do not know /frobnicate")
    double.send_text(33, "hello?")
    await reply(double, 33, "I answer commands")


async def test_help_for_a_newsroom_of_many_categories_comes_in_several_messages(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    names = [f"Region {n:03d} {'x' * 30}" for n in range(150)]
    bot = await start_bot()
    write_post("many.md", title="Everywhere", categories=[f'"{n}"' for n in names], date=ago(5))
    bot.rescan()
    await double.wait_for(lambda: len(bot.library.categories) == 150)
    double.send_command(33, "/help")
    await reply(double, 33, "/region_149")
    texts = double.texts_to(33)
    assert len(texts) > 1 and all(len(t) <= 4096 for t in texts)
    assert all(f"/region_{n:03d}" in "".join(texts) for n in range(150))


async def test_a_failing_answer_is_logged_and_the_reader_hears_about_it(
    double: TelegramDouble, start_bot: StartBot, caplog: Any
) -> None:
    await start_bot()
    double.fail_next(
        "sendMessage", status=400, description="Bad Request: something odd", chat_id=33
    )
    double.send_command(33, "/help")
    await reply(double, 33, "something went wrong")
    assert "handling an update failed" in caplog.text and "Something odd" in caplog.text


async def test_handlers_added_later_keep_their_commands_and_messages(
    double: TelegramDouble, start_bot: StartBot
) -> None:
    bot = await start_bot()

    async def desk(update: Update, _: object) -> None:
        assert update.message is not None
        await update.message.reply_text("the editors' desk")

    # As a module registering its own handlers after the readers' does (bot.admin does).
    application = bot._application
    assert application is not None
    application.add_handler(CommandHandler("desk", desk))
    application.add_handler(MessageHandler(filters.Regex("^desk:"), desk), group=1)
    double.send_command(37, "/desk Flood warning")
    await reply(double, 37, "the editors' desk")
    double.send_text(37, "desk: a tip")
    await double.wait_for(lambda: len(double.texts_to(37)) == 2)
    double.send_text(37, "hello")
    await reply(double, 37, "I answer commands")
    await quiet()
    assert double.texts_to(37) == ["the editors' desk", "the editors' desk", ANY_CHATTER]


async def test_a_flood_of_commands_gets_one_notice(
    double: TelegramDouble, start_bot: StartBot
) -> None:
    await start_bot()
    for _ in range(15):
        double.send_command(35, "/help")
    await reply(double, 35, "faster than I can answer")
    await quiet(0.5)
    texts = double.texts_to(35)
    assert sum("faster than I can answer" in t for t in texts) == 1
    assert sum("/latest" in t for t in texts) == 8
    double.send_command(36, "/help")  # another reader is not held back
    await reply(double, 36, "/latest")


# --- groups --------------------------------------------------------------------------------------

GROUP = -1001234
ADMIN, MEMBER = 501, 502


async def test_anyone_in_a_group_may_read(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    await newsroom(start_bot, write_post)
    double.send_command(GROUP, "/latest 2", user_id=MEMBER)
    await double.wait_for(lambda: cards(double, GROUP) == ["World three", "Business two"])
    double.send_command(GROUP, f"/world@{BOT} 1", user_id=MEMBER)
    await double.wait_for(lambda: cards(double, GROUP)[2:] == ["World three"])
    double.send_command(GROUP, f"/help@{BOT}", user_id=MEMBER)
    await reply(double, GROUP, "only administrators can change")
    double.send_command(GROUP, f"/frobnicate@{BOT}", user_id=MEMBER)
    await reply(double, GROUP, "I do not know /frobnicate")
    before = len(double.texts_to(GROUP))
    double.send_command(GROUP, "/frobnicate", user_id=MEMBER)  # perhaps another bot's
    double.send_command(GROUP, "/latest@OtherBot", user_id=MEMBER)
    double.send_text(GROUP, "hello everyone", user_id=MEMBER)
    await quiet()
    assert len(double.texts_to(GROUP)) == before


async def test_only_group_admins_change_what_the_group_receives(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await newsroom(start_bot, write_post, subscribe_backlog=0)

    def refusals() -> int:
        return sum("Only this group's administrators" in t for t in double.texts_to(GROUP))

    for count, command in enumerate(
        ("/start", "/stop", "/subscribe world", "/unsubscribe world", "/language th"), start=1
    ):
        double.send_command(GROUP, command, user_id=MEMBER)
        await double.wait_for(lambda c=count: refusals() == c)
    assert await bot.store.chat(GROUP) is None

    double.set_member_status(GROUP, ADMIN, "administrator")
    double.send_command(GROUP, f"/start@{BOT}", user_id=ADMIN)
    await reply(double, GROUP, "Subscribed")
    double.send_command(GROUP, "/unsubscribe thailand", user_id=ADMIN)
    await reply(double, GROUP, "now receives")
    assert await categories_of(bot, GROUP) == {"world", "business", "asia_pacific"}
    checks = len(double.calls("getChatMember"))
    double.send_command(GROUP, "/subscribe thailand", user_id=ADMIN)
    await double.wait_for(lambda: sum("now receives" in t for t in double.texts_to(GROUP)) == 2)
    assert len(double.calls("getChatMember")) == checks  # the admin check is remembered
    every = {"world", "business", "asia_pacific", "thailand"}
    assert await categories_of(bot, GROUP) == every

    double.send_command(GROUP, "/categories", user_id=MEMBER)  # anyone may look
    await reply(double, GROUP, "Choose what this chat receives")
    message_id, _ = keyboard(double, GROUP)
    double.press_button(GROUP, message_id, "cat:world", user_id=MEMBER)
    await double.wait_for(lambda: any(a.get("show_alert") for a in double.callback_answers))
    assert "administrators" in double.callback_answers[-1]["text"]
    assert await categories_of(bot, GROUP) == every
    double.press_button(GROUP, message_id, "cat:world", user_id=ADMIN)
    await double.wait_for(lambda: "cat:world" not in ticked(keyboard(double, GROUP)[1]))
    assert await categories_of(bot, GROUP) == every - {"world"}

    double.send_command(GROUP, "/stop", user_id=ADMIN)
    await reply(double, GROUP, "Unsubscribed")
    assert await categories_of(bot, GROUP) is None


async def test_an_anonymous_group_admin_may_change_it(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await newsroom(start_bot, write_post, subscribe_backlog=0)
    update = double.send_command(GROUP, "/subscribe world", user_id=1087968824)
    assert update["message"]["chat"]["id"] == GROUP
    # Telegram shows an anonymous administrator's message as sent by the group itself.
    double._pending[-1]["message"]["sender_chat"] = double._pending[-1]["message"]["chat"]
    await reply(double, GROUP, "now receives WORLD")
    assert await categories_of(bot, GROUP) == {"world"}


# --- channels -----------------------------------------------------------------------------------

CHANNEL = -1009999
BOT_ADMIN, OTHER_ADMIN, READER = 71, 73, 72


def make_channel(double: TelegramDouble, chat_id: int, username: str, *, bot_status: str) -> None:
    """A channel the double knows, with the bot in it in the given role."""
    double.chat_types[chat_id] = "channel"
    double.chat_titles[chat_id] = f"{username.title()} channel"
    double.chat_usernames[username] = chat_id
    double.set_member_status(chat_id, double.bot_user["id"], bot_status)


async def test_bot_admins_subscribe_channels_from_a_private_chat(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await newsroom(start_bot, write_post, admin_ids=frozenset({BOT_ADMIN, OTHER_ADMIN}))
    make_channel(double, CHANNEL, "newsdesk", bot_status="administrator")
    make_channel(double, -1008888, "readonly", bot_status="member")

    double.send_command(READER, "/subscribe @newsdesk")
    await reply(double, READER, "Only the bot's administrators")
    double.send_command(BOT_ADMIN, "/subscribe @nowhere")
    await reply(double, BOT_ADMIN, "I cannot reach @nowhere")
    double.send_command(BOT_ADMIN, "/subscribe @readonly")
    await reply(double, BOT_ADMIN, "I am not an administrator who may post messages in @readonly")
    double.send_command(BOT_ADMIN, "/subscribe @newsdesk sport")
    await reply(double, BOT_ADMIN, "I do not know sport")
    assert await bot.store.chat(CHANNEL) is None

    double.send_command(BOT_ADMIN, "/subscribe @newsdesk world")
    await reply(double, BOT_ADMIN, "@newsdesk now receives WORLD")
    await double.wait_for(lambda: cards(double, CHANNEL) == ["World three"])  # its backlog
    chat = await bot.store.chat(CHANNEL)
    assert chat is not None and chat.type == "channel" and chat.categories == {"world"}
    double.send_command(BOT_ADMIN, f"/subscribe {CHANNEL} business")  # by id works too
    await reply(double, BOT_ADMIN, "@newsdesk now receives BUSINESS, WORLD")

    double.channel_post(CHANNEL, "/latest", username="newsdesk")  # commands in a channel: no
    double.send_command(OTHER_ADMIN, "/channels")  # another admin: one reader, one pace
    listing = await reply(double, OTHER_ADMIN, "Channels I post to")
    assert str(CHANNEL) in listing and "BUSINESS, WORLD" in listing
    double.send_command(READER, "/channels")
    await double.wait_for(lambda: len(double.texts_to(READER)) == 2)
    assert "Only the bot's administrators" in double.texts_to(READER)[-1]

    double.send_command(OTHER_ADMIN, "/unsubscribe @newsdesk business")
    await reply(double, OTHER_ADMIN, "@newsdesk now receives WORLD")
    double.send_command(OTHER_ADMIN, "/unsubscribe @newsdesk")
    await reply(double, OTHER_ADMIN, "@newsdesk no longer receives posts")
    assert await categories_of(bot, CHANNEL) is None
    double.send_command(OTHER_ADMIN, "/channels")
    await reply(double, OTHER_ADMIN, "No channel is subscribed")
    assert cards(double, CHANNEL) == ["World three"]


async def test_channels_are_subscribed_only_from_a_private_chat(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    await newsroom(start_bot, write_post, admin_ids=frozenset({BOT_ADMIN}))
    make_channel(double, CHANNEL, "newsdesk", bot_status="administrator")
    double.send_command(GROUP, "/subscribe @newsdesk", user_id=BOT_ADMIN)
    await reply(double, GROUP, "from a private chat")
