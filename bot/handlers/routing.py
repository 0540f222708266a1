"""Which handler takes an update: the throttle gate, the commands, the fallback, the error handler.

- Every update first passes the gate: each reader may be answered a few times in a few seconds
  (`bot.throttle`); past that, one polite notice, then silence until there is room again. A
  message the bot will answer waits for a turn of the bot's overall pace first, the one the
  broadcast keeps to: however many readers write at once, answers stay inside Telegram's limit.
- A command addressed to another bot (`/latest@OtherBot`) is not ours. A command nobody else
  takes is a category's own command (`/world`), or gets a short help; words in a private chat
  are a search (`bot.handlers.search`), and anything else there gets the help. In a group, an
  unknown command not addressed to us may be another bot's: no answer.
- Edits are not commands: only new messages are read (`MESSAGES`), so a message or a photo's
  caption edited to read `/breaking ...` or `/stop` does nothing.
- A handler that fails is logged with the update, and a reader in a private chat hears that
  something went wrong rather than nothing at all.

The Application handles updates one at a time, in order (python-telegram-bot's default,
`concurrent_updates` 1): only `/latest`, searches and the fallback run beside the next updates
(`block=False`), so sending cards never holds up other readers.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ChosenInlineResultHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.calls import reply
from bot.choices import SETTINGS_PREFIX as SETTINGS_BUTTONS
from bot.handlers.access import Access
from bot.handlers.channels import ChannelCommands, NamesAChannel
from bot.handlers.choices import ChoiceCommands
from bot.handlers.deps import Deps
from bot.handlers.editors import BREAKING_CAPTION, EditorCommands
from bot.handlers.editors import BUTTON_PREFIX as EDITOR_BUTTONS
from bot.handlers.menu import CommandMenu
from bot.handlers.readers import ReaderCommands
from bot.handlers.search import SearchCommands
from bot.handlers.updates import MESSAGES, Context, addressed_command, where
from bot.i18n import texts_for
from bot.search import BUTTON_PREFIX as SEARCH_BUTTONS
from bot.subscriptions import BUTTON_PREFIX as CATEGORY_BUTTONS
from bot.throttle import ReaderThrottle, Verdict

log = logging.getLogger(__name__)


class Fallback(MessageHandler):  # type: ignore[type-arg]
    """A handler for what nothing else takes: help for an unknown command, or for chatter.

    Other parts of the bot (editors' commands, say) may register their handlers after these, in
    any group; a plain catch-all registered first would answer their commands as unknown. This
    one steps aside for any update another handler accepts. Handlers that accept every update
    (`TypeHandler`: gates, counters) claim nothing in particular and are not asked.
    """

    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        message_filter: filters.BaseFilter,
        callback: Any,
        *,
        block: bool = True,
    ) -> None:
        super().__init__(message_filter, callback, block=block)
        self.application = application

    def check_update(self, update: object) -> Any:
        """Accept the update when the filter does and no other handler would take it."""
        result = super().check_update(update)
        if not result:
            return result
        for handlers in self.application.handlers.values():
            for handler in handlers:
                if isinstance(handler, Fallback | TypeHandler):
                    continue
                if handler.check_update(update) not in (None, False):
                    return None
        return result


class Routing:
    """The gate in front of every handler, and the answers when no handler fits."""

    def __init__(
        self,
        readers: ReaderCommands,
        *,
        turn: Callable[[], Awaitable[None]] | None = None,
        throttle: ReaderThrottle | None = None,
        button_throttle: ReaderThrottle | None = None,
    ) -> None:
        """`turn` waits for a turn of the bot's overall pace (`Sender.reply_turn`)."""
        self._readers = readers
        self._turn = turn
        # Eight answers in ten seconds is more than anyone types; a flood is far beyond it.
        self._throttle = throttle or ReaderThrottle(limit=8, window=10.0)
        # Tapping through the category toggles is quicker than typing commands.
        self._button_throttle = button_throttle or ReaderThrottle(limit=20, window=10.0)

    async def throttle_gate(self, update: Update, context: Context) -> None:
        """Throttle each reader; stop the update here when they are over their limit."""
        verdict = self._verdict(update, context.bot.username)
        answers = verdict is Verdict.ANSWER or verdict is Verdict.NOTICE
        if answers and update.message is not None and self._turn is not None:
            # The answer is a message: it counts against the bot's limit. A dropped update
            # takes no turn, so a reader flooding the bot cannot slow the broadcast.
            await self._turn()
        if verdict is None or verdict is Verdict.ANSWER:
            return
        if verdict is Verdict.NOTICE:
            await _notice(update)
        raise ApplicationHandlerStop

    def _verdict(self, update: Update, bot_username: str) -> Verdict | None:
        """What the throttle says about this update; None for one the bot would not answer."""
        user, query, message = update.effective_user, update.callback_query, update.message
        if user is None:
            return None
        if query is not None:
            return self._button_throttle.check(user.id)
        if message is not None and _answered(message, bot_username):
            # Anonymous group admins all share one user id; their group is who they are.
            return self._throttle.check(message.sender_chat.id if message.sender_chat else user.id)
        return None

    async def other(self, update: Update, context: Context) -> None:
        """A category's own command (`/world`), or a short help for a command we do not know."""
        chat, message, texts = where(update)
        if chat is None or message is None:
            return
        command = addressed_command(message, context.bot.username)
        if command is None:
            return  # for another bot
        if self._readers.desk.is_category(command.name):
            await self._readers.category(update, context, command.name, command.words)
        elif chat.type == ChatType.PRIVATE or command.addressed:
            await reply(message, texts("unknown.command", command=command.name))
        # else: in a group, an unknown command not addressed to us may be another bot's

    async def chatter(self, update: Update, _: Context) -> None:
        """Anything but a command in a private chat: say what the bot understands."""
        _chat, message, texts = where(update)
        if message is not None:
            await reply(message, texts("unknown.text"))

    async def failed(self, update: object, context: Context) -> None:
        """A handler raised: log it with the update, and tell a reader in a private chat.

        Without this, PTB logs the exception under its own name and the reader, who sent a
        command, hears nothing at all.
        """
        error = context.error
        chat = update.effective_chat if isinstance(update, Update) else None
        log.error(
            "handling an update failed update=%s chat=%s error=%s",
            update.update_id if isinstance(update, Update) else None,
            chat.id if chat is not None else None,
            f"{type(error).__name__}: {error}",
            exc_info=error,
        )
        if not isinstance(update, Update) or chat is None or chat.type != ChatType.PRIVATE:
            return
        texts = where(update)[2]
        with contextlib.suppress(TelegramError):
            await context.bot.send_message(chat.id, texts("error.failed"))


async def _notice(update: Update) -> None:
    """Tell a reader, once, that they are going faster than the bot can answer."""
    user, query, message = update.effective_user, update.callback_query, update.message
    assert user is not None  # only a reader's update is throttled
    log.info("reader throttled user=%s", user.id)
    notice = texts_for(user.language_code)("throttle.notice")
    try:
        if query is not None:
            await query.answer(notice)
        elif message is not None:
            await reply(message, notice)
    except TelegramError as exc:
        log.info("throttle notice not sent user=%s error=%s", user.id, exc)


def _answered(message: Message, bot_username: str) -> bool:
    """Whether the bot would answer this message: a command for it, or a private word."""
    if message.chat.type == ChatType.PRIVATE:
        return True
    return addressed_command(message, bot_username) is not None


def install(
    application: Application,  # type: ignore[type-arg]
    deps: Deps,
    **options: Any,
) -> CommandMenu:
    """Register every handler on the application; returns the menu to keep up to date.

    `options` go to `Routing` (the readers' throttles).
    """
    access = Access(deps.settings.admin_ids)
    menu = CommandMenu(application.bot, deps.library, deps.settings.admin_ids)
    readers = ReaderCommands(deps, access, menu)
    channels = ChannelCommands(deps, access)
    editors = EditorCommands(deps, access)
    search = SearchCommands(deps)
    choices = ChoiceCommands(deps, access, readers.desk)
    routing = Routing(readers, turn=deps.sender.reply_turn, **options)
    add = application.add_handler

    add(TypeHandler(Update, routing.throttle_gate), group=-1)
    # A first word `@channel` makes /subscribe and /unsubscribe the channel commands.
    to_channel = MESSAGES & NamesAChannel()
    add(CommandHandler("subscribe", channels.subscribe, filters=to_channel))
    add(CommandHandler("unsubscribe", channels.unsubscribe, filters=to_channel))
    for names, callback, block in (
        ("start", readers.start, True),
        ("stop", readers.stop, True),
        ("help", readers.show_help, True),
        ("latest", readers.latest, False),  # sending cards must not hold up other readers
        ("categories", readers.categories, True),
        ("settings", choices.settings, True),
        ("digest", choices.digest, True),
        ("timezone", choices.timezone, True),
        ("quiet", choices.quiet, True),
        ("mute", choices.mute, True),
        ("only", choices.only, True),
        ("filters", choices.filters, True),
        ("here", choices.here, True),
        ("topics", choices.topics, True),
        ("subscribe", readers.subscribe, True),
        ("unsubscribe", readers.unsubscribe, True),
        ("language", readers.language, True),
        ("channels", channels.channels, True),
        ("breaking", editors.breaking, True),
        ("push", editors.push, True),
        ("retract", editors.retract, True),
        ("stats", editors.stats, True),
        ("reload", editors.reload, True),
        ("search", search.search, False),  # a search must not hold up other readers
        ("share", search.share, True),
        ("progress", editors.progress, True),
    ):
        add(CommandHandler(names, callback, filters=MESSAGES, block=block))
    # A photo captioned `/breaking ...`; a caption edited to read so is no command (MESSAGES).
    breaking_photo = MESSAGES & filters.PHOTO & filters.CaptionRegex(BREAKING_CAPTION)
    add(MessageHandler(breaking_photo, editors.breaking))
    add(CallbackQueryHandler(readers.button, pattern=f"^{re.escape(CATEGORY_BUTTONS)}"))
    add(CallbackQueryHandler(editors.button, pattern=f"^{re.escape(EDITOR_BUTTONS)}"))
    add(CallbackQueryHandler(search.page, pattern=f"^{re.escape(SEARCH_BUTTONS)}", block=False))
    add(InlineQueryHandler(search.inline, block=False))
    add(ChosenInlineResultHandler(search.chosen))
    add(CallbackQueryHandler(choices.button, pattern=f"^{re.escape(SETTINGS_BUTTONS)}"))
    # Category commands, and a word for what nobody understood: after everything else.
    add(Fallback(application, MESSAGES & filters.COMMAND, routing.other, block=False))
    private_words = (
        MESSAGES & filters.ChatType.PRIVATE & ~filters.COMMAND & ~filters.StatusUpdate.ALL
    )
    # Words in a private chat are a search; anything else there (a sticker, a photo) gets help.
    add(Fallback(application, private_words & filters.TEXT, search.words, block=False))
    add(Fallback(application, private_words & ~filters.TEXT, routing.chatter))
    application.add_error_handler(routing.failed)
    return menu
