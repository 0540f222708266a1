"""The scanner: keeps the library in step with the content folder and queues what changed.

A pass rescans the folder, then queues new, corrected and retracted posts for every chat that
should have them, and brings the archive's search index in step (`bot.search_index`). Passes
run on schedule (`NEWSBOT_SCAN_SECONDS`), on file events where the platform reports them, when
a future-dated post comes due, and when an editor asks (`/reload`, `/retract`, a breaking item).

The scanner outlives every fault: a pass that fails, whatever the reason (a disk gone
read-only, a database locked, a folder unmounted), is one log line and a retry after a wait that
doubles up to `RETRY_CAP`; `/healthz` says why (`trouble`) until a pass succeeds again.

Of several instances sharing a database only the active one queues (`may_queue`, its role in
`bot.role`); a standby's passes keep its library current (with a webhook it answers `/latest`)
and leave the queueing owed, so the pass after it takes over catches up on everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import watchfiles

from bot.posts import PostLibrary, Rejection, ScanReport
from bot.queue import QueueReport, queue_new_posts
from bot.search_index import SearchIndex
from bot.settings import Settings
from bot.store import Deposed, Store

log = logging.getLogger(__name__)

#: The longest wait before a failing pass is tried again; the first wait is the scan interval
#: (at most a second), doubled after each failure.
RETRY_CAP = 60.0
#: The longest reason `/healthz` and the log give for a failing pass.
_REASON_MOST = 300


class Scanner:
    """Passes over the content folder, one at a time, for one running bot."""

    def __init__(
        self,
        library: PostLibrary,
        store: Store,
        settings: Settings,
        *,
        queued: Callable[[], None],
        after_pass: Callable[[], Awaitable[None]],
        stopping: asyncio.Event,
        index: SearchIndex | None = None,
        may_queue: Callable[[], bool] = lambda: True,
    ) -> None:
        """`queued` is called when a pass queued deliveries or revisions (the sender's wake-up);
        `after_pass` after every pass (the command menus follow the categories); `index`, the
        archive's search index, is kept in step with the posts after every pass; `may_queue`
        says whether this instance is the one that queues."""
        self.library = library
        self._may_queue = may_queue
        self._store = store
        self._settings = settings
        self._queued = queued
        self._after_pass = after_pass
        self._stopping = stopping
        self._index = index
        self._rescan = asyncio.Event()
        self._reported: set[Rejection] = set()
        self._release: datetime | None = None
        self._owed = False
        self.trouble: str | None = None
        """Why the last pass failed, while passes keep failing."""
        self.publishing = asyncio.Lock()
        """Held while the folder is scanned and queued, or an editor publishes into it."""

    def rescan(self) -> None:
        """Make a pass now rather than at the next scheduled one."""
        self._rescan.set()

    def catch_up(self) -> None:
        """Make a pass now that queues whatever the database has not had yet (this instance
        just took over from one that may have died between a scan and its queueing)."""
        self._owed = True
        self._rescan.set()

    def scan(self) -> ScanReport:
        """Rescan the folder (blocking: run it in a thread); each new rejection logged once."""
        report = self.library.scan()
        for rejection in set(report.rejected) - self._reported:
            log.warning("post rejected file=%s reason=%s", rejection.path, rejection.reason)
        self._reported = set(report.rejected)
        return report

    async def refresh(self, *, queue: bool = False) -> tuple[ScanReport, QueueReport | None]:
        """Rescan the folder and queue what is new, corrected or retracted.

        Queuing runs when the scan changed anything, a future-dated post came due, or `queue`
        asks for it (the first pass, which catches up on what a stopped bot missed).
        `publishing` keeps a pass from interleaving with an editor writing into the folder.
        """
        async with self.publishing:
            scan = await asyncio.to_thread(self.scan)
            now = datetime.now(UTC)
            release_due = self._release is not None and self._release <= now
            report = None
            wanted = queue or self._owed or scan.anything_changed or release_due
            if wanted and not self._may_queue():
                self._owed = True  # the active instance queues it; if this one takes over, it does
            elif wanted:
                # Owed until queuing succeeds: the library has taken the change in already, so
                # a pass after a failed one (a database locked, a disk full) would see nothing new.
                self._owed = True
                report = await queue_new_posts(
                    self._store,
                    self.library,
                    now=now,
                    max_age=timedelta(hours=self._settings.max_age_hours),
                    edit_window=timedelta(hours=self._settings.edit_window_hours),
                )
                self._owed = False
                self._release = report.next_release
                if report.deliveries or report.revisions:
                    self._queued()
            if self._index is not None:
                # Within the pass, so an editor's /retract (which waits for `publishing`) is
                # answered only once the retracted post can no longer be found.
                await self._index.sync(self.library.posts, now, changed=scan.anything_changed)
        await self._after_pass()
        return scan, report

    def failed(self, exc: BaseException, *, retry_in: float) -> None:
        """Note why a pass failed, for `/healthz`, and log it in one line."""
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:_REASON_MOST]
        self.trouble = f"scanner failing: {reason}"
        log.error("scan failed, retrying in %.1fs error=%s", retry_in, reason)

    async def run(self) -> None:
        """Make passes until the bot stops: on schedule, on file events, and when a
        future-dated post comes due; a failing pass is retried with backoff."""
        failures = 0
        first = True
        while not self._stopping.is_set():
            timeout = self._settings.scan_seconds
            try:
                await self.refresh(queue=first)
            except Deposed:
                log.info("queueing left to the instance that took over")
            except Exception as exc:  # the scanner outlives every fault; it says which
                failures += 1
                timeout = min(min(timeout, 1.0) * 2 ** (failures - 1), RETRY_CAP)
                self.failed(exc, retry_in=timeout)
            else:
                if self.trouble is not None:
                    log.info("scan recovered")
                failures, first, self.trouble = 0, False, None
            if self._release is not None:
                until = (self._release - datetime.now(UTC)).total_seconds()
                timeout = min(timeout, max(until, 0.05))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wait_for_rescan(), timeout)
            self._rescan.clear()

    async def watch(self) -> None:
        """Turn file events into passes where the platform reports them; without them (or
        without the folder yet) passes still run on schedule."""
        try:
            async for _ in watchfiles.awatch(
                self._settings.content_dir, stop_event=self._stopping, debounce=300
            ):
                self.rescan()
        except (OSError, RuntimeError) as exc:
            log.info("no file events for the content folder (%s); rescanning on schedule", exc)

    async def _wait_for_rescan(self) -> None:
        stop = asyncio.create_task(self._stopping.wait())
        rescan = asyncio.create_task(self._rescan.wait())
        try:
            await asyncio.wait({stop, rescan}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            rescan.cancel()
