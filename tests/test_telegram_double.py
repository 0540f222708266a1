"""Proves the Telegram double answers a real PTB 22.8 ``Bot`` the way the Bot API does."""

from __future__ import annotations

import asyncio
import datetime as dtm
import time
from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    EndPointNotFound,
    Forbidden,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes

from tests.telegram_double import TelegramDouble

TOKEN = "123456:TEST-token"
USER = 4242
GROUP = -1005550001
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
async def double() -> AsyncIterator[TelegramDouble]:
    async with TelegramDouble() as server:
        yield server


@pytest.fixture
async def bot(double: TelegramDouble) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=double.base_url) as client:
        yield client


async def test_get_me(bot: Bot, double: TelegramDouble) -> None:
    me = await bot.get_me()

    assert me.is_bot
    assert me.username == "newsbot_test_bot"
    assert me.id == double.bot_user["id"]
    assert bot.username == "newsbot_test_bot"  # set by Bot.initialize() through getMe


async def test_send_message_is_recorded_with_visible_text(bot: Bot, double: TelegramDouble) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("More", callback_data="more:1")]])

    first = await bot.send_message(
        USER, "<b>Hello</b> &amp; bye", parse_mode=ParseMode.HTML, reply_markup=keyboard
    )
    second = await bot.send_message(USER, "plain")

    assert first.text == "Hello & bye"
    assert first.entities[0].type == "bold"
    assert first.chat.type == "private"
    assert first.reply_markup == keyboard
    assert isinstance(first.date, dtm.datetime)
    assert second.message_id == first.message_id + 1
    assert double.texts_to(USER) == ["Hello & bye", "plain"]
    assert [record.method for record in double.sent] == ["sendMessage", "sendMessage"]
    assert double.sent[0].params["reply_markup"]["inline_keyboard"][0][0]["text"] == "More"


async def test_invalid_html_is_rejected(bot: Bot, double: TelegramDouble) -> None:
    for text in ("1 < 2", "<br>", "<b>open", "AT&T", "&nbsp;"):
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(USER, text, parse_mode=ParseMode.HTML)

    assert double.sent == []
    assert {record.status for record in double.calls("sendMessage")} == {400}


async def test_caption_length_is_counted_in_utf16(bot: Bot, double: TelegramDouble) -> None:
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await bot.send_photo(USER, PNG, caption="😀" * 513)  # 513 characters, 1026 units

    sent = await bot.send_photo(USER, PNG, caption="😀" * 512)
    again = await bot.send_photo(USER, sent.photo[-1].file_id)

    assert again.photo == sent.photo  # a known file_id is reused, not re-uploaded
    assert double.sent[0].params["photo"].data == PNG


async def test_blocked_user_raises_forbidden(bot: Bot, double: TelegramDouble) -> None:
    double.forbidden_chats.add(USER)

    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(USER, "hi")


async def test_upgraded_group_raises_chat_migrated(bot: Bot, double: TelegramDouble) -> None:
    double.migrations[-4242] = -1004242

    with pytest.raises(ChatMigrated) as caught:
        await bot.send_message(-4242, "hi")

    assert caught.value.new_chat_id == -1004242
    assert (await bot.send_message(-1004242, "hi")).chat.type == "supergroup"


async def test_flood_control_raises_retry_after(
    bot: Bot, double: TelegramDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    double.enforce_flood_limits()
    await bot.send_message(USER, "one")

    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(USER, "two")

    assert caught.value.retry_after == dtm.timedelta(seconds=1)
    assert double.flood_errors == 1
    double.fail_next("sendMessage", status=429, retry_after=7, chat_id=-1001)
    with pytest.raises(RetryAfter) as injected:
        await bot.send_message(-1001, "three")
    assert injected.value.retry_after == dtm.timedelta(seconds=7)


async def test_long_poll_returns_an_added_command(bot: Bot, double: TelegramDouble) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    double.send_command(USER, "/start@newsbot_test_bot", username="reader")

    updates = await asyncio.wait_for(poll, 2)

    assert time.monotonic() - started < 1
    (update,) = updates
    assert update.message is not None
    assert update.message.text == "/start@newsbot_test_bot"
    assert update.message.entities[0].type == "bot_command"
    assert update.message.entities[0].length == len("/start@newsbot_test_bot")
    assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == ()
    assert double.pending_updates == []


async def test_edit_delete_and_button_press(bot: Bot, double: TelegramDouble) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Next", callback_data="next")]])
    message = await bot.send_message(USER, "page 1", reply_markup=keyboard)
    update = Update.de_json(double.press_button(USER, message.message_id, "next"), bot)

    assert update.callback_query is not None
    assert await update.callback_query.answer()
    edited = await bot.edit_message_text("page 2", USER, message.message_id)
    assert isinstance(edited, Message)  # True would mean an inline message
    assert edited.text == "page 2"
    assert edited.reply_markup is None  # an edit without reply_markup drops the keyboard
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_text("page 2", USER, message.message_id)
    assert await bot.delete_message(USER, message.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(USER, message.message_id)
    assert double.messages_to(USER) == []


async def test_faults_map_to_ptb_network_errors(bot: Bot, double: TelegramDouble) -> None:
    double.delay_next("sendMessage", 0.5)
    with pytest.raises(TimedOut):
        await bot.send_message(USER, "late", read_timeout=0.1)
    assert double.texts_to(USER) == ["late"]  # delivered although the answer timed out

    double.server_error_next("sendMessage")
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(USER, "lost")
    with pytest.raises(BadRequest, match=r"(?i)wrong type of the web page content"):
        await bot.send_photo(USER, "https://example.com/unfetchable.jpg")
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("noSuchMethod")


async def test_stop_ends_a_pending_long_poll_quickly(bot: Bot, double: TelegramDouble) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await asyncio.sleep(0.05)

    started = time.monotonic()
    await double.stop()

    assert await asyncio.wait_for(poll, 1) == ()
    assert time.monotonic() - started < 0.5


async def test_application_polls_and_replies(double: TelegramDouble) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("<i>welcome</i>", parse_mode=ParseMode.HTML)

    app = ApplicationBuilder().token(TOKEN).base_url(double.base_url).build()
    app.add_handler(CommandHandler("start", start))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0)
        double.send_command(GROUP, "/start@newsbot_test_bot", user_id=USER)
        (reply,) = await double.wait_for_messages(GROUP, 1, timeout=3)
        await app.updater.stop()
        await app.stop()

    assert reply["text"] == "welcome"
    assert reply["reply_to_message"]["text"] == "/start@newsbot_test_bot"  # PTB quotes in groups
