"""Updates from Telegram, and the calls Telegram must answer before the bot can run.

Updates arrive by long polling, or through a webhook when NEWSBOT_WEBHOOK_URL is set. Of several
instances sharing a database (`bot.role`), only the active one polls (Telegram serves one poller
per token) and only it tells Telegram the webhook's address; every instance serves the webhook,
so with a webhook a standby answers commands too.

A start without the network (no DNS, the Bot API refusing connections or answering 5xx) is not a
crash: each call Telegram must answer is tried again, with a log line and a growing pause, until
Telegram answers or the caller is cancelled.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from telegram.error import TelegramError
from telegram.ext import Application

from bot.settings import Settings
from bot.telegram_errors import Fault, classify
from bot.webhook import WebhookServer

log = logging.getLogger(__name__)

#: Pauses between tries to reach Telegram at start: doubling from the first to the last.
START_RETRY_FIRST = 1.0
START_RETRY_MOST = 60.0


async def until_telegram_answers(call: str, attempt: Callable[[], Awaitable[object]]) -> None:
    """Make a call Telegram must answer before the bot can run, trying until it does.

    No network (DNS, a refused connection, a timeout) or a Bot API server in trouble (5xx)
    is one log line per try, no traceback, and a pause that doubles up to a minute. A
    refused token or a request Telegram will never accept is not retried.
    """
    delay = START_RETRY_FIRST
    while True:
        try:
            await attempt()
            return
        except TelegramError as exc:
            trouble = classify(exc)
            if trouble.final or trouble.fault is Fault.TOKEN_REFUSED:
                raise
        if trouble.fault is Fault.RETRY_LATER:
            pause = trouble.retry_after
            log.warning("Telegram asks to wait call=%s delay=%.0fs", call, pause)
        else:
            pause, delay = delay, min(delay * 2, START_RETRY_MOST)
            log.warning(
                "Telegram not reachable, trying again call=%s delay=%.0fs error=%s",
                call,
                pause,
                trouble.reason,
            )
        await asyncio.sleep(pause)


class Receiving:
    """How one running bot receives updates: a poll, or a webhook server."""

    def __init__(self, application: Application, settings: Settings) -> None:  # type: ignore[type-arg]
        self._application = application
        self._settings = settings
        self._webhook: WebhookServer | None = None

    def listen(self) -> None:
        """With a webhook, serve it (every instance does, whatever its role).

        Listening before Telegram is told the address makes a port already taken fail first.
        """
        settings = self._settings
        if settings.webhook_url is None:
            return
        assert settings.webhook_secret is not None  # the settings refuse a webhook without one
        self._webhook = WebhookServer(
            self._application.bot,
            self._application.update_queue,
            path=settings.webhook_path,
            secret=settings.webhook_secret.get_secret_value(),
        )
        self._webhook.start(settings.listen_host, settings.listen_port)

    async def start(self) -> None:
        """Poll Telegram for updates, or tell Telegram our webhook: the active instance's part."""
        updater = self._application.updater
        assert updater is not None
        settings = self._settings
        if settings.webhook_url is None:
            await until_telegram_answers(
                "deleteWebhook",
                lambda: updater.start_polling(
                    poll_interval=0.0, timeout=10, drop_pending_updates=False
                ),
            )
            return
        assert settings.webhook_secret is not None
        secret = settings.webhook_secret.get_secret_value()
        url = settings.webhook_url
        await until_telegram_answers(
            "setWebhook",
            lambda: self._application.bot.set_webhook(
                url, secret_token=secret, drop_pending_updates=False
            ),
        )
        log.info("webhook listening address=%s path=%s", settings.listen, settings.webhook_path)

    async def stop_polling(self) -> None:
        """Stop polling (a standby leaves it to the active instance); the webhook stays."""
        updater = self._application.updater
        if updater is not None and updater.running:
            await updater.stop()

    async def close(self) -> None:
        """Stop the webhook server and the poll."""
        if self._webhook is not None:
            await self._webhook.stop()
        await self.stop_polling()

    def running(self, *, active: bool) -> bool:
        """Whether updates can arrive as they should for an instance that is `active` or not:
        the webhook server runs on every instance; a poll on the active one only."""
        if self._webhook is not None:
            return self._webhook.running
        updater = self._application.updater
        return not active or (updater is not None and updater.running)
