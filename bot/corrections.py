"""Corrections and retractions of messages readers already have.

When a post's card changes after it went out (a fixed headline, a new image, a corrected
summary), the messages delivered within the edit window are edited in place. When a post is
retracted, its messages are deleted while Telegram still lets a bot delete them (48 hours), and
edited to say "Retracted" after that. These calls go through the sender's queue and pace like
any message; this module only knows how to make one of them.
"""

from __future__ import annotations

import html

from telegram import Bot, InlineKeyboardMarkup, InputFile, InputMediaPhoto, LinkPreviewOptions
from telegram import Message as TelegramMessage
from telegram.error import BadRequest

from bot.calls import keyboard, link_preview
from bot.posts import Post, Run
from bot.render import Message, shorten
from bot.store import Revision, SentMessage

RETRACTED = "Retracted"

#: Telegram's words when an edit has nothing left to do.
_ALREADY_DONE = (
    "message is not modified",
    "message to edit not found",
    "message to delete not found",
)
_CANNOT_DELETE = ("message can't be deleted",)


class CannotDelete(Exception):
    """Telegram refused a deletion (too old, or no rights): the message is edited instead."""


def retraction_text(post: Post | None) -> str:
    """What a retracted message says instead of the story."""
    # Short enough for a photo caption, whatever the headline's length.
    headline = "".join(r.text for r in shorten((Run(post.title),), 900)) if post else ""
    title = f"\n<s>{html.escape(headline, quote=False)}</s>" if post else ""
    return f"<b>{RETRACTED}</b>{title}"


def new_image(sent: SentMessage, post: Post | None) -> str | None:
    """The lead image a correction puts in place of the one a photo message shows, if any."""
    image = post.image if post is not None else None
    if sent.revision is Revision.UPDATE and sent.sent_as == "photo" and image != sent.sent_image:
        return image
    return None


async def revise(
    bot: Bot,
    sent: SentMessage,
    post: Post | None,
    card: Message | None,
    *,
    photo: str | InputFile | None = None,
) -> TelegramMessage | bool | None:
    """Make the one Telegram call a revision needs; finished edits are not errors.

    `card` is the post's current card in the form the message was sent in (photo or text).
    `photo` stands in for a new lead image's URL: a `file_id` Telegram already holds, or the
    image's bytes when Telegram could not fetch the URL itself. Returns Telegram's answer
    (the edited message, when there is one).
    """
    try:
        if sent.revision is Revision.DELETE:
            try:
                return await bot.delete_message(sent.chat_id, sent.message_id)
            except BadRequest as exc:
                if any(words in str(exc).lower() for words in _CANNOT_DELETE):
                    raise CannotDelete(str(exc)) from exc
                raise
        elif sent.revision is Revision.RETRACT or card is None:
            return await _edit(bot, sent, retraction_text(post), None, None)
        else:
            return await _update(bot, sent, card, post, photo)
    except BadRequest as exc:
        if not any(words in str(exc).lower() for words in _ALREADY_DONE):
            raise
        return None


async def _update(
    bot: Bot, sent: SentMessage, card: Message, post: Post | None, photo: str | InputFile | None
) -> TelegramMessage | bool:
    params = card.params
    buttons = keyboard(params, bot)
    image = new_image(sent, post)
    if card.has_photo and image:
        media = InputMediaPhoto(photo or image, caption=params["caption"], parse_mode="HTML")
        return await bot.edit_message_media(
            media, chat_id=sent.chat_id, message_id=sent.message_id, reply_markup=buttons
        )
    text = params["caption"] if card.has_photo else params["text"]
    return await _edit(bot, sent, text, buttons, link_preview(params))


async def _edit(
    bot: Bot,
    sent: SentMessage,
    text: str,
    buttons: InlineKeyboardMarkup | None,
    preview: LinkPreviewOptions | None,
) -> TelegramMessage | bool:
    if sent.sent_as == "photo":
        return await bot.edit_message_caption(
            chat_id=sent.chat_id,
            message_id=sent.message_id,
            caption=text,
            parse_mode="HTML",
            reply_markup=buttons,
        )
    return await bot.edit_message_text(
        text,
        chat_id=sent.chat_id,
        message_id=sent.message_id,
        parse_mode="HTML",
        link_preview_options=preview,
        reply_markup=buttons,
    )
