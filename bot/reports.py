"""Editors' live reports, kept up to date in Telegram: one loop edits each in place.

The loop reads every running report from the database (`Store.running_reports`) and edits its
message when its text changed (`bot.progress` makes the text from the ledger), so:

- a restart changes nothing: the next run finds the same reports and edits the same messages;
- each report is edited at most once every `every` seconds (3 by default), and no chat more than
  once a second, well inside Telegram's limits on edits; every edit takes its turn of the bot's
  overall pace (`Sender.reply_turn`: an edit is not a paid broadcast);
- the last edit shows the final figures and takes the "Stop" button away; only then is the
  report finished, so a final edit that failed is tried again;
- Telegram's answers are read once (`classify`): flood control holds that report for as long as
  Telegram asked; an edit that changes nothing counts as shown; a report whose message or chat
  is gone is finished, since nobody can read it any more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import TelegramError

from bot.i18n import Texts, catalogue, language_for
from bot.progress import STOP_SETTLE, Broadcasts, Snapshot
from bot.store import Report, Store
from bot.telegram_errors import Fault, classify

log = logging.getLogger(__name__)

EVERY = 3.0
"""Seconds between two looks at the reports (and so between two edits of one report)."""
CHAT_GAP = 1.0
"""The least time between two edits in one chat."""
FIRST_EDIT_AFTER = 1.0
"""A new report is left alone this long: the button press that made it shows its first text
(`bot.handlers.editors`), and an edit of the loop's must not come before that one."""
#: Callback data of the report's buttons: "Stop", then its confirmation, or keep sending.
STOP, HALT, KEEP = "adm:stop:", "adm:halt:", "adm:keep:"


def stop_keyboard(texts: Texts, report_id: int, *, post: str | None = None) -> InlineKeyboardMarkup:
    """The "Stop" button under a running report (naming the post when several are listed)."""
    label = texts("progress.button_stop_post", post=post) if post else texts("progress.button_stop")
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=f"{STOP}{report_id}")]])


def confirm_stop_keyboard(texts: Texts, report_id: int) -> InlineKeyboardMarkup:
    """Stop for good, or keep sending."""
    yes = InlineKeyboardButton(
        texts("progress.button_confirm_stop"), callback_data=f"{HALT}{report_id}"
    )
    no = InlineKeyboardButton(texts("progress.button_keep"), callback_data=f"{KEEP}{report_id}")
    return InlineKeyboardMarkup([[yes, no]])


class LiveReports:
    """The loop that keeps every running report's message up to date."""

    def __init__(
        self,
        store: Store,
        bot: Bot,
        *,
        turn: Callable[[], Awaitable[None]],
        every: float = EVERY,
        settle: float = STOP_SETTLE,
    ) -> None:
        """`turn` waits for a turn of the bot's overall pace; `settle` is how long a stopped
        broadcast's messages already on their way may take (`bot.progress`)."""
        self._store = store
        self._bot = bot
        self._turn = turn
        self._every = every
        self._broadcasts = Broadcasts(store, settle=settle)
        self._shown: dict[int, str] = {}
        """The text each report's message shows, as far as this run knows."""
        self._held: dict[int, float] = {}
        """Reports Telegram asked to wait: the monotonic time they may be edited again."""
        self._chat_edited: dict[int, float] = {}
        self.edits = 0
        """Edits Telegram accepted in this run."""

    async def run(
        self, stopping: asyncio.Event, *, active: Callable[[], bool] = lambda: True
    ) -> None:
        """Edit the running reports every few seconds until `stopping` is set, whenever this
        instance is the `active` one (a standby changes nothing at Telegram)."""
        while not stopping.is_set():
            try:
                if active():
                    await self.update()
            except Exception:  # a database or network hiccup: the next look tries again
                log.exception("live reports not updated")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), self._every)

    async def update(self) -> None:
        """Edit each running report whose text changed; finish those that are over."""
        for report in await self._store.running_reports():
            await self._update(report)

    async def _update(self, report: Report) -> None:
        now = time.monotonic()
        if self._held.get(report.id, 0.0) > now:
            return
        if now - self._chat_edited.get(report.chat_id, -CHAT_GAP) < CHAT_GAP:
            return
        if time.time() - report.started_at < FIRST_EDIT_AFTER:
            return
        snapshot = await self._broadcasts.snapshot(report)
        if self._shown.get(report.id) != snapshot.text and not await self._edit(snapshot):
            return
        if snapshot.over:
            await self._store.finish_report(report.id)
            self._shown.pop(report.id, None)
            log.info(
                "report finished post=%s sent=%d total=%d stopped=%d",
                report.post_id,
                snapshot.figures.sent,
                snapshot.figures.total,
                snapshot.figures.stopped,
            )

    async def _edit(self, snapshot: Snapshot) -> bool:
        """Show the snapshot in the report's message; whether it is shown (or never can be)."""
        report = snapshot.report
        texts = catalogue(language_for(report.language))
        markup = None if snapshot.over or report.stopped_at else stop_keyboard(texts, report.id)
        await self._turn()
        self._chat_edited[report.chat_id] = time.monotonic()
        try:
            await self._bot.edit_message_text(
                snapshot.text,
                chat_id=report.chat_id,
                message_id=report.message_id,
                reply_markup=markup,
            )
        except TelegramError as exc:
            trouble = classify(exc)
            match trouble.fault:
                case Fault.NOT_MODIFIED:
                    pass  # it reads that way already (shown before a restart)
                case Fault.RETRY_LATER:
                    self._held[report.id] = time.monotonic() + trouble.retry_after
                    return False
                case Fault.MESSAGE_GONE | Fault.CHAT_GONE:
                    log.info("report gone post=%s reason=%s", report.post_id, trouble.reason)
                    await self._store.finish_report(report.id)
                    return False
                case _:
                    log.warning("report not edited post=%s error=%s", report.post_id, exc)
                    return False
        else:
            self.edits += 1
        self._shown[report.id] = snapshot.text
        return True
