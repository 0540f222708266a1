"""What a post becomes for one chat: its card, and the calls that get it there with its image.

A post's card is rendered once per version of the post and reused for every chat. Its lead image
goes, in this order of preference:
- as the `file_id` Telegram gave for the image before (no fetch, no upload);
- as its URL, for Telegram to fetch;
- uploaded by newsbot when Telegram cannot fetch the URL: the image is downloaded in the
  background (`ImageCache.fetch`), and one chat uploads it;
- not at all, when the image cannot be had: the chat gets the text card with a preview of the
  source.
An editor's photo (`photo_id`) is already Telegram's; when Telegram refuses it, the text card goes.

Until Telegram holds an image, one broadcast chat at a time tries it (`claim_image`): the others
of the post wait for the `file_id` its answer or its upload brings, instead of each sending the
URL to be refused. No download happens in a chat's turn: a chat that finds the bytes missing
starts the download and is put back (`ImagePending`); the sender looks again when it is done.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import Any

from telegram import Bot, InputFile
from telegram.error import TelegramError

from bot.calls import Sent, keyboard, link_preview, send
from bot.images import ImageCache
from bot.posts import Post
from bot.render import Card, render
from bot.telegram_errors import Fault, classify

#: Cards kept rendered; past this the cache starts afresh (posts change rarely, chats are many).
CARDS_KEPT = 512

Options = Mapping[str, Any]
"""Further parameters of a chat's messages: `message_thread_id`, `disable_notification`."""
#: The further parameters of the send under way in this task (see `Cards.send`).
_EXTRA: ContextVar[dict[str, Any]] = ContextVar("newsbot_card_extra", default={})  # noqa: B039


class ImagePending(Exception):
    """The image is being downloaded for an upload: the delivery waits, without its turn."""


Turn = Callable[[Bot], Awaitable[None]]
"""Waits until the bot may make its next call (the sender's pace); called before every call."""


@dataclass(frozen=True, slots=True)
class CardStyle:
    """How cards look for this newsroom."""

    zone: tzinfo = UTC
    source_name: str | None = None
    share: bool = False
    """A "Share" button beside "Read more" (`NEWSBOT_SHARE_BUTTON`)."""


class Cards:
    """Renders posts as cards and sends them to one chat, with the image fallbacks."""

    def __init__(
        self,
        bot: Bot,
        images: ImageCache,
        *,
        turn: Turn,
        style: CardStyle | None = None,
        paid_broadcast: bool = False,
        on_ready: Callable[[], None] = lambda: None,
    ) -> None:
        """`bot` is the broadcaster's; `paid_broadcast` marks its messages (and only its, not a
        reply made through another bot) `allow_paid_broadcast`. `on_ready` is called when a
        chat's try of an image is over, so the chats waiting for it may go."""
        self._bot = bot
        self._on_ready = on_ready
        self._trying: set[str] = set()
        """Images a broadcast chat is sending or uploading right now."""
        self._refused: set[str] = set()
        """Image URLs Telegram could not fetch in this run: they go as uploads."""
        self._images = images
        self._turn = turn
        self._style = style or CardStyle()
        self._paid_broadcast = paid_broadcast
        self._rendered: dict[tuple[str, str, bool, str | None], Card] = {}

    def card(self, post: Post, *, with_image: bool = True, image: str | None = None) -> Card:
        """The rendered card for a post, computed once per version of the post."""
        key = (post.id, post.digest, with_image, image)
        card = self._rendered.get(key)
        if card is None:
            if len(self._rendered) > CARDS_KEPT:
                self._rendered.clear()
            card = render(
                post,
                zone=self._style.zone,
                source_name=self._style.source_name,
                with_image=with_image,
                image=image,
                share=self._style.share,
            )
            self._rendered[key] = card
        return card

    def card_as_sent(self, post: Post, sent_as: str, sent_image: str | None) -> Card:
        """The post's current card in the form a reader's message has: a photo message keeps a
        photo (its new lead image, else the one it shows), a text message stays text."""
        photo = post.image or post.photo_id or sent_image
        if sent_as == "photo" and photo:
            return self.card(post, image=photo)
        return self.card(post, with_image=False)

    # --- one chat at a time until Telegram holds the image ----------------------------------

    def claim_image(self, post: Post, *, claim: bool = True) -> tuple[bool, str | None]:
        """Whether a broadcast chat may be sent the post now, and the image it then tries
        for every chat (to `release_image` when done), if any.

        A chat may go when the post has no image to try (none, one Telegram holds, one that
        cannot be had). Otherwise one chat at a time tries the image: its URL, or, once
        Telegram refused that, the upload of the downloaded bytes. While the download runs,
        nobody goes. With `claim=False` nothing is taken: a look only.
        """
        url = post.image
        if url is None or self._images.unavailable(url) or self._images.known(url):
            return True, None
        if url in self._trying:
            return False, None
        if url in self._refused and self._images.downloaded(url) is None:
            self._images.fetch(url)  # started or joined; `on_ready` says when it is over
            return self._images.unavailable(url), None
        if claim:
            self._trying.add(url)
        return True, url if claim else None

    def release_image(self, url: str) -> None:
        """The chat that tried the image is done, either way: the others may look again."""
        self._trying.discard(url)
        self._on_ready()

    # --- sending ----------------------------------------------------------------------------

    @property
    def zone(self) -> tzinfo:
        """The newsroom's time zone: dates on cards, and chats' digests and quiet hours."""
        return self._style.zone

    async def send(
        self, chat_id: int, post: Post, *, bot: Bot | None = None, extra: Options | None = None
    ) -> Sent:
        """Send a post's card now, with its image when at all possible, else as text.

        Broadcasts use the sender's own bot; replies to commands pass the application's bot so
        they do not wait behind a broadcast. `extra` goes with every call (a forum topic's
        `message_thread_id`, `disable_notification` in quiet hours). Telegram errors are left
        to the caller.
        """
        bot = bot or self._bot
        token = _EXTRA.set(dict(extra or {}))
        try:
            return await self._send(bot, chat_id, post)
        finally:
            _EXTRA.reset(token)

    async def say(self, chat_id: int, text: str, *, extra: Options | None = None) -> Sent:
        """Send plain text (an HTML message newsbot wrote) in the sender's turn."""
        await self._turn(self._bot)
        call = {"chat_id": chat_id, "text": text, "parse_mode": "HTML", **(extra or {})}
        call["link_preview_options"] = {"is_disabled": True}
        return await send(self._bot, "sendMessage", call)

    async def _send(self, bot: Bot, chat_id: int, post: Post) -> Sent:
        url = post.image
        if url is None and post.photo_id is not None:
            # An editor's photo: Telegram already holds it, there is nothing to download.
            try:
                return await self._call(bot, chat_id, self.card(post))
            except TelegramError as exc:
                if classify(exc).fault is not Fault.IMAGE_UNFETCHABLE:
                    raise
        if url is None or self._images.unavailable(url):
            return await self._call(bot, chat_id, self.card(post, with_image=False))
        known = await self._images.file_id(url)
        if known is None and url in self._refused:
            return await self._upload(bot, chat_id, post, url)
        try:
            answer = await self._call(bot, chat_id, self.card(post, image=known))
        except TelegramError as exc:
            if classify(exc).fault is not Fault.IMAGE_UNFETCHABLE:
                raise
            if known is not None:
                await self._images.forget(url)
            self._refused.add(url)
            return await self._upload(bot, chat_id, post, url)
        await self._images.remember(url, answer.photo)
        return answer

    async def _upload(self, bot: Bot, chat_id: int, post: Post, url: str) -> Sent:
        """Upload the image ourselves (once for all chats), or fall back to text.

        A broadcast never downloads in its turn: without the bytes at hand it starts the
        download and raises `ImagePending`. A reply to a reader may wait for it.
        """
        if (
            bot is self._bot
            and self._images.downloaded(url) is None
            and not self._images.unavailable(url)
            and await self._images.file_id(url) is None
        ):
            self._images.fetch(url)
            raise ImagePending(url)
        async with self._images.lock(url):
            known = await self._images.file_id(url)
            upload = None
            if known is None and not self._images.unavailable(url):
                upload = await self._images.upload(url)
            if upload is not None:
                try:
                    answer = await self._call(bot, chat_id, self.card(post), photo=upload)
                except TelegramError as exc:
                    if classify(exc).fault is not Fault.IMAGE_UNFETCHABLE:
                        raise
                    self._images.mark_unavailable(url, str(exc))
                else:
                    await self._images.remember(url, answer.photo)
                    return answer
        known = await self._images.file_id(url)
        if known is not None:
            return await self._call(bot, chat_id, self.card(post, image=known))
        return await self._call(bot, chat_id, self.card(post, with_image=False))

    async def _call(
        self, bot: Bot, chat_id: int, card: Card, *, photo: str | InputFile | None = None
    ) -> Sent:
        """Make the card's Bot API call for one chat (optionally with another photo).

        Only broadcasts, which go through the sender's own bot, are paid; a reply to a reader
        is not part of the broadcast rate. A broadcast's call is made as plain JSON
        (`bot.calls.send`); a reply goes through PTB's methods like every other reply.
        """
        await self._turn(bot)
        params = card.params
        extra = _EXTRA.get()
        if bot is self._bot:
            call = {"chat_id": chat_id, **params, **extra}
            if photo is not None:
                call["photo"] = photo
            if self._paid_broadcast:
                call["allow_paid_broadcast"] = True
            return await send(bot, card.method, call)
        buttons = keyboard(params, bot)
        if card.has_photo:
            message = await bot.send_photo(
                chat_id,
                photo=photo or params["photo"],
                caption=params["caption"],
                parse_mode=params["parse_mode"],
                reply_markup=buttons,
                **extra,
            )
        else:
            message = await bot.send_message(
                chat_id,
                text=params["text"],
                parse_mode=params["parse_mode"],
                link_preview_options=link_preview(params),
                reply_markup=buttons,
                **extra,
            )
        return Sent.of(message)
