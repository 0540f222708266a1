"""Reading an update: which chat, which message, which words, in which language to answer.

python-telegram-bot hands every handler the whole update; these few functions pull out what the
core needs as plain values (`bot.readers.ChatRef`, words, `Texts`), the same way everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Chat as TelegramChat
from telegram import Message, Update
from telegram.ext import ContextTypes, filters

from bot.i18n import Texts, texts_for
from bot.readers import ChatRef
from bot.subscriptions import MOST_WORDS

Context = ContextTypes.DEFAULT_TYPE
#: New messages only: no edits, no channel posts (commands posted in a channel are not ours).
MESSAGES = filters.UpdateType.MESSAGE


def where(update: Update) -> tuple[TelegramChat | None, Message | None, Texts]:
    """The chat, the message and the texts in the sender's language."""
    user = update.effective_user
    return (
        update.effective_chat,
        update.message,
        texts_for(user.language_code if user is not None else None),
    )


def chat_ref(chat: TelegramChat) -> ChatRef:
    """The chat as the core knows it, with a human name for the operators' records."""
    return ChatRef(chat.id, chat.type, chat.title or chat.username or chat.full_name)


@dataclass(frozen=True, slots=True)
class Command:
    """A command as a reader typed it: `/latest@newsbot world 3`."""

    name: str
    words: list[str]
    addressed: bool
    """Whether it named this bot (`@newsbot`), rather than any bot in the chat."""


def addressed_command(message: Message, bot_username: str) -> Command | None:
    """The command a message gives us, or None.

    None when the message is no command, or a command for another bot (`/latest@OtherBot`).
    """
    entities = message.entities
    text = message.text
    if not text or not entities or entities[0].type != "bot_command" or entities[0].offset:
        return None
    name, _, target = text[1 : entities[0].length].partition("@")
    if target and target.lower() != bot_username.lower():
        return None
    # Split no further than the core reads: the rest of a long message is never looked at.
    words = text.split(maxsplit=MOST_WORDS + 1)[1 : MOST_WORDS + 1]
    return Command(name.lower(), words, addressed=bool(target))
