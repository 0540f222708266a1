"""The command menus Telegram shows: readers' in every language, editors' in their own chats.

A category's command appears as soon as a scan finds the category: `publish` is cheap to call
after every scan and only calls Telegram when the categories changed. A failure is logged and
tried again at the next call. The menu is no access control (see `bot.handlers.access`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES, Texts, catalogue
from bot.posts import PostLibrary
from bot.readers import menu

log = logging.getLogger(__name__)


class CommandMenu:
    """Keeps Telegram's command menus in step with the newsroom's categories."""

    def __init__(self, bot: Bot, library: PostLibrary, editors: Collection[int]) -> None:
        self._bot = bot
        self._library = library
        self._editors = sorted(editors)
        self._published: tuple[str, ...] | None = None
        self._lock = asyncio.Lock()

    async def publish(self) -> None:
        """Set the command menus, when the categories changed since they were last set."""
        keys = tuple(self._library.categories)
        async with self._lock:
            if keys == self._published:
                return
            try:
                for language in LANGUAGES:
                    await self._bot.set_my_commands(
                        self._commands(catalogue(language), editor=False),
                        language_code=None if language == DEFAULT_LANGUAGE else language,
                    )
            except TelegramError as exc:
                log.warning("command menu not set, trying again later: %s", exc)
                return
            for editor in self._editors:
                await self._publish_for_editor(self._bot, editor)
            self._published = keys
            log.info("command menu set categories=%d", len(keys))

    async def publish_for_editor(self, bot: Bot, chat_id: int) -> None:
        """The editors' menu in one editor's private chat (when they /start it)."""
        async with self._lock:
            await self._publish_for_editor(bot, chat_id)

    async def _publish_for_editor(self, bot: Bot, chat_id: int) -> None:
        try:
            for language in LANGUAGES:
                await bot.set_my_commands(
                    self._commands(catalogue(language), editor=True),
                    scope=BotCommandScopeChat(chat_id),
                    language_code=None if language == DEFAULT_LANGUAGE else language,
                )
        except TelegramError as exc:
            # Telegram refuses a chat scope until the editor has opened a chat with the bot;
            # their /start sets it then.
            log.info("admin menu not set chat=%s error=%s", chat_id, exc)

    def _commands(self, texts: Texts, *, editor: bool) -> list[BotCommand]:
        return [
            BotCommand(command, description)
            for command, description in menu(texts, self._library.categories, editor=editor)
        ]
