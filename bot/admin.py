"""Editors' commands: breaking news, pushes, retractions, and a look at how the bot is doing.

Editors are the Telegram users listed in `NEWSBOT_ADMIN_IDS`, and nobody else: the check is made
on every command and again on every button press, because a keyboard can be forwarded and its
buttons pressed by anyone. The commands answer in private chats only, so a preview never shows
up in a group. Every action is logged with the editor's user id.

Anything that reaches readers goes through two steps: the editor sees the exact card first and
confirms it with a button. Confirmed requests are remembered in memory for half an hour; a
restart forgets unconfirmed ones, which only means asking again.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update, User
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.calls import reply
from bot.delivery import Sender
from bot.errors import EditorError
from bot.i18n import Texts, texts_for
from bot.newsroom import (
    breaking_post,
    draft_breaking,
    mark_retracted,
    preview_post,
    write_post_file,
)
from bot.posts import Post, PostLibrary, ScanReport
from bot.queue import QueueReport
from bot.settings import Settings
from bot.store import ALL, NewPost, Store

log = logging.getLogger(__name__)

BREAKING_PRIORITY = 100
"""Breaking news overtakes everything queued."""
PUSH_PRIORITY = 50
PENDING_SECONDS = 30 * 60
BUTTON_PREFIX = "adm:"

Context = ContextTypes.DEFAULT_TYPE
Refresh = Callable[..., Awaitable[tuple[ScanReport, QueueReport | None]]]


@dataclass(frozen=True, slots=True)
class Request:
    """An editor's request waiting for "Send" or "Cancel"."""

    kind: str  # "breaking", "push" or "retract"
    editor: int
    post: Post
    created: float
    category: str | None = None
    file_text: str | None = None
    """For breaking news: the post file to write when confirmed."""


class Editors:
    """The editors' commands of one running bot."""

    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        store: Store,
        library: PostLibrary,
        sender: Sender,
        settings: Settings,
        *,
        publishing: asyncio.Lock,
        refresh: Refresh,
    ) -> None:
        self._application = application
        self._store = store
        self._library = library
        self._sender = sender
        self._settings = settings
        self._publishing = publishing
        self._refresh = refresh
        self._requests: dict[str, Request] = {}

    def install(self) -> None:
        """Register the handlers (after the readers', which step aside for them)."""
        app = self._application
        for name, callback in (
            ("breaking", self.breaking),
            ("push", self.push),
            ("retract", self.retract),
            ("stats", self.stats),
            ("reload", self.reload),
        ):
            app.add_handler(CommandHandler(name, callback, filters=filters.UpdateType.MESSAGE))
        photo = filters.PHOTO & filters.CaptionRegex(r"^/breaking(@\w+)?(\s|$)")
        app.add_handler(MessageHandler(photo, self.breaking))
        app.add_handler(CallbackQueryHandler(self.button, pattern=f"^{BUTTON_PREFIX}"))

    # --- who may ------------------------------------------------------------------------------

    def _editor(self, user: User | None) -> bool:
        return user is not None and user.id in self._settings.admin_ids

    async def _allowed(self, update: Update) -> tuple[Message, User, Texts] | None:
        """The message, editor and texts when an editor asks in a private chat; else refuse."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return None
        texts = texts_for(user.language_code)
        if not self._editor(user):
            log.warning("admin refused user=%s command=%s", user.id, _command(message))
            await reply(message, texts("admin.refused"))
            return None
        if message.chat.type != ChatType.PRIVATE:
            await reply(message, texts("admin.private_only"))
            return None
        return message, user, texts

    # --- breaking news ------------------------------------------------------------------------

    async def breaking(self, update: Update, _: Context) -> None:
        """Draft a breaking item from the message (or the one it replies to) and preview it."""
        allowed = await self._allowed(update)
        if allowed is None:
            return
        message, user, texts = allowed
        source = message
        own = (message.text_html or message.caption_html or "").strip()
        if message.reply_to_message is not None and own.split(maxsplit=1)[1:] == []:
            source = message.reply_to_message  # `/breaking` in reply: that message is the item
            own = "/breaking " + (source.text_html or source.caption_html or "")
        photo = source.photo[-1].file_id if source.photo else None
        categories = {key: c.name for key, c in self._library.categories.items()}
        try:
            draft = draft_breaking(own, categories=categories, photo_id=photo)
            path, text = breaking_post(draft, self._settings.content_dir, datetime.now(UTC))
            post = preview_post(path, text)
        except EditorError as exc:
            await reply(message, texts("admin.breaking_usage", problem=str(exc)))
            return
        count = await self._store.push_audience(post.id, None)
        request = Request("breaking", user.id, post, time.time(), file_text=text)
        log.info("admin breaking drafted user=%s post=%s", user.id, post.id)
        await self._preview(message, texts, request, texts("admin.confirm_breaking", count=count))

    async def _publish_breaking(self, request: Request) -> int:
        """Write the item into the archive and queue it for every active chat, first."""
        post, text = request.post, request.file_text or ""
        async with self._publishing:  # no scan may queue the file as an ordinary post meanwhile
            written = await asyncio.to_thread(write_post_file, post.path, text)
            await asyncio.to_thread(self._library.scan)
            queued = await self._store.add_posts(
                [
                    NewPost(
                        written.id,
                        written.card_digest,
                        tuple(c.key for c in written.categories),
                        priority=BREAKING_PRIORITY,
                        language=written.language,
                        everyone=True,
                    )
                ]
            )
        self._sender.wake()
        # The scan above may also have found other new posts: queue them as usual now.
        await self._refresh(queue=True)
        return queued

    # --- pushing an existing post -------------------------------------------------------------

    async def push(self, update: Update, context: Context) -> None:
        """`/push <post-id> [category|all]`: preview, then send to the chats that lack it."""
        allowed = await self._allowed(update)
        if allowed is None:
            return
        message, user, texts = allowed
        args = context.args or []
        post = await self._live_post(message, texts, args, "admin.push_usage")
        if post is None:
            return
        category: str | None = None
        if len(args) > 1 and args[1].lower() != "all":
            category = args[1].lower()
            if category not in self._library.categories:
                await reply(message, texts("admin.unknown_category", category=args[1]))
                return
        count = await self._store.push_audience(post.id, category)
        if not count:
            await reply(message, texts("admin.nobody", post=post.id))
            return
        request = Request("push", user.id, post, time.time(), category=category)
        prompt = texts("admin.confirm_push", post=post.id, count=count)
        await self._preview(message, texts, request, prompt)

    # --- retractions --------------------------------------------------------------------------

    async def retract(self, update: Update, context: Context) -> None:
        """`/retract <post-id>`: confirm, then mark the post retracted in its file."""
        allowed = await self._allowed(update)
        if allowed is None:
            return
        message, user, texts = allowed
        post = await self._live_post(message, texts, context.args or [], "admin.retract_usage")
        if post is None:
            return
        counts = await self._store.delivery_counts(post.id)
        request = Request("retract", user.id, post, time.time())
        prompt = texts("admin.confirm_retract", post=post.id, count=counts.get("sent", 0))
        await self._ask(message, texts, request, prompt)

    # --- the confirmation buttons -------------------------------------------------------------

    async def _preview(self, message: Message, texts: Texts, request: Request, prompt: str) -> None:
        """Show the exact card readers will get, then ask."""
        try:
            await self._sender.send_post(message.chat_id, request.post, bot=message.get_bot())
        except TelegramError as exc:
            log.warning("admin preview failed post=%s error=%s", request.post.id, exc)
            await reply(message, texts("admin.preview_failed", problem=str(exc)))
            return
        await self._ask(message, texts, request, prompt)

    async def _ask(self, message: Message, texts: Texts, request: Request, prompt: str) -> None:
        now = time.time()
        self._requests = {
            token: pending
            for token, pending in self._requests.items()
            if now - pending.created < PENDING_SECONDS
        }
        token = secrets.token_hex(8)
        self._requests[token] = request
        confirm = texts(
            "admin.button_retract" if request.kind == "retract" else "admin.button_send"
        )
        keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(confirm, callback_data=f"{BUTTON_PREFIX}go:{token}"),
                    InlineKeyboardButton(
                        texts("admin.button_cancel"), callback_data=f"{BUTTON_PREFIX}no:{token}"
                    ),
                ]
            ]
        )
        await reply(message, prompt, reply_markup=keyboard)

    async def button(self, update: Update, _: Context) -> None:
        """ "Send" or "Cancel": checked again here, since anyone could press a forwarded button."""
        query = update.callback_query
        if query is None or query.data is None:
            return
        user = query.from_user
        texts = texts_for(user.language_code)
        if not self._editor(user):
            log.warning("admin button refused user=%s", user.id)
            await query.answer(texts("admin.refused"), show_alert=True)
            return
        action, _sep, token = query.data.removeprefix(BUTTON_PREFIX).partition(":")
        request = self._requests.pop(token, None)
        if request is None or time.time() - request.created >= PENDING_SECONDS:
            await query.answer(texts("admin.expired"), show_alert=True)
            return
        await query.answer()
        if action != "go":
            log.info(
                "admin cancelled user=%s action=%s post=%s", user.id, request.kind, request.post.id
            )
            await query.edit_message_text(texts("admin.cancelled"))
            return
        done = await self._carry_out(request, texts)
        log.info("admin action user=%s action=%s post=%s", user.id, request.kind, request.post.id)
        await query.edit_message_text(done)

    async def _carry_out(self, request: Request, texts: Texts) -> str:
        post = request.post
        if request.kind == "breaking":
            count = await self._publish_breaking(request)
            return texts("admin.sent_breaking", post=post.id, count=count)
        if request.kind == "push":
            count = await self._store.push(
                post.id, post.card_digest, category=request.category, priority=PUSH_PRIORITY
            )
            self._sender.wake()
            return texts("admin.sent_push", post=post.id, count=count)
        current = self._library.get(post.id) or post
        try:
            await asyncio.to_thread(mark_retracted, current)
        except EditorError as exc:
            return texts("admin.retract_failed", post=post.id, problem=str(exc))
        await self._refresh()
        return texts("admin.retracted", post=post.id)

    # --- oversight ----------------------------------------------------------------------------

    async def stats(self, update: Update, _: Context) -> None:
        """Subscribers, posts, the last day's deliveries, the queue and the latest errors."""
        allowed = await self._allowed(update)
        if allowed is None:
            return
        message, user, texts = allowed
        log.info("admin stats user=%s", user.id)
        figures = await self._store.stats(since=time.time() - 24 * 3600)
        lines = [texts("admin.stats_title")]
        for kind, (active, inactive) in sorted(figures.chats.items()):
            lines.append(texts("admin.stats_chats", kind=kind, active=active, inactive=inactive))
        names = {key: c.name for key, c in self._library.categories.items()}
        names[ALL] = texts("subscriptions.all")
        for category, count in figures.subscribers.items():
            lines.append(
                texts("admin.stats_category", name=names.get(category, category), count=count)
            )
        lines.append(
            texts("admin.stats_posts", loaded=len(self._library.posts), seen=figures.posts_seen)
        )
        day = figures.deliveries
        lines.append(
            texts(
                "admin.stats_deliveries",
                sent=day.get("sent", 0),
                failed=day.get("failed", 0),
                pending=day.get("pending", 0),
            )
        )
        lines.append(texts("admin.stats_queue", count=figures.queue_depth))
        for post_id, chat_id, error in figures.last_errors:
            lines.append(texts("admin.stats_error", post=post_id, chat=chat_id, error=error[:200]))
        await reply(message, "\n".join(lines))

    async def reload(self, update: Update, _: Context) -> None:
        """Rescan the content folder now and say what changed."""
        allowed = await self._allowed(update)
        if allowed is None:
            return
        message, user, texts = allowed
        log.info("admin reload user=%s", user.id)
        scan, report = await self._refresh(queue=True)
        lines = [
            texts(
                "admin.reloaded",
                added=len(scan.added),
                changed=len(scan.changed),
                removed=len(scan.removed),
                rejected=len(scan.rejected),
                queued=report.deliveries if report else 0,
            )
        ]
        lines += [f"{r.path}: {r.reason}" for r in scan.rejected[:10]]
        await reply(message, "\n".join(lines))

    # --- helpers ------------------------------------------------------------------------------

    async def _live_post(
        self, message: Message, texts: Texts, args: list[str], usage: str
    ) -> Post | None:
        if not args:
            await reply(message, texts(usage))
            return None
        post = self._library.get(args[0])
        if post is None:
            await reply(message, texts("admin.unknown_post", post=args[0]))
            return None
        if not post.is_live(datetime.now(UTC)):
            await reply(message, texts("admin.not_live", post=post.id))
            return None
        return post


def _command(message: Message) -> str:
    text = message.text or message.caption or ""
    return text.split(maxsplit=1)[0][:40] if text else ""


def install(
    application: Application,  # type: ignore[type-arg]
    store: Store,
    library: PostLibrary,
    sender: Sender,
    settings: Settings,
    *,
    publishing: asyncio.Lock,
    refresh: Refresh,
) -> Editors:
    """Register the editors' commands on the application."""
    editors = Editors(
        application, store, library, sender, settings, publishing=publishing, refresh=refresh
    )
    editors.install()
    return editors
