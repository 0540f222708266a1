"""Channels: `/subscribe @channel [category...]`, `/unsubscribe @channel [...]`, `/channels`.

A bot cannot see commands posted in a channel, so editors subscribe channels from their private
chat with the bot (`bot.handlers.access`), and only channels where the bot is an administrator
allowed to post. A channel then receives posts like any chat, by the same rules
(`bot.readers.ReaderDesk.channel`).
"""

from __future__ import annotations

import logging

from telegram import Bot, ChatFullInfo, Message, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import filters

from bot.calls import reply
from bot.handlers.access import Access, Need, Ruling
from bot.handlers.deps import Deps
from bot.handlers.updates import Context, where
from bot.i18n import Texts
from bot.readers import ChatRef, channel_reference
from bot.telegram_errors import classify

log = logging.getLogger(__name__)


class NamesAChannel(filters.MessageFilter):
    """A command whose first word is a channel (`/subscribe @newsdesk world`)."""

    def filter(self, message: Message) -> bool:
        """Whether the word after the command is `@channel` or a channel's id."""
        words = (message.text or "").split(maxsplit=2)[1:2]
        return bool(words) and channel_reference(words[0]) is not None


class ChannelCommands:
    """The editors' commands for the channels the bot posts to."""

    def __init__(self, deps: Deps, access: Access) -> None:
        self._access = access
        self._desk = deps.reader_desk()

    async def channels(self, update: Update, context: Context) -> None:
        """The channels the bot posts to, for the bot's administrators."""
        _, message, texts = where(update)
        if message is None:
            return
        if await self._access.check(update, context.bot, Need.EDITOR_IN_PRIVATE) is Ruling.ALLOWED:
            await reply(message, await self._desk.channels(texts))
        else:
            await reply(message, texts("channel.admins_only"))

    async def subscribe(self, update: Update, context: Context) -> None:
        """`/subscribe @channel [category...]`: what the channel receives, as `/start` would."""
        await self._change(update, context, subscribe=True)

    async def unsubscribe(self, update: Update, context: Context) -> None:
        """`/unsubscribe @channel [category...]`: some categories, or (with none) everything."""
        await self._change(update, context, subscribe=False)

    async def _change(self, update: Update, context: Context, *, subscribe: bool) -> None:
        _, message, texts = where(update)
        if message is None or not await self._allowed(update, context, message, texts):
            return
        first, *words = context.args or [""]
        reference = channel_reference(first)
        if reference is None:
            return  # `NamesAChannel` lets no such command through
        choice = self._desk.choose(words)
        if choice.unknown:
            await reply(message, self._desk.unknown(texts, choice.unknown))
            return
        channel = await self._reach(context.bot, reference, message, texts, post=subscribe)
        if channel is None:
            return
        name = f"@{channel.username}" if channel.username else channel.title or str(channel.id)
        where_to = ChatRef(channel.id, channel.type, channel.title)
        change = await self._desk.channel(where_to, name, choice, texts, subscribe=subscribe)
        await reply(message, change.text)
        await self._desk.welcome(change)

    async def _allowed(
        self, update: Update, context: Context, message: Message, texts: Texts
    ) -> bool:
        """Editors only, in a private chat; anyone else is told so."""
        ruling = await self._access.check(update, context.bot, Need.EDITOR_IN_PRIVATE)
        if ruling is Ruling.NOT_EDITOR:
            await reply(message, texts("channel.admins_only"))
        elif ruling is Ruling.NOT_PRIVATE:
            await reply(message, texts("channel.private_only"))
        return ruling is Ruling.ALLOWED

    async def _reach(
        self, bot: Bot, reference: str | int, message: Message, texts: Texts, *, post: bool
    ) -> ChatFullInfo | None:
        """The channel, if it is one the bot can see (and, with `post`, post in); else a reply."""
        shown = str(reference)
        try:
            channel = await bot.get_chat(reference)
        except TelegramError as exc:
            if not classify(exc).final:
                raise
            log.info("channel not reachable channel=%s error=%s", reference, exc)
            await reply(message, texts("channel.not_found", channel=shown))
            return None
        if channel.type != ChatType.CHANNEL:
            await reply(message, texts("channel.not_channel", channel=shown))
            return None
        if post and not await self._access.may_post_in(bot, channel.id):
            await reply(message, texts("channel.cannot_post", channel=shown))
            return None
        return channel
