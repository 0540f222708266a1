"""Who may do what: one check, made by every handler and again on every button press.

- Anyone may read, in any chat: `/latest`, `/help`, category commands, the categories keyboard.
- What a chat receives (`Need.CHAT_ADMIN`) is changed in a private chat by its reader; in a
  group by the group's administrators, asked of Telegram with getChatMember and remembered for a
  minute, or by an anonymous administrator, whom Telegram shows as the group itself; in a
  channel by nobody there (channels are subscribed by editors, from a private chat).
- Editors are the users in `NEWSBOT_ADMIN_IDS`, and nobody else. Their commands, and the channel
  commands, answer in a private chat only (`Need.EDITOR_IN_PRIVATE`), so a preview never shows
  up in a group; a press on their confirmation buttons is checked again (`Need.EDITOR`), because a
  keyboard can be forwarded and its buttons pressed by anyone.
- The bot itself posts in a channel only as an administrator allowed to post messages.

A menu is not access control: Telegram shows the editors' menu in editors' chats only, but anyone
can type a command.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from enum import Enum, auto

from telegram import Bot, CallbackQuery, Chat, ChatMember, Update
from telegram.constants import ChatType
from telegram.error import TelegramError

from bot.calls import reply
from bot.handlers.updates import where
from bot.i18n import Texts, texts_for
from bot.telegram_errors import classify

log = logging.getLogger(__name__)

#: How long a group administrator check is trusted.
ADMIN_CHECK_SECONDS = 60.0
#: Remembered checks beyond this many are pruned of the expired ones.
_MOST_REMEMBERED = 4096
_ADMIN_STATUSES = frozenset({ChatMember.ADMINISTRATOR, ChatMember.OWNER})


class Need(Enum):
    """What an action asks of whoever asks for it."""

    CHAT_ADMIN = auto()
    """To change what this chat receives."""
    EDITOR = auto()
    """An editor, wherever they are (a press on an editor's button)."""
    EDITOR_IN_PRIVATE = auto()
    """An editor, in their private chat with the bot."""


class Ruling(Enum):
    """The answer to "may they?"."""

    ALLOWED = auto()
    ASK_TELEGRAM = auto()
    """Allowed if they administer the group: only Telegram knows (never returned by `check`)."""
    NOT_CHAT_ADMIN = auto()
    NOT_EDITOR = auto()
    NOT_PRIVATE = auto()


@dataclass(frozen=True, slots=True)
class Asker:
    """Who asks, and where, as plain values."""

    user_id: int
    chat_id: int | None
    chat_type: str | None
    as_the_chat: bool = False
    """An anonymous group administrator: their message is sent by the group itself."""


def rule(need: Need, asker: Asker, editors: Collection[int]) -> Ruling:
    """Decide what can be decided without asking Telegram."""
    if need is Need.CHAT_ADMIN:
        if asker.chat_type == ChatType.PRIVATE:
            return Ruling.ALLOWED
        if asker.chat_id is None or asker.chat_type in (None, ChatType.CHANNEL):
            return Ruling.NOT_CHAT_ADMIN
        return Ruling.ALLOWED if asker.as_the_chat else Ruling.ASK_TELEGRAM
    if asker.user_id not in editors:
        return Ruling.NOT_EDITOR
    if need is Need.EDITOR_IN_PRIVATE and asker.chat_type != ChatType.PRIVATE:
        return Ruling.NOT_PRIVATE
    return Ruling.ALLOWED


def asker_of(update: Update) -> Asker | None:
    """Who sent the update, and from where; None for an update from nobody."""
    user, chat, message = update.effective_user, update.effective_chat, update.message
    if user is None:
        return None
    as_the_chat = (
        chat is not None
        and message is not None
        and message.sender_chat is not None
        and message.sender_chat.id == chat.id
    )
    return Asker(
        user.id,
        chat.id if chat is not None else None,
        chat.type if chat is not None else None,
        as_the_chat,
    )


def may_post(member: ChatMember | None) -> bool:
    """Whether a channel's member (the bot) may post there: an administrator who may post."""
    if member is None or member.status not in _ADMIN_STATUSES:
        return False
    # Telegram states can_post_messages for a channel's administrators; absent means allowed.
    return getattr(member, "can_post_messages", None) is not False


@dataclass(frozen=True, slots=True)
class Press:
    """A button press that may change the chat's choices: what was pressed, where, in whose
    language."""

    query: CallbackQuery
    chat: Chat
    data: str
    texts: Texts


class Access:
    """The one check for every handler: editors from the settings, group admins from Telegram."""

    def __init__(
        self,
        editors: Collection[int],
        *,
        ttl: float = ADMIN_CHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._editors = frozenset(editors)
        self._ttl = ttl
        self._clock = clock
        self._known: dict[tuple[int, int], tuple[bool, float]] = {}

    def is_editor(self, update: Update) -> bool:
        """Whether the update comes from one of the newsroom's editors."""
        user = update.effective_user
        return user is not None and user.id in self._editors

    async def check(self, update: Update, bot: Bot, need: Need) -> Ruling:
        """`Ruling.ALLOWED`, or why not."""
        asker = asker_of(update)
        if asker is None:
            return Ruling.NOT_CHAT_ADMIN if need is Need.CHAT_ADMIN else Ruling.NOT_EDITOR
        ruling = rule(need, asker, self._editors)
        if ruling is Ruling.ASK_TELEGRAM:
            assert asker.chat_id is not None  # `rule` asks Telegram about groups only
            admin = await self._group_admin(bot, asker.chat_id, asker.user_id)
            ruling = Ruling.ALLOWED if admin else Ruling.NOT_CHAT_ADMIN
        return ruling

    async def may_change(self, update: Update, bot: Bot, refusal: str) -> bool:
        """Whether the sender may change what this chat receives (its administrators, in a
        group); if not, they are told so with the text `refusal`."""
        if await self.check(update, bot, Need.CHAT_ADMIN) is Ruling.ALLOWED:
            return True
        _, message, texts = where(update)
        if message is not None:
            await reply(message, texts(refusal))
        return False

    async def chat_admin_press(self, update: Update, bot: Bot) -> Press | None:
        """A press on one of a chat's keyboards (its categories, its settings) by someone who
        may change them; None otherwise, once the press is answered here, with a refusal when
        it is one (Telegram shows a spinner on the button until a press is answered)."""
        query, chat = update.callback_query, update.effective_chat
        if query is None:
            return None
        texts = texts_for(query.from_user.language_code)
        if chat is None or query.message is None or query.data is None:
            await query.answer()
            return None
        if await self.check(update, bot, Need.CHAT_ADMIN) is not Ruling.ALLOWED:
            await query.answer(texts("group.button_admins_only"), show_alert=True)
            return None
        return Press(query, chat, query.data, texts)

    async def _group_admin(self, bot: Bot, chat_id: int, user_id: int) -> bool:
        """Whether `user_id` administers (or owns) `chat_id`, asked at most once a minute.

        Every change a group asks for needs the answer, and a group's admins rarely change
        within a minute, so one getChatMember per user and group a minute is plenty.
        """
        now = self._clock()
        known = self._known.get((chat_id, user_id))
        if known is not None and known[1] > now:
            return known[0]
        try:
            member = await bot.get_chat_member(chat_id, user_id)
        except TelegramError as exc:
            log.warning("admin check failed chat=%s user=%s error=%s", chat_id, user_id, exc)
            return False
        if len(self._known) > _MOST_REMEMBERED:
            self._known = {k: v for k, v in self._known.items() if v[1] > now}
        allowed = member.status in _ADMIN_STATUSES
        self._known[(chat_id, user_id)] = (allowed, now + self._ttl)
        return allowed

    async def may_post_in(self, bot: Bot, channel_id: int) -> bool:
        """Whether the bot may post in a channel, as Telegram says now."""
        try:
            member = await bot.get_chat_member(channel_id, bot.id)
        except TelegramError as exc:
            if not classify(exc).final:
                raise
            log.info("channel membership unknown channel=%s error=%s", channel_id, exc)
            member = None
        return may_post(member)
