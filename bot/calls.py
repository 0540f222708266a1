"""newsbot's messages as python-telegram-bot calls: rendered parameters (plain Bot API JSON) as
the objects PTB's methods take, the photo Telegram's answer holds, plain-text answers cut to
Telegram's length limit, an edit in place that may find nothing to change, and a broadcast's
send as plain JSON both ways (`send`)."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.error import TelegramError
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.render import split_text
from bot.telegram_errors import Fault, classify


@dataclass(frozen=True, slots=True)
class Sent:
    """What newsbot keeps of Telegram's answer to a message it sent."""

    message_id: int
    photo: str | None = None
    """The `file_id` of the message's photo (its largest size), if it shows one."""

    @classmethod
    def of(cls, message: Message) -> Sent:
        """The answer PTB read into a `Message` (a reply to a reader)."""
        return cls(message.message_id, photo_file_id(message))


async def send(bot: Bot, method: str, params: dict[str, Any]) -> Sent:
    """Make a send call with the Bot API's own JSON parameters and read only what newsbot keeps
    of the answer.

    PTB's `send_message` would build its objects from the parameters (a keyboard, the preview
    options), and read every answer into a full `Message` with its chat, its sender and its
    entities: at 1,000 messages a second that was a seventh of the sender's CPU, for a message
    id. The request still goes through PTB's request layer, so Telegram's errors are raised as
    the same exceptions (`RetryAfter`, `Forbidden`, ...).
    """
    data = RequestData(
        [
            RequestParameter.from_input(key, value)
            for key, value in params.items()
            if value is not None
        ]
    )
    answer = await bot.request.post(f"{bot.base_url}/{method}", request_data=data)
    if not isinstance(answer, dict):
        raise TypeError(f"{method} answered {type(answer).__name__}, not a message")
    photo = answer.get("photo")
    return Sent(int(answer["message_id"]), photo[-1]["file_id"] if photo else None)


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


async def edit_in_place(editing: Awaitable[object]) -> None:
    """Edit a message a reader tapped; one that already reads so is no failure (a double tap,
    or the same page asked for again)."""
    try:
        await editing
    except TelegramError as exc:
        if classify(exc).fault is not Fault.NOT_MODIFIED:
            raise
