"""Messages the bot sends are stored as readers see them; edits and deletions follow the rules."""

from __future__ import annotations

import datetime as dtm

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from tests.double import TelegramDouble

USER = 4242


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
