"""What the running bot reports about itself: Prometheus metrics, and a health check.

Counters are moved by the sender as things happen; numbers that live in the database (the queue's
depth, the active chats) are read when Prometheus scrapes, so they are never stale and cost
nothing between scrapes.

`/metrics` and `/healthz` are served on a port of their own (`NEWSBOT_METRICS_PORT`) in polling
and webhook mode alike: the Docker health check then works the same in both, and the metrics stay
off the public address the webhook must have. The server is tornado (it comes with
python-telegram-bot's `webhooks` extra) on the bot's own event loop, so a health check that gets
an answer has proved that the loop is not stuck, which a server in a thread could not prove.

Of several instances sharing a database, each serves its own: `/healthz` answers 200 on a
healthy standby as on the active one, its body naming the role (`ok active`, `ok standby`), and
`newsbot_role{role="..."}` is 1 for the instance's role, 0 for the other.

This module knows nothing of Telegram or SQLite: the caller passes in how to refresh the gauges,
how to judge health and what the instance's role is.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import tornado.web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from tornado.httpserver import HTTPServer

from bot.listening import listen

log = logging.getLogger(__name__)

#: Why a message did not reach its chat, as the `reason` label of `newsbot_messages_failed_total`.
FAILURE_REASONS = (
    "rejected",  # Telegram refused the message itself (400): a rendering bug
    "gave_up",  # server or network errors outlasted every retry
    "chat_gone",  # blocked, kicked, deactivated or deleted: the chat is made inactive
    "error",  # any other Telegram error
)
#: Seconds from a post being found to its message being accepted: a broadcast to thousands of
#: chats at 30 a second takes minutes, so the buckets reach an hour.
LATENCY_BUCKETS = (0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)
#: The roles an instance can have (`bot.role.Role`), as the `role` label of `newsbot_role`.
ROLES = ("active", "standby")

Refresh = Callable[["Metrics"], Awaitable[None]]
Health = Callable[[], Awaitable[str | None]]
"""Returns None when healthy, else the reason it is not."""
RoleName = Callable[[], str]
"""The instance's role now, one of `ROLES`."""


class Metrics:
    """The bot's metrics, in a registry of their own so that several bots (tests) can coexist."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.sent = Counter(
            "newsbot_messages_sent",
            "Messages Telegram accepted.",
            registry=self.registry,
        )
        self.failed = Counter(
            "newsbot_messages_failed",
            "Messages given up on, by reason.",
            ["reason"],
            registry=self.registry,
        )
        for reason in FAILURE_REASONS:
            self.failed.labels(reason)  # every series exists from the start, at zero
        self.flood_control = Counter(
            "newsbot_flood_control",
            "429 answers: Telegram's flood control asked the bot to wait.",
            registry=self.registry,
        )
        self.retries = Counter(
            "newsbot_send_retries",
            "Sends to be tried again after a server or network error.",
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "newsbot_queue_depth",
            "Deliveries waiting to be sent.",
            registry=self.registry,
        )
        self.active_chats = Gauge(
            "newsbot_active_chats",
            "Chats subscribed and reachable.",
            registry=self.registry,
        )
        self.role = Gauge(
            "newsbot_role",
            "1 for this instance's role among those sharing the database, 0 for the other.",
            ["role"],
            registry=self.registry,
        )
        self.set_role("standby")
        self.lease_epoch = Gauge(
            "newsbot_lease_epoch",
            "The lease's epoch (one more on every takeover) while this instance is active.",
            registry=self.registry,
        )
        self.latency = Histogram(
            "newsbot_delivery_latency_seconds",
            "Time from a post being found (its delivery queued) to Telegram accepting it.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    def delivered(self, queued_at: float | None, now: float | None = None) -> None:
        """Count a message Telegram accepted, and how long it waited since it was queued."""
        self.sent.inc()
        if queued_at:
            now = time.time() if now is None else now
            self.latency.observe(max(now - queued_at, 0.0))

    def set_role(self, role: str) -> None:
        """Show the instance's role: 1 for it, 0 for the other."""
        for name in ROLES:
            self.role.labels(name).set(int(name == role))

    def gave_up(self, reason: str) -> None:
        """Count a message that will not be delivered."""
        self.failed.labels(reason).inc()

    def render(self) -> bytes:
        """The text Prometheus scrapes."""
        return generate_latest(self.registry)


@dataclass(frozen=True, slots=True)
class _Context:
    metrics: Metrics
    refresh: Refresh
    health: Health
    role: RoleName


class _MetricsHandler(tornado.web.RequestHandler):
    def initialize(self, context: _Context) -> None:
        self.context = context

    async def get(self) -> None:
        try:
            await self.context.refresh(self.context.metrics)
        except Exception:  # the counters are still worth having without the gauges
            log.exception("metrics refresh failed")
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.write(self.context.metrics.render())


class _HealthHandler(tornado.web.RequestHandler):
    def initialize(self, context: _Context) -> None:
        self.context = context

    async def get(self) -> None:
        try:
            problem = await self.context.health()
        except Exception as exc:
            problem = f"{type(exc).__name__}: {exc}"
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        if problem is not None:
            self.set_status(503)
            self.write(f"unhealthy: {problem}\n")
        else:
            self.write(f"ok {self.context.role()}\n")


def _quiet(_: tornado.web.RequestHandler) -> None:
    """Scrapes and health checks every few seconds are not events worth a log line."""


class MetricsServer:
    """`/metrics` and `/healthz` over HTTP on the running event loop."""

    def __init__(
        self,
        metrics: Metrics,
        *,
        refresh: Refresh,
        health: Health,
        role: RoleName = lambda: "active",
    ) -> None:
        context = _Context(metrics, refresh, health, role)
        self._app = tornado.web.Application(
            [
                (r"/metrics", _MetricsHandler, {"context": context}),
                (r"/healthz", _HealthHandler, {"context": context}),
            ],
            log_function=_quiet,
        )
        self._server: HTTPServer | None = None
        self.port: int | None = None
        """The bound port (useful when 0 asked the system to choose one)."""

    def start(self, host: str, port: int) -> None:
        """Listen on `host:port`; a port already taken is an `OSError` that says which."""
        listener = listen(host, port, "metrics")
        self._server = HTTPServer(self._app)
        self._server.add_sockets([listener])
        self.port = int(listener.getsockname()[1])
        log.info("metrics listening address=%s:%d paths=/metrics,/healthz", host, self.port)

    async def stop(self) -> None:
        """Stop listening and close open connections."""
        server, self._server = self._server, None
        if server is not None:
            server.stop()
            await server.close_all_connections()
