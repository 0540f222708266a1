"""Readers' commands: thin python-telegram-bot handlers over the store.

`/start` subscribes the chat to every category (and brings back a chat that had blocked the bot
or left); `/stop` unsubscribes it and drops whatever was still queued for it.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot.store import Joined, Store

log = logging.getLogger(__name__)

REPLIES = {
    Joined.NEW: "Subscribed. New posts will arrive here as they are published. /stop to end.",
    Joined.REACTIVATED: "Welcome back: this chat is subscribed again. /stop to end.",
    Joined.ALREADY: "This chat is already subscribed. /stop to unsubscribe.",
}
STOPPED = "Unsubscribed. No more posts will be sent here. /start to subscribe again."
NOT_SUBSCRIBED = "This chat was not subscribed. /start to subscribe."


def chat_title(update: Update) -> str | None:
    """A human name for the chat, for the operators' records."""
    chat = update.effective_chat
    if chat is None:
        return None
    return chat.title or chat.username or chat.full_name


def install(application: Application, store: Store) -> None:  # type: ignore[type-arg]
    """Register the reader commands on the application."""

    async def start(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        """Subscribe this chat to everything."""
        chat, message = update.effective_chat, update.effective_message
        if chat is None or message is None:
            return
        joined = await store.subscribe(chat.id, chat.type, chat_title(update))
        log.info("chat subscribed chat=%s type=%s how=%s", chat.id, chat.type, joined)
        await message.reply_text(REPLIES[joined])

    async def stop(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        """Unsubscribe this chat from everything."""
        chat, message = update.effective_chat, update.effective_message
        if chat is None or message is None:
            return
        was_active = await store.unsubscribe_all(chat.id)
        log.info("chat unsubscribed chat=%s", chat.id)
        await message.reply_text(STOPPED if was_active else NOT_SUBSCRIBED)

    application.add_handler(CommandHandler("start", start))
    application.add_handler(CommandHandler("stop", stop))
