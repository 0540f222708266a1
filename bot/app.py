"""The running bot: the Telegram application, the content watcher and the sender, wired together.

`Newsbot` owns the start and the orderly stop of every part. It is used by `newsbot run` and,
unchanged, by the end-to-end tests, which point it at a Bot API test double on loopback.

Updates arrive by long polling, or through a webhook when NEWSBOT_WEBHOOK_URL is set; everything
else is the same in both modes, including `/metrics` and `/healthz` on a port of their own.

Several instances may share one database (`bot.role`): each follows its role as it changes. The
active one sends, queues (the scanner asks), keeps the command menus and, with long polling,
polls; a standby keeps its library current and, with a webhook, answers commands, but makes no
Bot API call that changes anything. The sender and the scanner write through a fenced store
(`Store.fenced`), so a deposed instance records nothing after another took over.

A start without the network is not a crash: each call Telegram must answer before the bot can run
is tried again until it answers or the bot is told to stop (`bot.receiving`).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import math
import signal
from collections.abc import Coroutine
from typing import Any

from telegram import Bot
from telegram.ext import Application, ApplicationBuilder

from bot import handlers
from bot.compaction import Compactor, retention
from bot.delivery import CardStyle, RetryPolicy, Sender
from bot.fetch import Fetcher, public_or
from bot.images import ImageCache
from bot.logs import RedactSecrets
from bot.metrics import Metrics, MetricsServer
from bot.newsroom import BREAKING_FOLDER, RetractionLedger
from bot.pace import FREE_RATE, Pace
from bot.posts import PostCache, PostLibrary, ScanReport
from bot.queue import QueueReport
from bot.receiving import Receiving, until_telegram_answers
from bot.replies import WaitOutFloodControl
from bot.reports import LiveReports
from bot.role import Instance, Role
from bot.scanner import Scanner
from bot.search_index import SearchIndex
from bot.settings import Settings
from bot.store import Store
from bot.transport import AiohttpRequest

log = logging.getLogger(__name__)


class Newsbot:
    """Everything that runs while the bot is up."""

    def __init__(
        self,
        settings: Settings,
        *,
        retry: RetryPolicy | None = None,
        pace: Pace | None = None,
    ) -> None:
        """`retry` and `pace` replace the sender's defaults, for tests and benchmarks: shorter
        waits between retries, or a pace above what `NEWSBOT_RATE` may be set to (to measure
        how fast the bot could send if Telegram let it)."""
        self.settings = settings
        self._token = settings.require_token()
        self._retry = retry
        self._redact = RedactSecrets(self._token, *settings.secrets).redact
        self._pace = pace
        self._post_cache = PostCache(settings.post_cache)
        newsroom = settings.newsroom_dir
        self.library = PostLibrary(
            settings.content_dir,
            cache=self._post_cache,
            also=(settings.editors_dir / BREAKING_FOLDER,),  # a Jekyll site reads only _posts
            amendments=RetractionLedger(newsroom) if newsroom else None,
            site_url=settings.site_url,
        )
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._instance: Instance | None = None
        self._sending: asyncio.Task[None] | None = None
        self._receiving: asyncio.Task[None] | None = None
        self._store: Store | None = None
        self._scanner: Scanner | None = None
        self._application: Application | None = None  # type: ignore[type-arg]
        self._sender: Sender | None = None
        self._reports: LiveReports | None = None
        self._menu: handlers.CommandMenu | None = None
        self._sender_bot: Bot | None = None
        self._fetcher: Fetcher | None = None
        self._images: ImageCache | None = None
        self._receiver: Receiving | None = None
        self.metrics = Metrics()
        self._metrics_server: MetricsServer | None = None

    @property
    def store(self) -> Store:
        """The open database (only between `start()` and `stop()`)."""
        assert self._store is not None, "Newsbot is not started"
        return self._store

    @property
    def scanner(self) -> Scanner:
        """The content folder's scanner (only between `start()` and `stop()`)."""
        assert self._scanner is not None, "Newsbot is not started"
        return self._scanner

    @property
    def role(self) -> Role:
        """This instance's role among those sharing the database."""
        return Role.STANDBY if self._instance is None else self._instance.role

    @property
    def instance(self) -> Instance:
        """This instance and its lease (only between `start()` and `stop()`)."""
        assert self._instance is not None, "Newsbot is not started"
        return self._instance

    @property
    def sender(self) -> Sender:
        """The delivery sender (only between `start()` and `stop()`)."""
        assert self._sender is not None, "Newsbot is not started"
        return self._sender

    def _request(self, pool: int) -> AiohttpRequest:
        return AiohttpRequest(
            pool,
            connect_timeout=10.0,
            read_timeout=self.settings.request_timeout,
            write_timeout=max(self.settings.request_timeout, 30.0),
            pool_timeout=30.0,
        )

    async def start(self) -> None:
        """Open the database, read the posts, and start polling, watching and sending."""
        settings = self.settings
        self._store = await Store.open(settings.database)
        instance = self._instance = Instance(
            self.store, name=settings.instance_name, term=settings.lease_seconds
        )
        # What only the active instance may write goes through the fence.
        fenced = self.store.fenced(instance.fence)
        # Listening early makes a port already taken fail the start before Telegram is called.
        self._metrics_server = MetricsServer(
            self.metrics,
            refresh=self._refresh_metrics,
            health=self._health,
            role=lambda: self.role.value,
        )
        self._metrics_server.start(settings.listen_host, settings.metrics_port)
        self._scanner = Scanner(
            self.library,
            fenced,
            settings,
            queued=lambda: self.sender.wake(),
            after_pass=self._publish_menu,
            stopping=self._stopping,
            index=SearchIndex(self.store),
            may_queue=lambda: instance.role is Role.ACTIVE,
        )
        try:
            await asyncio.to_thread(self._scanner.scan)
        except Exception as exc:  # the scanner retries; a bad folder must not stop the start
            self._scanner.failed(exc, retry_in=0.0)
        concurrency = max(8, min(128, math.ceil(settings.rate / 10)))
        # Broadcasts use a bot of their own, with its own connection pool, so a long broadcast
        # never makes a reader's command wait for a free connection.
        self._sender_bot = Bot(
            self._token,
            base_url=settings.telegram_api_url,
            base_file_url=settings.file_url,
            request=self._request(concurrency),
        )
        await until_telegram_answers("getMe", self._sender_bot.initialize)
        self._fetcher = Fetcher(allow=public_or(settings.image_networks))
        self._images = ImageCache(self.store, self._fetcher)
        self._sender = Sender(
            self._sender_bot,
            fenced,
            self.library,
            self._images,
            pace=self._pace or Pace(settings.rate),
            style=CardStyle(
                zone=settings.zone, source_name=settings.site_name, share=settings.share_button
            ),
            retry=self._retry,
            concurrency=concurrency,
            paid_broadcast=settings.rate > FREE_RATE,
            metrics=self.metrics,
            may_send=instance.may_send,
        )
        self._application = (
            ApplicationBuilder()
            .token(self._token)
            .base_url(settings.telegram_api_url)
            .base_file_url(settings.file_url)
            .request(self._request(8))
            .get_updates_request(self._request(1))
            .rate_limiter(WaitOutFloodControl())
            .build()
        )
        self._menu = handlers.install(
            self._application,
            handlers.Deps(
                self.store,
                self.library,
                self.sender,
                settings,
                self.scanner.publishing,
                self.scanner.refresh,
            ),
        )
        # Editors' live reports are edited with the replies' bot, at the replies' pace; a
        # stopped broadcast's messages on their way get a request's time to be recorded.
        self._reports = LiveReports(
            self.store,
            self._application.bot,
            turn=self.sender.reply_turn,
            settle=settings.request_timeout + 5.0,
        )
        await until_telegram_answers("getMe", self._application.initialize)
        await self._application.start()
        self._receiver = Receiving(self._application, settings)
        self._receiver.listen()
        try:
            await instance.tick()  # a free lease is taken at once: a lone instance starts active
        except Exception as exc:  # the lease loop tries again
            log.warning("cannot reach the lease error=%s", exc)
        await self._follow_role()
        self._tasks = [
            asyncio.create_task(self.scanner.run(), name="newsbot-scanner"),
            asyncio.create_task(self.scanner.watch(), name="newsbot-watcher"),
            asyncio.create_task(
                Compactor(
                    fenced,
                    keep_seconds=retention(settings.edit_window_hours),
                    stopping=self._stopping,
                    active=lambda: instance.role is Role.ACTIVE,
                ).run(),
                name="newsbot-ledger",
            ),
            asyncio.create_task(
                self._reports.run(self._stopping, active=lambda: instance.role is Role.ACTIVE),
                name="newsbot-reports",
            ),
            asyncio.create_task(instance.run(), name="newsbot-lease"),
            asyncio.create_task(self._follow_roles(), name="newsbot-role"),
        ]
        if (receiving := self._receiving) is not None:
            # An active instance has started once it receives updates (the lease is kept
            # meanwhile, however long Telegram takes to answer; a step-down cancels the wait).
            await asyncio.wait({receiving})
            if not receiving.cancelled() and (error := receiving.exception()) is not None:
                raise error
        # What start-up loaded (the libraries, the posts) lives as long as the bot: out of the
        # collector's sight, full collections stay short, and with them the pauses that would
        # hold up a message between its turn and its sending.
        gc.freeze()
        me = self._application.bot.username
        mode = "webhook" if settings.webhook_url else "polling"
        log.info(
            "newsbot started bot=@%s posts=%d mode=%s instance=%s role=%s",
            me,
            len(self.library.posts),
            mode,
            instance.name,
            instance.role,
        )

    async def stop(self) -> None:
        """Stop taking new work, finish what is in flight, and close everything."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        if self._metrics_server is not None:
            await self._metrics_server.stop()
        if self._receiver is not None:
            await self._receiver.close()
        if self._application is not None and self._application.running:
            await self._application.stop()
        for task in self._tasks:
            if task.get_name() == "newsbot-role":
                task.cancel()  # no change of role from now on
        if self._receiving is not None:
            self._receiving.cancel()
        if self._sender is not None:
            await self._sender.stop()
        if self._sending is not None:
            await asyncio.gather(self._sending, return_exceptions=True)
        if self._instance is not None:
            # Only once the sender has stopped and recorded what it sent: a standby may begin.
            await self._instance.stop()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._application is not None:
            await self._application.shutdown()
        if self._sender_bot is not None:
            await self._sender_bot.shutdown()
        if self._images is not None:
            await self._images.close()
        if self._fetcher is not None:
            await self._fetcher.close()
        if self._store is not None:
            await self._store.close()
        self._post_cache.close()
        log.info("newsbot stopped")

    def rescan(self) -> None:
        """Look at the content folder now rather than at the next scheduled scan."""
        self.scanner.rescan()

    async def refresh(self, *, queue: bool = False) -> tuple[ScanReport, QueueReport | None]:
        """Rescan the content folder and queue what is new, corrected or retracted, now."""
        return await self.scanner.refresh(queue=queue)

    @property
    def metrics_port(self) -> int:
        """The port `/metrics` and `/healthz` are served on (only while started)."""
        assert self._metrics_server is not None and self._metrics_server.port is not None
        return self._metrics_server.port

    # --- updates, health and metrics ----------------------------------------------------------

    # --- the role: what the active instance does and a standby does not --------------------

    async def _follow_roles(self) -> None:
        """Follow every change of this instance's role, one at a time, until the bot stops."""
        while True:
            await self.instance.changed.wait()
            await self._follow_role()

    async def _follow_role(self) -> None:
        """Start or stop what only the active instance does, as its role now asks."""
        instance = self.instance
        instance.changed.clear()
        role = instance.role
        self.metrics.set_role(role.value)
        self.metrics.lease_epoch.set(instance.epoch or 0)
        receiver = self._receiver
        assert receiver is not None
        if role is Role.ACTIVE and self._sending is None and not self._stopping.is_set():
            self.sender.resume()
            self._sending = asyncio.create_task(self.sender.run(), name="newsbot-sender")
            self.scanner.catch_up()  # what the previous active instance found but did not queue
            self._receiving = asyncio.create_task(receiver.start(), name="newsbot-receiving")
        elif role is Role.STANDBY and self._sending is not None:
            if self._receiving is not None:
                self._receiving.cancel()
                await asyncio.gather(self._receiving, return_exceptions=True)
                self._receiving = None
            await receiver.stop_polling()  # Telegram serves one poller per token: the active one
            await self.sender.stop()
            await asyncio.gather(self._sending, return_exceptions=True)
            self._sending = None

    async def _health(self) -> str | None:
        """None when updates arrive, the sender and scanner run and the database answers."""
        if self._stopping.is_set():
            return "stopping"
        application = self._application
        if application is None or not application.running:
            return "starting"
        active = self.role is Role.ACTIVE
        if self._receiver is None or not self._receiver.running(active=active):
            return "not receiving updates"
        if active and (self._sending is None or self._sending.done()):
            return "newsbot-sender has stopped"
        for task in self._tasks:
            # The watcher may end by design (no file events here); the others never should.
            if task.done() and task.get_name() != "newsbot-watcher":
                return f"{task.get_name()} has stopped"
        if self.scanner.trouble is not None:
            return self._redact(self.scanner.trouble)
        if self.instance.trouble is not None:
            return self.instance.trouble
        if active and (trouble := self.sender.trouble()) is not None:
            return trouble
        await self.store.schema_version()
        return None

    async def _publish_menu(self) -> None:
        if self._menu is not None and self.role is Role.ACTIVE:
            await self._menu.publish()  # a no-op unless the categories changed

    async def _refresh_metrics(self, metrics: Metrics) -> None:
        """Read the figures that live in the database, at scrape time."""
        if self._store is None or self._stopping.is_set():
            return
        metrics.set_role(self.role.value)
        metrics.lease_epoch.set(self.instance.epoch or 0)
        metrics.queue_depth.set(await self._store.queue_depth())
        metrics.active_chats.set(await self._store.active_chats())


async def serve(settings: Settings) -> None:
    """Run the bot until SIGTERM or Ctrl-C, then stop in order."""
    bot = Newsbot(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        # A start still waiting for Telegram gives way to a stop signal.
        if await _unless(stop, bot.start()):
            await stop.wait()
        log.info("stopping")
    finally:
        await bot.stop()


async def _unless(stop: asyncio.Event, work: Coroutine[Any, Any, None]) -> bool:
    """Run `work` unless `stop` is set first (then cancel it); returns whether it finished."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if not task.done():
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return False
    task.result()  # a failed start raises here
    return True
