"""A broadcast's progress as editors see it: the live report's text, /progress, and "Stop".

Everything here is read from the ledger (`Store.figures`), never counted in memory, so a report
says what the database says, before and after a restart, and its final figures are the
ledger's. A report is over when nothing of its broadcast is pending any more; after an editor's
"Stop", it also waits `settle` seconds, long enough for the messages that were already on their
way (at most the sender's concurrency) to be answered and recorded, so the final edit counts
them too.

Stopping cancels the pending deliveries of that broadcast in one transaction
(`Store.stop_report`); what was sent stays sent, and the report says how many did not go. No
Telegram types here: the loop that edits the reports is `bot.reports`, the buttons
`bot.handlers.editors`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from bot.i18n import Texts, catalogue, language_for
from bot.store import Figures, Report, Store

RATE_WINDOW = 30.0
"""The rate is the sends of the last this many seconds (or since the first send)."""
STOP_SETTLE = 20.0
"""After a stop, how long messages already on their way may take to be recorded."""
MAX_REASONS = 3
"""The main reasons shown for deliveries that failed."""
MAX_RUNNING = 10
"""At most this many broadcasts in an answer to /progress."""
BREAKING = "breaking"
PUSH = "push"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A report's text now, and whether it is the final one."""

    report: Report
    text: str
    over: bool
    figures: Figures


@dataclass(frozen=True, slots=True)
class StopAnswer:
    """What to tell the editor about a "Stop", and whether a broadcast was stopped."""

    text: str
    stopped: bool


class Broadcasts:
    """Reports of the broadcasts editors started, and stopping them."""

    def __init__(
        self,
        store: Store,
        *,
        settle: float = STOP_SETTLE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._settle = settle
        self._clock = clock

    async def open(
        self,
        post_id: str,
        kind: str,
        *,
        after: int,
        chat_id: int,
        message_id: int,
        texts: Texts,
    ) -> Snapshot | None:
        """Make the message `(chat_id, message_id)` the report of the post's deliveries queued
        after delivery `after`; its first text. None when nothing was queued."""
        report = await self._store.open_report(
            post_id,
            kind,
            chat_id=chat_id,
            message_id=message_id,
            language=texts.language,
            after=after,
            now=self._clock(),
        )
        return None if report is None else await self.snapshot(report)

    async def snapshot(self, report: Report) -> Snapshot:
        """The report's text as the ledger has it now, in the editor's language."""
        now = self._clock()
        figures = await self._store.figures(
            report.post_id,
            first=report.first_delivery,
            last=report.last_delivery,
            now=now,
            since=now - RATE_WINDOW,
        )
        over = figures.pending == 0 and (
            report.stopped_at is None or now - report.stopped_at >= self._settle
        )
        texts = catalogue(language_for(report.language))
        text = report_text(texts, report, figures, now, over=over)
        return Snapshot(report, text, over, figures)

    async def running(self, texts: Texts) -> tuple[str, list[Report]]:
        """The answer to /progress: every broadcast with deliveries pending, and the editors'
        reports among them (which may be stopped)."""
        now = self._clock()
        reports = {r.post_id: r for r in await self._store.running_reports()}
        posts = await self._store.broadcasts_running(limit=MAX_RUNNING)
        if not posts:
            return texts("progress.none"), []
        parts = [texts("progress.title", count=len(posts))]
        stoppable: list[Report] = []
        for post_id in posts:
            report = reports.get(post_id)
            if report is not None and report.stopped_at is None:
                stoppable.append(report)
                parts.append((await self.snapshot(report)).text)
                continue
            figures = await self._store.figures(post_id, now=now, since=now - RATE_WINDOW)
            lines = [texts("progress.new_post", post=post_id, total=figures.total)]
            parts.append("\n".join(lines + figure_lines(texts, figures, now)))
        return "\n\n".join(parts), stoppable

    async def ask_stop(self, report_id: int, texts: Texts) -> StopAnswer:
        """The question before stopping: how many will not get the post, and that the sent
        stay sent. `stopped` is False when there is nothing left to stop."""
        report = await self._store.report(report_id)
        if report is None or report.finished_at is not None or report.stopped_at is not None:
            post = report.post_id if report else "?"
            return StopAnswer(texts("progress.over", post=post), False)
        figures = (await self.snapshot(report)).figures
        if figures.pending == 0:
            return StopAnswer(texts("progress.over", post=report.post_id), False)
        text = texts(
            "progress.confirm_stop", post=report.post_id, pending=figures.pending, sent=figures.sent
        )
        return StopAnswer(text, True)

    async def stop(self, report_id: int, *, editor: int, texts: Texts) -> StopAnswer:
        """Stop the remaining deliveries of the report's broadcast; what was sent stays sent."""
        report = await self._store.report(report_id)
        stopped = await self._store.stop_report(report_id, editor=editor, now=self._clock())
        if report is None or stopped is None:
            post = report.post_id if report else "?"
            return StopAnswer(texts("progress.over", post=post), False)
        figures = (await self.snapshot(report)).figures
        text = texts(
            "progress.stopped_now", post=report.post_id, stopped=stopped, sent=figures.sent
        )
        return StopAnswer(text, True)

    async def keep(self, report_id: int, texts: Texts) -> str:
        """The editor thought better of stopping: say the broadcast goes on."""
        report = await self._store.report(report_id)
        return texts("progress.kept", post=report.post_id if report else "?")


def report_text(texts: Texts, report: Report, figures: Figures, now: float, *, over: bool) -> str:
    """A report: what was confirmed, then its figures; when over, the final figures."""
    post = report.post_id
    if report.stopped_at is not None:
        head = texts("progress.stopped", post=post, stopped=figures.stopped, sent=figures.sent)
        if not over:
            head += "\n" + texts("progress.stopping")
    elif over:
        key = "progress.done_breaking" if report.kind == BREAKING else "progress.done_push"
        head = texts(key, post=post, sent=figures.sent, total=figures.total)
    elif report.kind == BREAKING:
        head = texts("admin.sent_breaking", post=post, count=figures.total)
    else:
        head = texts("admin.sent_push", post=post, count=figures.total)
    lines = [head, *figure_lines(texts, figures, now, over=over)]
    if over and figures.last_sent is not None:
        took = duration(texts, figures.last_sent - report.started_at)
        lines.append(texts("progress.took", took=took))
    return "\n".join(lines)


def figure_lines(texts: Texts, figures: Figures, now: float, *, over: bool = False) -> list[str]:
    """Sent of total, what failed and why, what waits, the rate and the time left."""
    percent = 100 * figures.sent // figures.total if figures.total else 100
    lines = [texts("progress.sent", sent=figures.sent, total=figures.total, percent=percent)]
    if figures.failed:
        lines.append(texts("progress.not_delivered", count=figures.failed))
        reasons = sorted(figures.not_delivered.items(), key=lambda item: (-item[1], item[0]))
        for reason, count in reasons[:MAX_REASONS]:
            lines.append(texts("progress.reason", reason=reason[:80], count=count))
    if over or not figures.pending:
        return lines
    if figures.flood:
        lines.append(texts("progress.flood", count=figures.flood))
    if figures.retrying:
        lines.append(texts("progress.retrying", count=figures.retrying))
    speed = rate(figures, now)
    if speed is None:
        lines.append(texts("progress.rate_unknown"))
    else:
        left = duration(texts, figures.pending / speed) if speed > 0 else "?"
        lines.append(texts("progress.rate", rate=f"{speed:.1f}", left=left))
    return lines


def rate(figures: Figures, now: float, window: float = RATE_WINDOW) -> float | None:
    """Messages a second over the last `window` seconds (or since the first was sent); None
    before two were sent."""
    if figures.first_sent is None or figures.sent < 2:
        return None
    span = min(window, now - figures.first_sent)
    if span <= 0:
        return None
    return figures.recent / span


def duration(texts: Texts, seconds: float) -> str:
    """A stretch of time as an editor reads it: 7 s, 3 min 20 s, 2 h 5 min."""
    whole = max(round(seconds), 0)
    if whole < 60:
        return texts("progress.seconds", s=whole)
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return texts("progress.minutes", m=minutes, s=secs)
    hours, minutes = divmod(minutes, 60)
    return texts("progress.hours", h=hours, m=minutes)
