"""Readers' choices as commands and buttons: /digest, /timezone, /quiet, /mute, /only,
/filters, /settings, and the forum commands /here and /topics.

Each handler reads the update, asks `bot.handlers.access` when it would change the chat's
choices (a private chat's reader, a group's admins), lets `bot.choices.ChoiceDesk` decide, and
answers in the reader's language. Answers to commands sent inside a forum topic go to that
topic (python-telegram-bot's `reply_text` keeps the message's `message_thread_id`). Every tap
on the settings keyboard edits the same message.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError

from bot.calls import edit_in_place, reply
from bot.choices import SETTINGS_PREFIX, ChoiceDesk
from bot.handlers.access import Access
from bot.handlers.deps import Deps
from bot.handlers.readers import markup
from bot.handlers.updates import Context, where
from bot.i18n import Texts
from bot.readers import ReaderDesk
from bot.subscriptions import Button
from bot.topics import icon_color, topic_name

log = logging.getLogger(__name__)

#: The most topics one `/topics create` makes (Telegram answers each call in its turn).
MOST_TOPICS = 20

Decide = Callable[[int, Sequence[str], Texts], Awaitable[str]]


class ChoiceCommands:
    """The commands and buttons of readers' choices, for one running bot."""

    def __init__(self, deps: Deps, access: Access, readers: ReaderDesk) -> None:
        self._access = access
        self._readers = readers
        sender = deps.sender

        def changed() -> None:
            """Deliveries may go now (a digest chat back to instant), or a digest be due."""
            sender.wake()
            sender.digests.poke()

        self.desk = ChoiceDesk(deps.store, deps.library, zone=deps.settings.zone, changed=changed)

    async def digest(self, update: Update, context: Context) -> None:
        """`/digest hourly`, `/digest daily 07:30`, `/digest twice daily`, `/digest instant`."""
        await self._command(update, context, self.desk.digest)

    async def timezone(self, update: Update, context: Context) -> None:
        """`/timezone Asia/Bangkok`: the zone of the chat's digests and quiet hours."""
        await self._command(update, context, self.desk.timezone)

    async def quiet(self, update: Update, context: Context) -> None:
        """`/quiet 22:00-07:00`, `/quiet off`, `/quiet breaking on`."""
        await self._command(update, context, self.desk.quiet)

    async def mute(self, update: Update, context: Context) -> None:
        """`/mute word ...`: posts with these words no longer reach the chat."""

        async def decide(chat_id: int, words: Sequence[str], texts: Texts) -> str:
            return await self.desk.add_filter(chat_id, words, texts, only=False)

        await self._command(update, context, decide)

    async def only(self, update: Update, context: Context) -> None:
        """`/only word ...`: only posts with one of these words reach the chat."""

        async def decide(chat_id: int, words: Sequence[str], texts: Texts) -> str:
            return await self.desk.add_filter(chat_id, words, texts, only=True)

        await self._command(update, context, decide)

    async def filters(self, update: Update, _: Context) -> None:
        """The chat's word filters, with a button to clear them."""
        chat, message, texts = where(update)
        if chat is None or message is None:
            return
        text = await self.desk.filters(chat.id, texts)
        rows = [[Button(texts("choices.clear_filters_button"), SETTINGS_PREFIX + "f")]]
        await reply(message, text, reply_markup=markup(rows))

    async def settings(self, update: Update, _: Context) -> None:
        """Every choice of the chat, with a button for each."""
        chat, message, texts = where(update)
        if chat is None or message is None:
            return
        screen = await self.desk.settings(chat.id, texts)
        await reply(message, screen.text, reply_markup=markup(screen.rows))

    async def button(self, update: Update, context: Context) -> None:
        """A tap on the settings keyboard: change the choice, edit the same message."""
        press = await self._access.chat_admin_press(update, context.bot)
        if press is None:
            return
        query, chat, texts = press.query, press.chat, press.texts
        if press.data == SETTINGS_PREFIX + "c":
            keyboard = await self._readers.keyboard(chat.id, texts)
            rows = keyboard.rows or []
            await query.answer()
            await edit_in_place(query.edit_message_text(keyboard.text, reply_markup=markup(rows)))
            return
        screen = await self.desk.press(chat.id, press.data, texts)
        if screen is None:
            await query.answer(texts("button.stale"))
            return
        await query.answer()
        await edit_in_place(query.edit_message_text(screen.text, reply_markup=markup(screen.rows)))

    # --- forum topics -------------------------------------------------------------------------

    async def here(self, update: Update, context: Context) -> None:
        """`/here world business` inside a forum topic: those categories go there."""
        chat, message, texts = where(update)
        if chat is None or message is None or not await self._may_change(update, context):
            return
        if not chat.is_forum:
            await reply(message, texts("topics.not_forum"))
            return
        if not message.is_topic_message or message.message_thread_id is None:
            await reply(message, texts("topics.here_outside"))
            return
        words = context.args or []
        await reply(message, await self.desk.here(chat.id, message.message_thread_id, words, texts))

    async def topics(self, update: Update, context: Context) -> None:
        """`/topics create`, `/topics general on|off`; without words, the forum's routes."""
        chat, message, texts = where(update)
        if chat is None or message is None:
            return
        words = context.args or []
        if words and not await self._may_change(update, context):
            return
        if chat.type != ChatType.SUPERGROUP or not chat.is_forum:
            await reply(message, texts("topics.not_forum"))
            return
        if [w.casefold() for w in words] != ["create"]:
            await reply(message, await self.desk.topics(chat.id, words, texts))
            return
        made: dict[str, int] = {}
        for key, name in list((await self.desk.to_create(chat.id)).items())[:MOST_TOPICS]:
            try:
                topic = await context.bot.create_forum_topic(
                    chat.id, topic_name(name), icon_color=icon_color(key)
                )
            except TelegramError as exc:
                log.info("topic not created chat=%s error=%s", chat.id, exc)
                if not made:
                    await reply(message, texts("topics.cannot_create"))
                    return
                break
            made[key] = topic.message_thread_id
        await reply(message, await self.desk.created(chat.id, made, texts))

    # --- helpers ------------------------------------------------------------------------------

    async def _command(self, update: Update, context: Context, decide: Decide) -> None:
        """Answer a choice command: showing needs nobody's leave, changing needs an admin's."""
        chat, message, texts = where(update)
        if chat is None or message is None:
            return
        words = context.args or []
        if words and not await self._may_change(update, context):
            return
        await reply(message, await decide(chat.id, words, texts))

    async def _may_change(self, update: Update, context: Context) -> bool:
        return await self._access.may_change(update, context.bot, "choices.admins_only")
