"""Readers' commands: /start, /stop, /latest and category commands, /categories, /subscribe,
/unsubscribe, /language, /help, and the categories keyboard.

Each handler reads the update, asks `bot.handlers.access` when it would change what the chat
receives, lets `bot.readers.ReaderDesk` decide, and answers in the reader's language.

- Replies use the application's own connection pool, so a broadcast in progress never delays
  them; cards for `/latest` are sent by `Sender.send_post`, the same card the broadcast sends.
- Each card of a reply takes a turn of the bot's overall pace (`Sender.reply_turn`), shared with
  the broadcast: a crowd of readers asking for the latest posts at once is answered at
  Telegram's rate, not in a burst Telegram refuses. A lone reader's cards go at once.
- The few posts a new subscriber gets first are queued after the answer (`ReaderDesk.welcome`),
  so the reader reads the answer before them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.error import TelegramError

from bot.calls import edit_in_place, reply
from bot.handlers.access import Access
from bot.handlers.deps import Deps
from bot.handlers.menu import CommandMenu
from bot.handlers.updates import Context, chat_ref, where
from bot.i18n import Texts
from bot.posts import Post
from bot.readers import Latest
from bot.subscriptions import Button, changes_languages
from bot.telegram_errors import Classification, Fault, classify

log = logging.getLogger(__name__)

#: The longest a reply waits out Telegram's flood control before giving up.
MAX_REPLY_WAIT = 10.0


def markup(rows: list[list[Button]]) -> InlineKeyboardMarkup:
    """The categories keyboard as Telegram takes it."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in rows]
    )


class ReaderCommands:
    """The readers' commands of one running bot."""

    def __init__(self, deps: Deps, access: Access, menu: CommandMenu) -> None:
        self._sender = deps.sender
        self._access = access
        self._menu = menu
        self.desk = deps.reader_desk()

    async def start(self, update: Update, context: Context) -> None:
        """Subscribe this chat: everything, or the categories a deep link names."""
        chat, message, texts = where(update)
        if chat is None or message is None or not await self._may_change(update, context):
            return
        change = await self.desk.start(chat_ref(chat), context.args or [], texts)
        await reply(message, change.text)
        await self.desk.welcome(change)
        if chat.type == ChatType.PRIVATE and self._access.is_editor(update):
            await self._menu.publish_for_editor(context.bot, chat.id)

    async def stop(self, update: Update, context: Context) -> None:
        """Unsubscribe this chat from everything and drop what was queued for it."""
        chat, message, texts = where(update)
        if chat is None or message is None or not await self._may_change(update, context):
            return
        await reply(message, await self.desk.stop(chat.id, texts))

    async def show_help(self, update: Update, _: Context) -> None:
        """What the bot does, its commands, and the categories there are."""
        chat, message, texts = where(update)
        if chat is None or message is None:
            return
        private = chat.type == ChatType.PRIVATE
        editor = self._access.is_editor(update)
        await reply(message, self.desk.help(texts, private=private, editor=editor))

    async def latest(self, update: Update, context: Context) -> None:
        """The newest posts, as cards: `/latest`, `/latest 3`, `/latest world 3`."""
        await self.category(update, context, None, context.args or [])

    async def category(
        self, update: Update, context: Context, category: str | None, words: Sequence[str]
    ) -> None:
        """The newest posts of one category (`/world 3`), or of all when `category` is None."""
        chat, message, texts = where(update)
        if chat is None or message is None:
            return
        latest = await self.desk.latest(chat.id, words, texts, category=category)
        topic = message.message_thread_id if message.is_topic_message else None
        await self._send_latest(context.bot, chat.id, message, texts, latest, topic)

    async def categories(self, update: Update, _: Context) -> None:
        """The categories keyboard: one toggle per category, plus "All" and "None"."""
        chat, message, texts = where(update)
        if chat is not None and message is not None:
            await self._show_keyboard(chat.id, message, texts)

    async def subscribe(self, update: Update, context: Context) -> None:
        """Add categories (`/subscribe world business`); without any, the keyboard."""
        await self._change(update, context, subscribe=True)

    async def unsubscribe(self, update: Update, context: Context) -> None:
        """Drop categories (`/unsubscribe sport`); without any, the keyboard."""
        await self._change(update, context, subscribe=False)

    async def _change(self, update: Update, context: Context, *, subscribe: bool) -> None:
        chat, message, texts = where(update)
        if chat is None or message is None or not await self._may_change(update, context):
            return
        if not context.args:
            await self._show_keyboard(chat.id, message, texts)
            return
        change = await self.desk.change(chat_ref(chat), context.args, texts, subscribe=subscribe)
        await reply(message, change.text)
        await self.desk.welcome(change)

    async def language(self, update: Update, context: Context) -> None:
        """Show or choose the article languages this chat receives: `/language en th`."""
        chat, message, texts = where(update)
        words = context.args or []
        if chat is None or message is None:
            return
        if changes_languages(words) and not await self._may_change(update, context):
            return
        await reply(message, await self.desk.language(chat.id, words, texts))

    async def button(self, update: Update, context: Context) -> None:
        """A press on the categories keyboard: change the subscription, redraw the keyboard."""
        pressed = await self._access.chat_admin_press(update, context.bot)
        if pressed is None:
            return
        query = pressed.query
        press = await self.desk.press(chat_ref(pressed.chat), pressed.data, pressed.texts)
        await query.answer(press.notice)
        if press.change is not None and press.rows is not None:
            await edit_in_place(query.edit_message_reply_markup(markup(press.rows)))
            await self.desk.welcome(press.change)

    # --- helpers --------------------------------------------------------------------------------

    async def _may_change(self, update: Update, context: Context) -> bool:
        return await self._access.may_change(update, context.bot, "group.admins_only")

    async def _show_keyboard(self, chat_id: int, message: Message, texts: Texts) -> None:
        keyboard = await self.desk.keyboard(chat_id, texts)
        options = {"reply_markup": markup(keyboard.rows)} if keyboard.rows is not None else {}
        await reply(message, keyboard.text, **options)

    async def _send_latest(
        self,
        bot: Bot,
        chat_id: int,
        message: Message,
        texts: Texts,
        latest: Latest,
        topic: int | None = None,
    ) -> None:
        if latest.text is not None:
            await reply(message, latest.text)
        elif not await self._send_cards(bot, chat_id, latest.posts, topic):
            await reply(message, texts("latest.failed"))

    async def _send_cards(
        self, bot: Bot, chat_id: int, posts: Sequence[Post], topic: int | None = None
    ) -> bool:
        """Send cards now on the replying bot (in the forum topic the command came from);
        False when Telegram would not take them."""
        for post in posts:
            trouble = await self._send_card(bot, chat_id, post, topic)
            if trouble is None:
                continue
            if trouble.fault is Fault.CHAT_GONE:
                log.info("reply not delivered chat=%s error=%s", chat_id, trouble.reason)
                return True  # nobody left to tell
            if not trouble.final:
                log.warning("cards not sent chat=%s error=%s", chat_id, trouble.reason)
                return False
            log.error("telegram refused post=%s chat=%s error=%s", post.id, chat_id, trouble.reason)
        return True

    async def _send_card(
        self, bot: Bot, chat_id: int, post: Post, topic: int | None = None
    ) -> Classification | None:
        """None once sent. A short flood pause is waited out once: the reader is waiting."""

        async def attempt() -> Classification | None:
            await self._sender.reply_turn()
            try:
                await self._sender.send_post(chat_id, post, bot=bot, topic=topic)
            except TelegramError as exc:
                return classify(exc)
            return None

        trouble = await attempt()
        if (
            trouble is not None
            and trouble.fault is Fault.RETRY_LATER
            and trouble.retry_after <= MAX_REPLY_WAIT
        ):
            await asyncio.sleep(trouble.retry_after)
            trouble = await attempt()
        return trouble
