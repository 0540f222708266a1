"""The webhook: Telegram posts each update to a small HTTP server of the bot's own.

The address is public, so anyone may find it; what a stranger can make the bot spend is bounded
before any of their request body is read:
- the secret (`X-Telegram-Bot-Api-Secret-Token`) is checked as soon as the headers have arrived,
  and a request without it, or with another one, is answered 403 without reading its body;
- a body declared larger than `MAX_BODY_BYTES` (an update is a few kilobytes; 1 MB is generous)
  is answered 413 unread, and one that streams past the limit without declaring it is cut off;
- a connection that sends no request for `IDLE_SECONDS`, or whose headers take that long, is
  closed, and so is one whose body takes longer than `BODY_SECONDS` to arrive;
- only POST to the webhook's own path, as JSON, is an update.

It stands in for python-telegram-bot's `Updater.start_webhook`, whose tornado server reads a
body of up to 100 MB before looking at the secret and keeps idle connections for an hour.
Updates go onto the `update_queue` PTB's own server would fill, so handlers see no difference.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from dataclasses import dataclass
from http import HTTPStatus

import tornado.web
from telegram import Bot, Update
from telegram.ext import ExtBot
from tornado.httpserver import HTTPServer

from bot.listening import listen

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header's name
MAX_BODY_BYTES = 1024 * 1024
MAX_HEADER_BYTES = 16 * 1024
IDLE_SECONDS = 30.0
BODY_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class _Context:
    bot: Bot
    updates: asyncio.Queue[object]
    secret: bytes
    max_body: int


@tornado.web.stream_request_body
class _UpdateHandler(tornado.web.RequestHandler):
    """One POST from Telegram: checked on its headers, then read, parsed and queued."""

    SUPPORTED_METHODS = ("POST",)

    def initialize(self, context: _Context) -> None:
        self.context = context
        self.body = bytearray()
        self.refused = False

    def prepare(self) -> None:
        """Refuse by the headers alone: nothing of the body has been read yet."""
        refusal = self._refusal()
        if refusal is not None:
            self.refused = True
            raise tornado.web.HTTPError(refusal)

    def _refusal(self) -> HTTPStatus | None:
        headers = self.request.headers
        if not hmac.compare_digest(headers.get(SECRET_HEADER, "").encode(), self.context.secret):
            return HTTPStatus.FORBIDDEN
        declared = headers.get("Content-Length", "0")
        if not declared.isdigit():
            return HTTPStatus.BAD_REQUEST
        if len(declared) > 15 or int(declared) > self.context.max_body:
            return HTTPStatus.REQUEST_ENTITY_TOO_LARGE
        if headers.get("Content-Type", "").partition(";")[0].strip().lower() != "application/json":
            return HTTPStatus.UNSUPPORTED_MEDIA_TYPE
        return None

    def data_received(self, chunk: bytes) -> None:
        if self.refused:  # answered already: what still arrives is dropped, not kept
            return
        self.body += chunk
        if len(self.body) > self.context.max_body:
            self.refused = True
            raise tornado.web.HTTPError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)

    async def post(self) -> None:
        bot = self.context.bot
        try:
            update = Update.de_json(json.loads(self.body), bot)
        except Exception as exc:  # whatever the parser makes of strange JSON: not an update
            # The body is a reader's message: its text is never logged.
            log.warning("webhook update unreadable error=%s", type(exc).__name__)
            raise tornado.web.HTTPError(HTTPStatus.BAD_REQUEST) from None
        if isinstance(bot, ExtBot):
            bot.insert_callback_data(update)
        await self.context.updates.put(update)

    def write_error(self, status_code: int, **_: object) -> None:
        self.finish()  # the status says it all; nothing about the server is told


def _quiet(handler: tornado.web.RequestHandler) -> None:
    """Requests are not logged one by one: a refused one says nothing worth a line."""
    if handler.get_status() >= 400:
        log.debug("webhook request refused status=%d", handler.get_status())


class WebhookServer:
    """The webhook's path, served over plain HTTP (TLS is the reverse proxy's) on the bot's loop."""

    def __init__(
        self,
        bot: Bot,
        updates: asyncio.Queue[object],
        *,
        path: str,
        secret: str,
        max_body: int = MAX_BODY_BYTES,
        idle_seconds: float = IDLE_SECONDS,
        body_seconds: float = BODY_SECONDS,
    ) -> None:
        """`updates` is the application's `update_queue`; `secret` must not be empty."""
        if not secret:
            raise ValueError("a webhook needs a secret")
        context = _Context(bot, updates, secret.encode(), max_body)
        route = "/" + path.strip("/")
        app = tornado.web.Application(
            [(rf"{route.rstrip('/')}/?", _UpdateHandler, {"context": context})],
            log_function=_quiet,
        )
        self._server = HTTPServer(
            app,
            max_body_size=max_body,
            max_header_size=MAX_HEADER_BYTES,
            idle_connection_timeout=idle_seconds,
            body_timeout=body_seconds,
            decompress_request=False,  # a small compressed body could unpack into a large one
        )
        self.port: int | None = None
        """The bound port (useful when 0 asked the system to choose one)."""

    @property
    def running(self) -> bool:
        """Whether the server is listening."""
        return self.port is not None

    def start(self, host: str, port: int) -> None:
        """Listen on `host:port`; a port already taken is an `OSError` that says which."""
        listener = listen(host, port, "the webhook")
        self._server.add_sockets([listener])
        self.port = int(listener.getsockname()[1])

    async def stop(self) -> None:
        """Stop listening and close open connections."""
        if self.port is None:
            return
        self.port = None
        self._server.stop()
        await self._server.close_all_connections()
