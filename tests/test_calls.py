"""Rendered cards as PTB's objects, the photo in Telegram's answer, and answers cut to length."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.error import BadRequest

from bot.calls import edit_in_place, keyboard, link_preview, photo_file_id, reply
from bot.posts import Post, Run
from bot.render import READ_MORE, TEXT_LIMIT, render, utf16_len
from tests.double import TelegramDouble
from tests.helpers import TOKEN

READER = 4242
URL = "https://www.example-news.com/world/1/story"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 256


def post(*, url: str | None = URL, image: str | None = None) -> Post:
    return Post(
        id="P1",
        path=Path("p.md"),
        title="Headline",
        summary=(Run("Summary text."),),
        date=datetime(2026, 11, 20, 8, 5, tzinfo=UTC),
        categories=(),
        url=url,
        image=image,
    )


@pytest.fixture
async def bot(double: TelegramDouble) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=double.base_url) as client:
        yield client


# --- a card's parameters as PTB's objects --------------------------------------------------------


async def test_a_cards_read_more_button_becomes_an_inline_keyboard(bot: Bot) -> None:
    buttons = keyboard(render(post()).params, bot)
    assert buttons == InlineKeyboardMarkup([[InlineKeyboardButton(READ_MORE, url=URL)]])


async def test_a_card_without_a_source_has_no_keyboard(bot: Bot) -> None:
    assert keyboard(render(post(url=None)).params, bot) is None


def test_a_text_card_previews_its_source_or_nothing() -> None:
    with_source = link_preview(render(post()).params)
    assert with_source == LinkPreviewOptions(url=URL, prefer_large_media=True)
    without = link_preview(render(post(url=None)).params)
    assert without == LinkPreviewOptions(is_disabled=True)


def test_a_photo_card_has_no_link_preview() -> None:
    params = render(post(image="https://img.example/a.jpg")).params
    assert "caption" in params
    assert link_preview(params) is None


# --- the photo Telegram's answer holds -----------------------------------------------------------


async def test_the_largest_size_of_a_sent_photo_is_the_one_kept(
    bot: Bot, double: TelegramDouble
) -> None:
    answer = await bot.send_photo(READER, photo=JPEG)
    assert len(answer.photo) > 1
    largest = max(answer.photo, key=lambda size: size.width)
    assert photo_file_id(answer) == largest.file_id


async def test_answers_without_a_photo_hold_no_file_id(bot: Bot, double: TelegramDouble) -> None:
    text = await bot.send_message(READER, "no photo here")
    assert photo_file_id(text) is None
    assert photo_file_id(True) is None  # a deletion's answer
    assert photo_file_id(None) is None  # an edit with nothing left to do


# --- answers cut to Telegram's length limit ------------------------------------------------------


async def test_a_short_answer_is_one_message_with_its_keyboard(
    bot: Bot, double: TelegramDouble
) -> None:
    asked = await bot.send_message(READER, "/channels")
    buttons = InlineKeyboardMarkup([[InlineKeyboardButton("All", callback_data="all")]])
    last = await reply(asked, "Pick a category.", reply_markup=buttons)
    [sent] = double.calls("sendMessage")[1:]
    assert sent.params["text"] == "Pick a category."
    assert "reply_markup" in sent.params
    assert last.text == "Pick a category."


async def test_a_long_answer_is_cut_at_line_breaks_and_the_keyboard_goes_last(
    bot: Bot, double: TelegramDouble
) -> None:
    asked = await bot.send_message(READER, "/stats")
    lines = [f"{number:05d} " + "x" * 94 for number in range(100)]  # 100 lines of 100 characters
    buttons = InlineKeyboardMarkup([[InlineKeyboardButton("More", callback_data="more")]])
    last = await reply(asked, "\n".join(lines), reply_markup=buttons)
    pieces = double.calls("sendMessage")[1:]
    assert len(pieces) == 3
    assert all(utf16_len(piece.params["text"]) <= TEXT_LIMIT for piece in pieces)
    assert "\n".join(piece.params["text"] for piece in pieces).splitlines() == lines
    assert ["reply_markup" in piece.params for piece in pieces] == [False, False, True]
    assert last.message_id == double.messages_to(READER)[-1]["message_id"]


# --- edits in place -------------------------------------------------------------------------------


async def test_an_edit_that_changes_nothing_is_no_failure_and_others_still_raise(
    bot: Bot, double: TelegramDouble
) -> None:
    sent = await bot.send_message(READER, "Page 1")
    await edit_in_place(bot.edit_message_text("Page 2", READER, sent.message_id))
    await edit_in_place(bot.edit_message_text("Page 2", READER, sent.message_id))  # a double tap
    assert double.messages_to(READER)[-1]["text"] == "Page 2"
    with pytest.raises(BadRequest):
        await edit_in_place(bot.edit_message_text("Page 3", READER, sent.message_id + 99))
