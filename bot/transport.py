"""How newsbot's requests reach the Bot API: python-telegram-bot over an aiohttp session.

PTB ships one networking backend, `HTTPXRequest`, and lets any other stand in for it through
`BaseRequest`. newsbot uses aiohttp instead because a broadcast is thousands of small requests
and the transport's own cost per request decides how fast one core can send them: on the same
machine and test double, httpx (through httpcore's connection pool) spends about 0.7 ms of CPU
on a `sendMessage`, aiohttp about 0.13 ms (`docs/benchmarks.md`). httpcore's pool also grows
dearer with every connection it holds, which is exactly when a busy broadcast needs more.

Everything above the transport stays PTB's: it builds the request, reads Telegram's answer and
turns errors into `RetryAfter`, `Forbidden`, `ChatMigrated` and the rest, so the sender's
handling of faults does not depend on which transport carried the request. This class only
moves bytes, and maps the transport's own failures onto PTB's: a timeout is `TimedOut`, any
other connection trouble is `NetworkError`, as `HTTPXRequest` does.

**Proxies.** `HTTPS_PROXY`, `NO_PROXY` and the like apply, as they do to PTB's own transport,
but are read once per host: aiohttp's `trust_env` reads them (and `~/.netrc`) in a thread for
every request, two hand-offs to a thread per message of a broadcast.

**Late answers.** A request that timed out may still have been carried out: Telegram delivered
the message, and its answer was on its way. With `late_answer` set, such a request is not cut
off when its caller gives up: the caller gets `TimedOut` on time, the exchange goes on for up to
`LATE_ANSWER_SECONDS` more, and an answer that then arrives is handed to `late_answer` (in the
caller's context, so it can tell whose request it was). The sender keeps the id of the message
it names, so a correction or retraction reaches that copy too.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import aiohttp
from aiohttp.helpers import get_env_proxy_for_url
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData
from yarl import URL

_JSON = {"Content-Type": "application/json"}
#: The proxy a host is reached through (None: directly), and the proxy's credentials.
Route = tuple[URL | None, aiohttp.BasicAuth | None]

#: How much longer than its caller a request that may have been carried out waits for its answer.
LATE_ANSWER_SECONDS = 30.0

#: Resolved in an exchange's own task once it has its connection: from then on, the request may
#: reach Telegram, and a timeout no longer means it did not.
_CONNECTED: ContextVar[asyncio.Future[None] | None] = ContextVar("newsbot_connected", default=None)


class _Connector(aiohttp.TCPConnector):
    """A connector that says when an exchange got its connection (see `_CONNECTED`)."""

    async def connect(self, *args: Any, **kwargs: Any) -> Any:
        connection = await super().connect(*args, **kwargs)
        connected = _CONNECTED.get()
        if connected is not None and not connected.done():
            connected.set_result(None)
        return connection


class AiohttpRequest(BaseRequest):
    """A `BaseRequest` over one `aiohttp.ClientSession` of at most `pool_size` connections.

    The timeouts mean what PTB's documentation says they mean. aiohttp has no separate write
    timeout, so a request's write timeout is folded into its overall bound: no request can
    hang for longer than the sum of its timeouts.
    """

    __slots__ = (
        "_connect_timeout",
        "_late_waiting",
        "_media_write_timeout",
        "_pool_size",
        "_pool_timeout",
        "_read_timeout",
        "_routes",
        "_session",
        "_write_timeout",
        "late_answer",
    )

    def __init__(
        self,
        pool_size: int = 1,
        *,
        connect_timeout: float | None = 5.0,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = pool_size
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._routes: dict[str, Route] = {}
        self._late_waiting = 0
        self.late_answer: Callable[[bytes], None] | None = None
        """Given the body of a successful answer that came after its request timed out."""

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout, which PTB lengthens by the long-poll time of getUpdates."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session (again, after a shutdown); it needs a running event loop."""
        if self._session is None or self._session.closed:
            connector = _Connector(limit=self._pool_size, limit_per_host=0)
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": self.USER_AGENT},
                # PTB reads the answer's JSON itself, and never wants cookies.
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=False,  # the environment's proxies are read once (`_route`)
            )

    async def shutdown(self) -> None:
        """Close the session and its connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request and return Telegram's status code and body, as PTB expects."""
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized")
        files = request_data.multipart_data if request_data else None
        body: aiohttp.FormData | bytes | None = None
        if files and request_data is not None:
            body = aiohttp.FormData(request_data.json_parameters)
            for name, (filename, content, mime) in files.items():
                body.add_field(name, content, filename=filename, content_type=mime)
        elif request_data is not None:
            # One JSON document, as the Bot API accepts: encoding it once costs less than
            # encoding each value, then the whole form (a twentieth of a broadcast's CPU).
            body = json.dumps(request_data.parameters, ensure_ascii=False).encode()

        read = _given(read_timeout, self._read_timeout)
        connect = _given(connect_timeout, self._connect_timeout)
        pool = _given(pool_timeout, self._pool_timeout)
        write = _given(write_timeout, self._media_write_timeout if files else self._write_timeout)
        parts = (read, connect, pool, write)
        timeout = aiohttp.ClientTimeout(
            total=None if None in parts else sum(p for p in parts if p is not None),
            # aiohttp's `connect` covers waiting for a free connection and opening it.
            connect=None if pool is None or connect is None else pool + connect,
            sock_connect=connect,
            sock_read=read,
        )
        # Each exchange waiting for a late answer holds a connection: a quarter of the pool at
        # most, so a server that hangs cannot take the sender's connections away.
        patient = self._late_waiting < max(1, self._pool_size // 4)
        route = self._route(url)
        if self.late_answer is None or files or read is None or not patient:
            return await _exchange(session, route, method, url, body, timeout)
        return await self._patiently(session, route, method, url, body, timeout, read)

    def _route(self, url: str) -> Route:
        """How requests to the URL's host go: through the proxy the environment names for it
        (`HTTPS_PROXY`, `NO_PROXY`, ...), else directly; looked up once per host."""
        origin = "/".join(url.split("/", 3)[:3])  # "https://api.telegram.org"
        route = self._routes.get(origin)
        if route is None:
            try:
                route = get_env_proxy_for_url(URL(origin))
            except LookupError:
                route = (None, None)
            self._routes[origin] = route
        return route

    async def _patiently(
        self,
        session: aiohttp.ClientSession,
        route: Route,
        method: str,
        url: str,
        body: bytes | aiohttp.FormData | None,
        limits: aiohttp.ClientTimeout,
        read: float,
    ) -> tuple[int, bytes]:
        """The exchange, timing out for its caller after `read` seconds as usual, but going
        on in its own task for a late answer (see the module's docstring)."""
        loop = asyncio.get_running_loop()
        connected: asyncio.Future[None] = loop.create_future()
        patient = aiohttp.ClientTimeout(
            total=None if limits.total is None else limits.total + LATE_ANSWER_SECONDS,
            connect=limits.connect,
            sock_connect=limits.sock_connect,
            sock_read=read + LATE_ANSWER_SECONDS,
        )
        exchange = loop.create_task(
            _connected_exchange(connected, session, route, method, url, body, patient)
        )
        try:
            await connected  # set-up keeps its own timeouts; a failed one ends here too
            async with asyncio.timeout(read):
                return await asyncio.shield(exchange)
        except TimeoutError:
            hook = self.late_answer
            self._late_waiting += 1
            exchange.add_done_callback(
                lambda done: self._late_over(done, hook), context=contextvars.copy_context()
            )
            raise TimedOut from None
        except asyncio.CancelledError:
            exchange.cancel()
            raise

    def _late_over(
        self, exchange: asyncio.Task[tuple[int, bytes]], hook: Callable[[bytes], None] | None
    ) -> None:
        self._late_waiting -= 1
        if hook is not None:
            _hand_over(exchange, hook)


async def _connected_exchange(
    connected: asyncio.Future[None],
    session: aiohttp.ClientSession,
    route: Route,
    method: str,
    url: str,
    body: bytes | aiohttp.FormData | None,
    limits: aiohttp.ClientTimeout,
) -> tuple[int, bytes]:
    _CONNECTED.set(connected)
    try:
        return await _exchange(session, route, method, url, body, limits)
    finally:
        if not connected.done():
            connected.set_result(None)


async def _exchange(
    session: aiohttp.ClientSession,
    route: Route,
    method: str,
    url: str,
    body: bytes | aiohttp.FormData | None,
    limits: aiohttp.ClientTimeout,
) -> tuple[int, bytes]:
    """One request and its answer, with the transport's failures mapped onto PTB's."""
    try:
        # A redirect would turn the POST into a GET without its parameters; like PTB's own
        # transport, this one hands the redirect to PTB, which reports it as an error.
        async with session.request(
            method,
            url,
            data=body,
            headers=_JSON if isinstance(body, bytes) else None,
            timeout=limits,
            allow_redirects=False,
            proxy=route[0],
            proxy_auth=route[1],
        ) as response:
            return response.status, await response.read()
    except TimeoutError as err:  # aiohttp's own timeouts derive from it too
        raise TimedOut from err
    except aiohttp.ClientError as err:
        raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err


def _hand_over(exchange: asyncio.Task[tuple[int, bytes]], hook: Callable[[bytes], None]) -> None:
    """Give a late answer that says the request was carried out to `late_answer`."""
    if exchange.cancelled() or exchange.exception() is not None:
        return
    status, answer = exchange.result()
    if status == 200:
        hook(answer)


def _given(value: ODVInput[float], default: float | None) -> float | None:
    """A per-call timeout when the caller gave one, else this request's default."""
    return default if isinstance(value, DefaultValue) else value
