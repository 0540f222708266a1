"""Which handler takes an update: the throttle gate, the fallback, the error handler; reading a
command. End to end against the Bot API double, and with plain values."""

from __future__ import annotations

from typing import Any

from telegram import Message, Update
from telegram.ext import CommandHandler, MessageHandler, filters

from bot.handlers.updates import Command, addressed_command
from bot.i18n import catalogue
from tests.conftest import StartBot
from tests.double import TelegramDouble
from tests.handlers.chat import (
    BOT,
    ago,
    cards,
    finish,
    newsroom,
    reply,
)
from tests.helpers import WritePost, eventually

NOTHING_FOUND = catalogue("en")("search.nothing", words="hello")


async def test_each_category_has_its_command_and_new_ones_need_no_restart(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await newsroom(start_bot, write_post)
    double.send_command(12, "/world")
    await eventually(lambda: cards(double, 12) == ["World three", "World two", "World one"])
    double.send_command(13, "/asia_pacific")
    await eventually(lambda: cards(double, 13) == ["Asia one"])
    double.send_command(14, f"/business@{BOT} 1")
    await eventually(lambda: cards(double, 14) == ["Business two"])
    double.send_command(15, "/world@OtherBot")
    double.send_command(15, "/latest@OtherBot")

    double.send_command(16, "/science")
    await reply(double, 16, "I do not know /science")
    write_post("sc.md", title="Science one", category="Science", date=ago(5), language="en")
    bot.rescan()
    for language in ("", "th"):  # the menus are set one after the other
        await eventually(
            lambda language=language: any(
                c["command"] == "science" for c in double.commands_for(language_code=language)
            )
        )
    double.send_command(16, "/science")
    await eventually(lambda: cards(double, 16) == ["Science one"])
    await finish(bot, double)
    assert double.texts_to(15) == []  # addressed to another bot


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
    double.send_text(33, "hello?")  # words in a private chat are a search
    await reply(double, 33, "No article found with “hello”")
    double.send_photo(33, "a holiday snap")
    await reply(double, 33, "I answer commands")


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

    # As a module registering its own handlers after the readers' would.
    application = bot._application
    assert application is not None
    application.add_handler(CommandHandler("desk", desk))
    application.add_handler(MessageHandler(filters.Regex("^desk:"), desk), group=1)
    double.send_command(37, "/desk Flood warning")
    await reply(double, 37, "the editors' desk")
    double.send_text(37, "desk: a tip")
    await eventually(lambda: len(double.texts_to(37)) == 2)
    double.send_text(37, "hello")
    await reply(double, 37, "No article found")
    await finish(bot, double)
    assert double.texts_to(37) == ["the editors' desk", "the editors' desk", NOTHING_FOUND]


async def test_a_flood_of_commands_gets_one_notice(
    double: TelegramDouble, start_bot: StartBot
) -> None:
    await start_bot()
    for _ in range(15):
        double.send_command(35, "/help")
    await reply(double, 35, "faster than I can answer")
    double.send_command(36, "/help")  # another reader is not held back
    await reply(double, 36, "/latest")  # ... and is answered after all fifteen were handled
    texts = double.texts_to(35)
    assert sum("faster than I can answer" in t for t in texts) == 1
    assert sum("/latest" in t for t in texts) == 8


# --- reading a command, with plain values --------------------------------------------------------


def message(text: str, *, command: int | None = None, offset: int = 0) -> Message:
    """A group message; `command` is the length of a bot_command entity at `offset`."""
    entities = (
        [] if command is None else [{"type": "bot_command", "offset": offset, "length": command}]
    )
    raw = {
        "message_id": 1,
        "date": 0,
        "chat": {"id": -5, "type": "group", "title": "Team"},
        "text": text,
        "entities": entities,
    }
    return Message.de_json(raw, None)


def test_a_command_is_ours_unless_it_names_another_bot() -> None:
    assert addressed_command(message("/latest world 3", command=7), BOT) == Command(
        "latest", ["world", "3"], addressed=False
    )
    named = message(f"/World@{BOT.upper()} 2", command=7 + len(BOT))
    assert addressed_command(named, BOT) == Command("world", ["2"], addressed=True)
    assert addressed_command(message("/latest@OtherBot", command=16), BOT) is None
    assert addressed_command(message("hello /latest", command=7, offset=6), BOT) is None
    assert addressed_command(message("/latest"), BOT) is None  # no entity: not a command
