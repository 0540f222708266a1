"""Readers' commands: thin python-telegram-bot handlers over the subscription rules and the store.

Each handler reads the update (who, which chat, which words), asks `bot.subscriptions` what that
means, writes it with the store and answers in the reader's language (`bot.i18n`). The rules for
who may do what live here, because they are about Telegram chats:

- Private chats: anyone. Groups: anyone may read (`/latest`, `/help`, category commands); only
  the group's administrators (asked with getChatMember, remembered for a minute) may change what
  the group receives. A command addressed to another bot (`/latest@OtherBot`) is not ours.
- Channels: the bot's administrators (`NEWSBOT_ADMIN_IDS`, and nobody else) subscribe them from a
  private chat, after the bot checked it may post there. Commands posted in a channel are ignored.
- Replies use the application's own connection pool, so a broadcast in progress never delays
  them; cards for `/latest` are sent by `Sender.send_post`, the same card the broadcast sends.
  The few posts a new subscriber gets first go through the delivery queue instead, which makes
  them durable and never duplicated.
- Each reader may be answered a few times in a few seconds (`bot.throttle`); past that, one
  polite notice, then silence until there is room again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from telegram import Bot as TelegramBot
from telegram import (
    BotCommand,
    BotCommandScopeChat,
    ChatFullInfo,
    ChatMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram import Chat as TelegramChat
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.calls import reply
from bot.delivery import Sender
from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES, Texts, catalogue, texts_for
from bot.pace import seconds
from bot.posts import Category, Post, PostLibrary
from bot.settings import Settings
from bot.store import ALL, Chat, Joined, Store
from bot.subscriptions import (
    BUTTON_PREFIX,
    Choice,
    LatestRequest,
    backlog_candidates,
    categories_keyboard,
    category_names,
    choose_categories,
    choose_languages,
    deep_link_categories,
    latest_request,
    newest,
    pressed,
    with_categories,
    without_categories,
)
from bot.throttle import ReaderThrottle, Verdict

log = logging.getLogger(__name__)

#: The reader commands, in menu order. `/settings` is `/categories` under another name.
READER_COMMANDS = (
    "start",
    "latest",
    "categories",
    "subscribe",
    "unsubscribe",
    "language",
    "help",
    "stop",
)
ADMIN_COMMANDS = ("channels", "breaking", "push", "retract", "stats", "reload")
FIXED_COMMANDS = frozenset({*READER_COMMANDS, *ADMIN_COMMANDS, "settings"})
#: Telegram keeps at most 100 commands per menu.
MAX_MENU = 100
#: A new subscriber's first posts go ahead of a broadcast in progress.
BACKLOG_PRIORITY = 10
#: How long a group administrator check is trusted.
ADMIN_CHECK_SECONDS = 60.0
#: The longest a reply waits out Telegram's flood control before giving up.
MAX_REPLY_WAIT = 10.0

_CHANNEL_ID = re.compile(r"-\d{5,}")
_ADMIN_STATUSES = frozenset({ChatMember.ADMINISTRATOR, ChatMember.OWNER})
_MESSAGES = filters.UpdateType.MESSAGE  # new messages only: no edits, no channel posts

Context = ContextTypes.DEFAULT_TYPE


def chat_title(update: Update) -> str | None:
    """A human name for the chat, for the operators' records."""
    chat = update.effective_chat
    if chat is None:
        return None
    return chat.title or chat.username or chat.full_name


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
    return Command(name.lower(), text.split()[1:], addressed=bool(target))


def channel_reference(word: str) -> str | int | None:
    """`@channel` or a channel's numeric id, as given to `/subscribe`; None for anything else."""
    if len(word) > 1 and word.startswith("@"):
        return word
    if _CHANNEL_ID.fullmatch(word):
        return int(word)
    return None


def menu(
    texts: Texts, categories: Mapping[str, Category], *, admin: bool = False
) -> list[tuple[str, str]]:
    """The command menu (command, description): reader commands, then one per category."""
    names = READER_COMMANDS + (ADMIN_COMMANDS if admin else ())
    entries = [(name, texts(f"menu.{name}")) for name in names]
    for key, category in categories.items():
        if len(entries) >= MAX_MENU:
            break
        if key not in FIXED_COMMANDS:
            entries.append((key, texts("menu.category", name=category.name)[:256]))
    return entries


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


class GroupAdmins:
    """Whether a user administers a group, asked of Telegram and remembered for a while.

    Every change a group asks for needs the answer, and a group's admins rarely change within
    a minute, so one getChatMember per user and group a minute is plenty.
    """

    def __init__(self, ttl: float = ADMIN_CHECK_SECONDS) -> None:
        self._ttl = ttl
        self._known: dict[tuple[int, int], tuple[bool, float]] = {}

    async def check(self, bot: TelegramBot, chat_id: int, user_id: int) -> bool:
        """Whether `user_id` is an administrator (or the owner) of `chat_id`."""
        now = time.monotonic()
        known = self._known.get((chat_id, user_id))
        if known is not None and known[1] > now:
            return known[0]
        try:
            member = await bot.get_chat_member(chat_id, user_id)
        except TelegramError as exc:
            log.warning("admin check failed chat=%s user=%s error=%s", chat_id, user_id, exc)
            return False
        if len(self._known) > 4096:
            self._known = {k: v for k, v in self._known.items() if v[1] > now}
        allowed = member.status in _ADMIN_STATUSES
        self._known[(chat_id, user_id)] = (allowed, now + self._ttl)
        return allowed


class Readers:
    """The reader (and channel-admin) commands of one running bot."""

    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        store: Store,
        library: PostLibrary,
        sender: Sender,
        settings: Settings,
        *,
        throttle: ReaderThrottle | None = None,
        button_throttle: ReaderThrottle | None = None,
    ) -> None:
        self._application = application
        self._store = store
        self._library = library
        self._sender = sender
        self._settings = settings
        # Eight answers in ten seconds is more than anyone types; a flood is far beyond it.
        self._throttle = throttle or ReaderThrottle(limit=8, window=10.0)
        # Tapping through the category toggles is quicker than typing commands.
        self._button_throttle = button_throttle or ReaderThrottle(limit=20, window=10.0)
        self._admins = GroupAdmins()
        self._menu_keys: tuple[str, ...] | None = None
        self._menu_lock = asyncio.Lock()

    def install(self) -> None:
        """Register the handlers on the application."""
        app = self._application
        app.add_handler(TypeHandler(Update, self._gate), group=-1)
        for names, callback, block in (
            ("start", self.start, True),
            ("stop", self.stop, True),
            ("help", self.show_help, True),
            ("latest", self.latest, False),  # sending cards must not hold up other readers
            (("categories", "settings"), self.categories, True),
            ("subscribe", self.subscribe, True),
            ("unsubscribe", self.unsubscribe, True),
            ("language", self.language, True),
            ("channels", self.channels, True),
        ):
            app.add_handler(CommandHandler(names, callback, filters=_MESSAGES, block=block))
        app.add_handler(CallbackQueryHandler(self.button, pattern=f"^{re.escape(BUTTON_PREFIX)}"))
        # Category commands, and a word for what nobody understood: after everything else.
        app.add_handler(Fallback(app, _MESSAGES & filters.COMMAND, self.other, block=False))
        private_words = (
            _MESSAGES & filters.ChatType.PRIVATE & ~filters.COMMAND & ~filters.StatusUpdate.ALL
        )
        app.add_handler(Fallback(app, private_words, self.chatter))
        app.add_error_handler(self._failed)

    async def _failed(self, update: object, context: Context) -> None:
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
        texts = _where(update)[2]
        with contextlib.suppress(TelegramError):
            await context.bot.send_message(chat.id, texts("error.failed"))

    # --- the gate every command passes ----------------------------------------------------------

    async def _gate(self, update: Update, context: Context) -> None:
        """Throttle each reader; stop the update here when they are over their limit."""
        user = update.effective_user
        if user is None:
            return
        query = update.callback_query
        message = update.message
        if query is not None:
            verdict = self._button_throttle.check(user.id)
        elif message is not None and self._answers(message, context.bot.username):
            # Anonymous group admins all share one user id; their group is who they are.
            reader = message.sender_chat.id if message.sender_chat else user.id
            verdict = self._throttle.check(reader)
        else:
            return
        if verdict is Verdict.ANSWER:
            return
        if verdict is Verdict.NOTICE:
            log.info("reader throttled user=%s", user.id)
            notice = texts_for(user.language_code)("throttle.notice")
            try:
                if query is not None:
                    await query.answer(notice)
                elif message is not None:
                    await reply(message, notice)
            except TelegramError as exc:
                log.info("throttle notice not sent user=%s error=%s", user.id, exc)
        raise ApplicationHandlerStop

    @staticmethod
    def _answers(message: Message, bot_username: str) -> bool:
        """Whether the bot would answer this message: a command for it, or a private word."""
        if message.chat.type == ChatType.PRIVATE:
            return True
        return addressed_command(message, bot_username) is not None

    # --- who may change what a chat receives --------------------------------------------------

    async def _may_change(self, update: Update, context: Context) -> bool:
        """Private chats may change their own subscriptions; groups only through their admins."""
        chat, user = update.effective_chat, update.effective_user
        if chat is None or user is None:
            return False
        if chat.type == ChatType.PRIVATE:
            return True
        if chat.type == ChatType.CHANNEL:
            return False
        message = update.message
        if message is not None and message.sender_chat and message.sender_chat.id == chat.id:
            return True  # an anonymous administrator, writing as the group itself
        return await self._admins.check(context.bot, chat.id, user.id)

    def _is_bot_admin(self, update: Update) -> bool:
        user = update.effective_user
        return user is not None and user.id in self._settings.admin_ids

    # --- reader commands ------------------------------------------------------------------------

    async def start(self, update: Update, context: Context) -> None:
        """Subscribe this chat: everything, or the categories a deep link names."""
        chat, message, texts = _where(update)
        if chat is None or message is None:
            return
        if not await self._may_change(update, context):
            await reply(message, texts("group.admins_only"))
            return
        categories = self._library.categories
        choice = deep_link_categories(context.args or [], categories)
        before = await self._store.chat(chat.id)
        kept = before.categories if before is not None else frozenset()
        # A deep link adds its categories; a plain /start keeps a returning chat's choice.
        wanted = with_categories(kept, choice.keys) if choice.keys else kept or frozenset({ALL})
        joined = await self._store.set_subscriptions(chat.id, chat.type, chat_title(update), wanted)
        log.info("chat subscribed chat=%s type=%s how=%s", chat.id, chat.type, joined)
        if joined is Joined.ALREADY and not kept:
            joined = Joined.NEW  # a chat that had chosen "None" is subscribing anew
        lines = []
        if choice.unknown:
            lines.append(self._unknown_categories(texts, choice))
        lines.append(texts(f"start.{joined}", categories=self._describe(texts, wanted)))
        lines.append(texts("start.how"))
        await reply(message, "\n\n".join(lines))
        await self._welcome(chat.id, before, wanted)
        if chat.type == ChatType.PRIVATE and self._is_bot_admin(update):
            await self._publish_admin_menu(context.bot, chat.id)

    async def stop(self, update: Update, context: Context) -> None:
        """Unsubscribe this chat from everything and drop what was queued for it."""
        chat, message, texts = _where(update)
        if chat is None or message is None:
            return
        if not await self._may_change(update, context):
            await reply(message, texts("group.admins_only"))
            return
        was_active = await self._store.unsubscribe_all(chat.id)
        log.info("chat unsubscribed chat=%s", chat.id)
        await reply(message, texts("stop.done" if was_active else "stop.not_subscribed"))

    async def show_help(self, update: Update, _: Context) -> None:
        """What the bot does, its commands, and the categories there are."""
        chat, message, texts = _where(update)
        if chat is None or message is None:
            return
        parts = [texts("help.text")]
        keys = [f"/{key}" for key in self._library.categories if key not in FIXED_COMMANDS]
        if keys:
            parts.append(texts("help.categories", commands=" ".join(keys)))
        if chat.type != ChatType.PRIVATE:
            parts.append(texts("help.groups"))
        elif self._is_bot_admin(update):
            parts.append(texts("help.admin"))
        await reply(message, "\n\n".join(parts))

    async def latest(self, update: Update, context: Context) -> None:
        """The newest posts, as cards: `/latest`, `/latest 3`, `/latest world 3`."""
        chat, message, texts = _where(update)
        if chat is None or message is None:
            return
        categories = self._library.categories
        request = latest_request(context.args or [], categories)
        if request.unknown:
            await reply(message, self._unknown_categories(texts, Choice(unknown=request.unknown)))
            return
        await self._send_latest(context.bot, chat.id, message, texts, request)

    async def other(self, update: Update, context: Context) -> None:
        """A category's own command (`/world`), or a short help for a command we do not know."""
        chat, message, texts = _where(update)
        if chat is None or message is None:
            return
        command = addressed_command(message, context.bot.username)
        if command is None:
            return  # for another bot
        name = command.name
        categories = self._library.categories
        if name in categories:
            request = latest_request(command.words, categories, category=name)
            if request.unknown:
                await reply(
                    message, self._unknown_categories(texts, Choice(unknown=request.unknown))
                )
                return
            await self._send_latest(context.bot, chat.id, message, texts, request)
            return
        if chat.type != ChatType.PRIVATE and not command.addressed:
            return  # in a group, an unknown command not addressed to us may be another bot's
        await reply(message, texts("unknown.command", command=name))

    async def chatter(self, update: Update, _: Context) -> None:
        """Anything but a command in a private chat: say what the bot understands."""
        message, texts = update.message, _where(update)[2]
        if message is not None:
            await reply(message, texts("unknown.text"))

    async def categories(self, update: Update, _: Context) -> None:
        """The categories keyboard: one toggle per category, plus "All" and "None"."""
        chat, message, texts = _where(update)
        if chat is None or message is None:
            return
        await self._show_keyboard(chat.id, message, texts)

    async def subscribe(self, update: Update, context: Context) -> None:
        """Add categories (`/subscribe world business`); with `@channel`, subscribe a channel."""
        await self._change_categories(update, context, subscribe=True)

    async def unsubscribe(self, update: Update, context: Context) -> None:
        """Drop categories (`/unsubscribe sport`); with `@channel`, a channel's."""
        await self._change_categories(update, context, subscribe=False)

    async def _change_categories(
        self, update: Update, context: Context, *, subscribe: bool
    ) -> None:
        """/subscribe and /unsubscribe: the same checks, then categories added or dropped.

        Without words they show the keyboard; a first word `@channel` hands over to the
        channel commands. Only /subscribe can start a subscription (and send the backlog).
        """
        chat, message, texts = _where(update)
        if chat is None or message is None:
            return
        words = context.args or []
        if words and (channel := channel_reference(words[0])) is not None:
            await self._channel(update, context, channel, words[1:], subscribe=subscribe)
            return
        if not await self._may_change(update, context):
            await reply(message, texts("group.admins_only"))
            return
        if not words:
            await self._show_keyboard(chat.id, message, texts)
            return
        categories = self._library.categories
        choice = choose_categories(words, categories)
        if choice.unknown:
            await reply(message, self._unknown_categories(texts, choice))
            return
        before = await self._store.chat(chat.id)
        if subscribe:
            current = before.categories if before is not None else frozenset()
            wanted = with_categories(current, choice.keys)
        elif before is None or not before.active:
            await reply(message, texts("stop.not_subscribed"))
            return
        else:
            wanted = without_categories(before.categories, choice.keys, categories)
        await self._store.set_subscriptions(chat.id, chat.type, chat_title(update), wanted)
        log.info("chat subscriptions chat=%s categories=%s", chat.id, sorted(wanted))
        await reply(message, texts("subscriptions.now", categories=self._describe(texts, wanted)))
        if subscribe:
            await self._welcome(chat.id, before, wanted)

    async def language(self, update: Update, context: Context) -> None:
        """Show or choose the article languages this chat receives: `/language en th`."""
        chat, message, texts = _where(update)
        if chat is None or message is None:
            return
        choice = choose_languages(context.args or [])
        before = await self._store.chat(chat.id)
        if not choice.invalid and choice.languages == frozenset():
            available = self._library.languages
            current = before.languages if before is not None else None
            await reply(
                message,
                texts(
                    "language.current",
                    languages=_languages(texts, current),
                    available=", ".join(available) or "–",
                ),
            )
            return
        if not await self._may_change(update, context):
            await reply(message, texts("group.admins_only"))
            return
        if choice.invalid:
            await reply(message, texts("language.invalid", codes=", ".join(choice.invalid)))
            return
        if before is None:
            await reply(message, texts("language.not_subscribed"))
            return
        await self._store.set_languages(chat.id, choice.languages)
        log.info("chat languages chat=%s languages=%s", chat.id, choice.languages)
        chosen = _languages(texts, choice.languages)
        await reply(message, texts("language.set", languages=chosen))

    # --- the categories keyboard ----------------------------------------------------------------

    def _keyboard(self, texts: Texts, subscribed: frozenset[str]) -> InlineKeyboardMarkup:
        rows = categories_keyboard(
            subscribed,
            self._library.categories,
            all_label=texts("categories.all_button"),
            none_label=texts("categories.none_button"),
        )
        return InlineKeyboardMarkup(
            [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in rows]
        )

    async def _show_keyboard(self, chat_id: int, message: Message, texts: Texts) -> None:
        if not self._library.categories:
            await reply(message, texts("categories.none_yet"))
            return
        chat = await self._store.chat(chat_id)
        subscribed = chat.categories if chat is not None else frozenset()
        await reply(
            message, texts("categories.prompt"), reply_markup=self._keyboard(texts, subscribed)
        )

    async def button(self, update: Update, context: Context) -> None:
        """A press on the categories keyboard: change the subscription, redraw the keyboard."""
        query = update.callback_query
        chat = update.effective_chat
        if query is None:
            return
        texts = texts_for(query.from_user.language_code)
        if chat is None or query.message is None or query.data is None:
            await query.answer()
            return
        if not await self._may_change(update, context):
            await query.answer(texts("group.button_admins_only"), show_alert=True)
            return
        categories = self._library.categories
        before = await self._store.chat(chat.id)
        current = before.categories if before is not None else frozenset()
        wanted = pressed(query.data, current, categories)
        if wanted is None:
            await query.answer(texts("button.stale"))
            return
        await query.answer()
        if wanted == current and (before is None or before.active):
            return
        await self._store.set_subscriptions(chat.id, chat.type, chat_title(update), wanted)
        log.info("chat subscriptions chat=%s categories=%s", chat.id, sorted(wanted))
        try:
            await query.edit_message_reply_markup(self._keyboard(texts, wanted))
        except BadRequest as exc:
            if "not modified" not in str(exc).lower():
                raise
        await self._welcome(chat.id, before, wanted)

    # --- channels -------------------------------------------------------------------------------

    async def channels(self, update: Update, _: Context) -> None:
        """The channels the bot posts to, for the bot's administrators."""
        chat, message, texts = _where(update)
        if chat is None or message is None:
            return
        if not self._is_bot_admin(update) or chat.type != ChatType.PRIVATE:
            await reply(message, texts("channel.admins_only"))
            return
        found = await self._store.chats_of_type(ChatType.CHANNEL)
        if not found:
            await reply(message, texts("channel.none"))
            return
        lines = [
            texts(
                "channel.line",
                channel=f"{c.title or c.id} ({c.id})",
                categories=self._describe(texts, c.categories),
            )
            for c in found
        ]
        await reply(message, texts("channel.list", channels="\n".join(lines)))

    async def _channel(
        self,
        update: Update,
        context: Context,
        reference: str | int,
        words: Sequence[str],
        *,
        subscribe: bool,
    ) -> None:
        """`/subscribe @channel [category...]` and `/unsubscribe @channel [category...]`."""
        chat, message, texts = _where(update)
        if chat is None or message is None:
            return
        if not self._is_bot_admin(update):
            await reply(message, texts("channel.admins_only"))
            return
        if chat.type != ChatType.PRIVATE:
            await reply(message, texts("channel.private_only"))
            return
        categories = self._library.categories
        choice = choose_categories(words, categories)
        if choice.unknown:
            await reply(message, self._unknown_categories(texts, choice))
            return
        channel = await self._reach_channel(context.bot, reference, message, texts, post=subscribe)
        if channel is None:
            return
        name = f"@{channel.username}" if channel.username else channel.title or str(channel.id)
        before = await self._store.chat(channel.id)
        if subscribe:
            kept = before.categories if before is not None else frozenset()
            # As with /start: no categories keeps a returning channel's choice, else everything.
            wanted = with_categories(kept, choice.keys) if choice.keys else kept or frozenset({ALL})
            await self._store.set_subscriptions(channel.id, channel.type, channel.title, wanted)
            log.info("channel subscribed chat=%s categories=%s", channel.id, sorted(wanted))
            await reply(
                message,
                texts("channel.subscribed", channel=name, categories=self._describe(texts, wanted)),
            )
            await self._welcome(channel.id, before, wanted)
            return
        if before is None or not before.active:
            await reply(message, texts("channel.not_subscribed", channel=name))
            return
        if not choice.keys:
            await self._store.unsubscribe_all(channel.id)
            log.info("channel unsubscribed chat=%s", channel.id)
            await reply(message, texts("channel.unsubscribed", channel=name))
            return
        wanted = without_categories(before.categories, choice.keys, categories)
        await self._store.set_subscriptions(channel.id, channel.type, channel.title, wanted)
        await reply(
            message,
            texts("channel.subscribed", channel=name, categories=self._describe(texts, wanted)),
        )

    async def _reach_channel(
        self, bot: TelegramBot, reference: str | int, message: Message, texts: Texts, *, post: bool
    ) -> ChatFullInfo | None:
        """The channel, if it is one the bot can see (and, with `post`, post in); else a reply."""
        shown = str(reference)
        try:
            channel = await bot.get_chat(reference)
        except (BadRequest, Forbidden) as exc:
            log.info("channel not reachable channel=%s error=%s", reference, exc)
            await reply(message, texts("channel.not_found", channel=shown))
            return None
        if channel.type != ChatType.CHANNEL:
            await reply(message, texts("channel.not_channel", channel=shown))
            return None
        if not post:
            return channel
        try:
            member = await bot.get_chat_member(channel.id, bot.id)
        except (BadRequest, Forbidden) as exc:
            log.info("channel membership unknown channel=%s error=%s", channel.id, exc)
            member = None
        allowed = member is not None and member.status in _ADMIN_STATUSES
        # Telegram states can_post_messages for a channel's administrators; absent means allowed.
        if allowed and getattr(member, "can_post_messages", None) is False:
            allowed = False
        if not allowed:
            await reply(message, texts("channel.cannot_post", channel=shown))
            return None
        return channel

    # --- sending --------------------------------------------------------------------------------

    async def _send_latest(
        self,
        bot: TelegramBot,
        chat_id: int,
        message: Message,
        texts: Texts,
        request: LatestRequest,
    ) -> None:
        chat = await self._store.chat(chat_id)
        languages = chat.languages if chat is not None else None
        posts = newest(
            self._library.candidates(category=request.category, languages=languages),
            datetime.now(UTC),
            count=request.count,
            category=request.category,
            languages=languages,
        )
        if not posts:
            category = self._library.categories.get(request.category or "")
            if category is None:
                await reply(message, texts("latest.none"))
            else:
                await reply(message, texts("latest.none_in", category=category.name))
            return
        if not await self._send_cards(bot, chat_id, posts):
            await reply(message, texts("latest.failed"))

    async def _send_cards(self, bot: TelegramBot, chat_id: int, posts: Sequence[Post]) -> bool:
        """Send cards now on the replying bot; False when Telegram would not take them."""
        for post in posts:
            try:
                try:
                    await self._sender.send_post(chat_id, post, bot=bot)
                except RetryAfter as exc:
                    delay = seconds(exc.retry_after)
                    if delay > MAX_REPLY_WAIT:
                        raise
                    await asyncio.sleep(delay)
                    await self._sender.send_post(chat_id, post, bot=bot)
            except Forbidden as exc:
                log.info("reply not delivered chat=%s error=%s", chat_id, exc)
                return True  # nobody left to tell
            except BadRequest as exc:
                log.error("telegram refused post=%s chat=%s error=%s", post.id, chat_id, exc)
            except TelegramError as exc:
                log.warning("cards not sent chat=%s error=%s", chat_id, exc)
                return False
        return True

    async def _welcome(self, chat_id: int, before: Chat | None, wanted: frozenset[str]) -> None:
        """Queue the newest posts for a chat that has just begun to receive any."""
        already = before is not None and before.active and before.categories
        count = self._settings.subscribe_backlog
        if already or not wanted or count <= 0:
            return
        chat = await self._store.chat(chat_id)
        candidates = backlog_candidates(
            self._library.posts,
            datetime.now(UTC),
            subscribed=wanted,
            languages=chat.languages if chat is not None else None,
            count=count,
        )
        queued = await self._store.queue_backlog(
            chat_id, candidates, limit=count, priority=BACKLOG_PRIORITY
        )
        if queued:
            log.info("backlog queued chat=%s posts=%d", chat_id, queued)
            self._sender.wake()

    # --- the command menu -----------------------------------------------------------------------

    async def publish_menu(self) -> None:
        """Set the command menus, when the categories changed since they were last set.

        Cheap to call after every scan. A failure is logged and tried again at the next call.
        """
        keys = tuple(self._library.categories)
        async with self._menu_lock:
            if keys == self._menu_keys:
                return
            bot = self._application.bot
            try:
                for language in LANGUAGES:
                    await bot.set_my_commands(
                        self._bot_commands(catalogue(language), admin=False),
                        language_code=None if language == DEFAULT_LANGUAGE else language,
                    )
            except TelegramError as exc:
                log.warning("command menu not set, trying again later: %s", exc)
                return
            for admin in sorted(self._settings.admin_ids):
                await self._publish_admin_menu(bot, admin, locked=True)
            self._menu_keys = keys
            log.info("command menu set categories=%d", len(keys))

    async def _publish_admin_menu(
        self, bot: TelegramBot, chat_id: int, *, locked: bool = False
    ) -> None:
        """The admin menu in one administrator's private chat (a menu is not access control)."""
        if not locked:
            async with self._menu_lock:
                await self._publish_admin_menu(bot, chat_id, locked=True)
            return
        try:
            for language in LANGUAGES:
                await bot.set_my_commands(
                    self._bot_commands(catalogue(language), admin=True),
                    scope=BotCommandScopeChat(chat_id),
                    language_code=None if language == DEFAULT_LANGUAGE else language,
                )
        except TelegramError as exc:
            # Telegram refuses a chat scope until the admin has opened a chat with the bot;
            # their /start sets it then.
            log.info("admin menu not set chat=%s error=%s", chat_id, exc)

    def _bot_commands(self, texts: Texts, *, admin: bool) -> list[BotCommand]:
        return [
            BotCommand(command, description)
            for command, description in menu(texts, self._library.categories, admin=admin)
        ]

    # --- wording --------------------------------------------------------------------------------

    def _describe(self, texts: Texts, subscribed: frozenset[str]) -> str:
        if ALL in subscribed:
            return texts("subscriptions.all")
        names = category_names(subscribed, self._library.categories)
        if not names:
            return texts("subscriptions.nothing")
        return texts("subscriptions.list_separator").join(names)

    def _unknown_categories(self, texts: Texts, choice: Choice) -> str:
        known = " ".join(f"/{key}" for key in self._library.categories) or "–"
        return texts("categories.unknown", names=", ".join(choice.unknown), known=known)


def _where(update: Update) -> tuple[TelegramChat | None, Message | None, Texts]:
    """The chat, the message and the texts in the sender's language."""
    user = update.effective_user
    return (
        update.effective_chat,
        update.message,
        texts_for(user.language_code if user is not None else None),
    )


def _languages(texts: Texts, languages: frozenset[str] | None) -> str:
    if languages is None:
        return texts("language.all")
    return ", ".join(sorted(languages)) or "–"


def install(
    application: Application,  # type: ignore[type-arg]
    store: Store,
    library: PostLibrary,
    sender: Sender,
    settings: Settings,
    **options: Any,
) -> Readers:
    """Register the reader commands on the application; returns them for the menu updates."""
    readers = Readers(application, store, library, sender, settings, **options)
    readers.install()
    return readers
