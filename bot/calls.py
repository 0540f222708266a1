"""newsbot's messages as python-telegram-bot calls: rendered parameters (plain Bot API JSON) as
the objects PTB's methods take, the photo Telegram's answer holds, and plain-text answers cut to
Telegram's length limit."""

from __future__ import annotations

from typing import Any

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions, Message

from bot.render import split_text


def keyboard(params: dict[str, Any], bot: Bot) -> InlineKeyboardMarkup | None:
    """The message's inline keyboard, if it has one."""
    markup = params.get("reply_markup")
    return InlineKeyboardMarkup.de_json(markup, bot) if markup else None


def link_preview(params: dict[str, Any]) -> LinkPreviewOptions | None:
    """The message's link preview options, if it has them."""
    options = params.get("link_preview_options")
    return LinkPreviewOptions(**options) if options else None


def photo_file_id(answer: object) -> str | None:
    """The `file_id` of the photo in Telegram's answer (its largest size), if it shows one.

    Sending or editing a photo answers with the message, whose photo Telegram now holds: the
    `file_id` sends the same image to other chats without another fetch or upload.
    """
    if isinstance(answer, Message) and answer.photo:
        return answer.photo[-1].file_id
    return None


async def reply(message: Message, text: str, **kwargs: Any) -> Message:
    """Answer a message with plain text, in as many messages as Telegram's length limit needs.

    Most answers are short, but some list what the newsroom has (every category's command,
    every channel, every figure of /stats) and grow with it. Pieces are cut at line breaks where
    possible; a keyboard or other option goes with the last piece, below the whole text.
    """
    *first, last = split_text(text)
    for piece in first:
        await message.reply_text(piece)
    return await message.reply_text(last, **kwargs)
