"""Editors' commands: /breaking, /push, /retract, /stats, /reload, /progress, and their buttons.

Only editors, in their private chat with the bot, are answered (`bot.handlers.access`); every
action is logged with the editor's user id. What reaches readers is shown first (the exact card,
sent to the editor alone) and carried out only when confirmed with a button, which is checked
again when pressed. A confirmed breaking item or push turns the confirmation into the live
report of its broadcast, with a "Stop" button (`bot.reports` keeps it up to date); "Stop" asks
again before it stops anything, and both presses are checked too. The decisions are
`bot.editors.EditorDesk`'s and `bot.progress.Broadcasts`'.
"""

from __future__ import annotations

import logging

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError

from bot.calls import reply
from bot.editors import EditorDesk, Kind, Proposal
from bot.handlers.access import Access, Need, Ruling
from bot.handlers.deps import Deps
from bot.handlers.updates import Context
from bot.i18n import Texts, texts_for
from bot.reports import confirm_stop_keyboard, stop_keyboard

log = logging.getLogger(__name__)

BUTTON_PREFIX = "adm:"
#: The buttons of a live report: "Stop", then stop for good ("halt") or keep sending.
STOP_ACTIONS = ("stop", "halt", "keep")
#: A photo whose caption is a `/breaking` command is breaking news with its picture.
BREAKING_CAPTION = r"^/breaking(@\w+)?(\s|$)"


def breaking_source(message: Message) -> tuple[str, str | None]:
    """The breaking item's text (Telegram HTML, `/breaking` first) and its photo's file_id.

    `/breaking` alone, in reply to a message, makes that message the item.
    """
    source = message
    own = (message.text_html or message.caption_html or "").strip()
    if message.reply_to_message is not None and own.split(maxsplit=1)[1:] == []:
        source = message.reply_to_message
        own = "/breaking " + (source.text_html or source.caption_html or "")
    return own, source.photo[-1].file_id if source.photo else None


def confirmation(texts: Texts, kind: Kind, token: str) -> InlineKeyboardMarkup:
    """The buttons under a request: carry it out, or cancel it."""
    go = InlineKeyboardButton(texts(kind.confirm), callback_data=f"{BUTTON_PREFIX}go:{token}")
    no = InlineKeyboardButton(
        texts("admin.button_cancel"), callback_data=f"{BUTTON_PREFIX}no:{token}"
    )
    return InlineKeyboardMarkup([[go, no]])


class EditorCommands:
    """The editors' commands of one running bot."""

    def __init__(self, deps: Deps, access: Access) -> None:
        self._sender = deps.sender
        self._access = access
        self.desk = EditorDesk(
            deps.store,
            deps.library,
            editors_dir=deps.settings.editors_dir,
            newsroom=deps.settings.newsroom_dir,
            publishing=deps.publishing,
            refresh=deps.refresh,
            wake=deps.sender.wake,
        )

    async def breaking(self, update: Update, context: Context) -> None:
        """Draft a breaking item from the message (or the one it replies to) and preview it."""
        if (asked := await self._editor(update, context)) is None:
            return
        message, editor, texts = asked
        html, photo = breaking_source(message)
        await self._propose(message, texts, await self.desk.breaking(html, photo, editor, texts))

    async def push(self, update: Update, context: Context) -> None:
        """`/push <post-id> [category|all]`: preview, then send to the chats that lack it."""
        if (asked := await self._editor(update, context)) is None:
            return
        message, editor, texts = asked
        await self._propose(message, texts, await self.desk.push(context.args or [], editor, texts))

    async def retract(self, update: Update, context: Context) -> None:
        """`/retract <post-id>`: confirm, then mark the post retracted in its file."""
        if (asked := await self._editor(update, context)) is None:
            return
        message, editor, texts = asked
        proposal = await self.desk.retract(context.args or [], editor, texts)
        await self._propose(message, texts, proposal)

    async def stats(self, update: Update, context: Context) -> None:
        """Subscribers, posts, the last day's deliveries, the queue and the latest errors."""
        if (asked := await self._editor(update, context)) is None:
            return
        message, editor, texts = asked
        log.info("admin stats user=%s", editor)
        await reply(message, await self.desk.stats(texts))

    async def reload(self, update: Update, context: Context) -> None:
        """Rescan the content folder now and say what changed."""
        if (asked := await self._editor(update, context)) is None:
            return
        message, editor, texts = asked
        log.info("admin reload user=%s", editor)
        await reply(message, await self.desk.reload(texts))

    async def button(self, update: Update, context: Context) -> None:
        """ "Send" or "Cancel": checked again here, since anyone could press a forwarded button."""
        query = update.callback_query
        if query is None or query.data is None:
            return
        user, texts = query.from_user, texts_for(query.from_user.language_code)
        if await self._access.check(update, context.bot, Need.EDITOR) is not Ruling.ALLOWED:
            log.warning("admin button refused user=%s", user.id)
            await query.answer(texts("admin.refused"), show_alert=True)
            return
        action, _, token = query.data.removeprefix(BUTTON_PREFIX).partition(":")
        if action in STOP_ACTIONS:
            await self._stop_button(query, action, token, texts)
            return
        request = self.desk.pending.take(token)
        if request is None:
            await query.answer(texts("admin.expired"), show_alert=True)
            return
        await query.answer()
        confirmed = action == "go"
        at = None if query.message is None else (query.message.chat.id, query.message.message_id)
        done = await self.desk.answer(
            request, confirmed=confirmed, editor=user.id, texts=texts, report_at=at
        )
        markup = None if done.report is None else stop_keyboard(texts, done.report)
        await query.edit_message_text(done.text, reply_markup=markup)

    async def progress(self, update: Update, context: Context) -> None:
        """The broadcasts running now, with a "Stop" for each one an editor started."""
        if (asked := await self._editor(update, context)) is None:
            return
        message, editor, texts = asked
        log.info("admin progress user=%s", editor)
        text, reports = await self.desk.broadcasts.running(texts)
        rows = [stop_keyboard(texts, r.id, post=r.post_id).inline_keyboard[0] for r in reports]
        await self._say(message, text, InlineKeyboardMarkup(rows) if rows else None)

    async def _stop_button(
        self, query: CallbackQuery, action: str, token: str, texts: Texts
    ) -> None:
        """ "Stop" asks again in a message of its own; "Yes, stop it" stops the rest of the
        broadcast, "Keep sending" leaves it going."""
        editor = query.from_user.id
        if not token.isdigit():
            await query.answer(texts("admin.expired"), show_alert=True)
            return
        report = int(token)
        broadcasts = self.desk.broadcasts
        if action == "stop":
            asked = await broadcasts.ask_stop(report, texts)
            if not asked.stopped or not isinstance(query.message, Message):
                await query.answer(asked.text, show_alert=True)
                return
            await query.answer()
            await self._say(query.message, asked.text, confirm_stop_keyboard(texts, report))
        elif action == "halt":
            await query.answer()
            done = await broadcasts.stop(report, editor=editor, texts=texts)
            if done.stopped:
                log.info("admin stopped user=%s report=%s", editor, report)
                self._sender.wake()  # a pass under way drops what it read before the stop
            await query.edit_message_text(done.text)
        else:
            await query.answer()
            await query.edit_message_text(await broadcasts.keep(report, texts))

    # --- helpers --------------------------------------------------------------------------------

    async def _say(self, message: Message, text: str, markup: InlineKeyboardMarkup | None) -> None:
        """Answer during a broadcast in a turn of the bot's pace (a refusal by flood control is
        waited out for every reply: `bot.replies`)."""
        await self._sender.reply_turn()
        await reply(message, text, reply_markup=markup)

    async def _editor(self, update: Update, context: Context) -> tuple[Message, int, Texts] | None:
        """The message, the editor's id and texts when an editor asks in private; else refuse."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return None
        texts = texts_for(user.language_code)
        ruling = await self._access.check(update, context.bot, Need.EDITOR_IN_PRIVATE)
        if ruling is Ruling.NOT_EDITOR:
            log.warning("admin refused user=%s command=%s", user.id, _command(message))
            await reply(message, texts("admin.refused"))
        elif ruling is Ruling.NOT_PRIVATE:
            await reply(message, texts("admin.private_only"))
        return (message, user.id, texts) if ruling is Ruling.ALLOWED else None

    async def _propose(self, message: Message, texts: Texts, proposal: Proposal) -> None:
        """Show the exact card readers will get (unless retracting), then ask to confirm."""
        request = proposal.request
        if request is None:
            await reply(message, proposal.text)
            return
        if proposal.preview:
            try:
                await self._sender.send_post(message.chat_id, request.post, bot=message.get_bot())
            except TelegramError as exc:
                log.warning("admin preview failed post=%s error=%s", request.post.id, exc)
                await reply(message, texts("admin.preview_failed", problem=str(exc)))
                return
        keyboard = confirmation(texts, request.kind, self.desk.pending.add(request))
        await reply(message, proposal.text, reply_markup=keyboard)


def _command(message: Message) -> str:
    text = message.text or message.caption or ""
    return text.split(maxsplit=1)[0][:40] if text else ""
