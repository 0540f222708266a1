"""Corrections and retractions of messages readers already have.

When a post's card changes after it went out (a fixed headline, a new image, a corrected
summary), the messages delivered within the edit window are edited in place. When a post is
retracted, its messages are deleted while Telegram still lets a bot delete them (48 hours), and
edited to say "Retracted" after that. These calls go through the sender's queue and pace like
any message; this module makes the calls of one revision, each in the turn the sender gives it.

What a revision can count on:
- A new lead image goes as the `file_id` Telegram already holds for it, else as its URL; when
  Telegram cannot fetch the URL, newsbot uploads the image (once for all chats), as for a first
  delivery. An image that cannot be had at all leaves the reader's photo in place and corrects
  the caption alone.
- An edit with nothing left to change, or of a message no longer there, is done, not an error.
- A message Telegram will not let the bot delete (too old, or no right to) says "Retracted".
- Every other Telegram error is left to the sender, which knows what it means for the chat.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from dataclasses import replace

from telegram import (
    Bot,
    InlineKeyboardMarkup,
    InputFile,
    InputMediaPhoto,
    LinkPreviewOptions,
    Message,
)
from telegram.error import TelegramError

from bot.calls import keyboard, link_preview, photo_file_id
from bot.images import ImageCache
from bot.posts import Post, Run
from bot.render import Card, shorten
from bot.store import Revision, RevisionOutcome, SentMessage
from bot.telegram_errors import Fault, classify

RETRACTED = "Retracted"

Answer = Message | bool | None
"""Telegram's answer to a revision: the edited message, True for a deletion, None when there
was nothing left to do."""


def retraction_text(post: Post | None) -> str:
    """What a retracted message says instead of the story."""
    # Short enough for a photo caption, whatever the headline's length.
    headline = "".join(r.text for r in shorten((Run(post.title),), 900)) if post else ""
    title = f"\n<s>{html.escape(headline, quote=False)}</s>" if post else ""
    return f"<b>{RETRACTED}</b>{title}"


def new_image(copy: SentMessage, post: Post | None) -> str | None:
    """The lead image a correction puts in place of the one a photo message shows, if any."""
    image = post.image if post is not None else None
    if copy.revision is Revision.UPDATE and copy.sent_as == "photo" and image != copy.sent_image:
        return image
    return None


class Corrections:
    """Makes the Bot API calls of one revision of a reader's copy of a post."""

    def __init__(
        self, bot: Bot, images: ImageCache, *, turn: Callable[[], Awaitable[None]]
    ) -> None:
        """`turn` waits until the next call may go (the sender's pace); every call awaits it."""
        self._bot = bot
        self._images = images
        self._turn = turn

    async def make(
        self, copy: SentMessage, post: Post | None, card: Card | None
    ) -> RevisionOutcome:
        """Carry out the revision `copy` is waiting for; Telegram's errors are the caller's.

        `card` is the post's current card in the form the message was sent in (photo or text),
        for an update; None for a retraction or a deletion.
        """
        done = RevisionOutcome(copy.delivery_id, done=True)
        if copy.revision is Revision.DELETE:
            try:
                await self._call(copy, post, None)
            except TelegramError as exc:
                if classify(exc).fault is not Fault.CANNOT_DELETE:
                    raise
                await self._call(replace(copy, revision=Revision.RETRACT), post, None)
                return done
            return replace(done, deleted=True)
        return replace(done, image=await self._update(copy, post, card))

    async def _update(self, copy: SentMessage, post: Post | None, card: Card | None) -> str | None:
        """Edit the message; returns the new lead image when the message now shows one."""
        url = new_image(copy, post) if card is not None and card.has_photo else None
        if url is None:
            await self._call(copy, post, card)
            return None
        if self._images.unavailable(url):
            await self._call(replace(copy, sent_image=url), post, card)  # the caption alone
            return None
        known = await self._images.file_id(url)
        try:
            answer = await self._call(copy, post, card, photo=known)
        except TelegramError as exc:
            if classify(exc).fault is not Fault.IMAGE_UNFETCHABLE:
                raise
            if known is not None:
                await self._images.forget(url)
            async with self._images.lock(url):
                answer = await self._with_upload(copy, post, card, url)
            if answer is None:
                await self._call(replace(copy, sent_image=url), post, card)
                return None
        await self._images.remember(url, photo_file_id(answer))
        return url

    async def _with_upload(
        self, copy: SentMessage, post: Post | None, card: Card | None, url: str
    ) -> Answer:
        """The image edit once Telegram could not fetch the URL: by a `file_id` another chat's
        edit got meanwhile, else by uploading the image; None when it cannot be had."""
        upload: str | InputFile | None = await self._images.file_id(url)
        if upload is None and not self._images.unavailable(url):
            upload = await self._images.upload(url, attach=True)
        if upload is None:
            return None
        try:
            return await self._call(copy, post, card, photo=upload)
        except TelegramError as exc:
            if classify(exc).fault is not Fault.IMAGE_UNFETCHABLE:
                raise
            self._images.mark_unavailable(url, str(exc))
            return None

    async def _call(
        self,
        copy: SentMessage,
        post: Post | None,
        card: Card | None,
        *,
        photo: str | InputFile | None = None,
    ) -> Answer:
        """Make the one Telegram call a revision needs, in its turn; finished edits are not errors.

        `photo` stands in for a new lead image's URL: a `file_id` Telegram already holds, or the
        image's bytes when Telegram could not fetch the URL itself.
        """
        await self._turn()
        try:
            if copy.revision is Revision.DELETE:
                return await self._bot.delete_message(copy.chat_id, copy.message_id)
            if copy.revision is Revision.RETRACT or card is None:
                return await self._edit(copy, retraction_text(post), None, None)
            return await self._edit_card(copy, card, post, photo)
        except TelegramError as exc:
            if classify(exc).fault not in (Fault.NOT_MODIFIED, Fault.MESSAGE_GONE):
                raise
            return None

    async def _edit_card(
        self, copy: SentMessage, card: Card, post: Post | None, photo: str | InputFile | None
    ) -> Message | bool:
        params = card.params
        buttons = keyboard(params, self._bot)
        image = new_image(copy, post)
        if card.has_photo and image:
            media = InputMediaPhoto(photo or image, caption=params["caption"], parse_mode="HTML")
            return await self._bot.edit_message_media(
                media, chat_id=copy.chat_id, message_id=copy.message_id, reply_markup=buttons
            )
        text = params["caption"] if card.has_photo else params["text"]
        return await self._edit(copy, text, buttons, link_preview(params))

    async def _edit(
        self,
        copy: SentMessage,
        text: str,
        buttons: InlineKeyboardMarkup | None,
        preview: LinkPreviewOptions | None,
    ) -> Message | bool:
        if copy.sent_as == "photo":
            return await self._bot.edit_message_caption(
                chat_id=copy.chat_id,
                message_id=copy.message_id,
                caption=text,
                parse_mode="HTML",
                reply_markup=buttons,
            )
        return await self._bot.edit_message_text(
            text,
            chat_id=copy.chat_id,
            message_id=copy.message_id,
            parse_mode="HTML",
            link_preview_options=preview,
            reply_markup=buttons,
        )
