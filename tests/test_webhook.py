"""Webhook mode: the real bot serves a webhook on loopback and Telegram's updates are posted to it.

The double stands in for Telegram on both sides: it records the `setWebhook` call, and the test
posts an update to the bot the way Telegram would, with and without the secret header. Hostile
requests are made over raw sockets, so the test controls exactly which bytes are ever sent.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr
from telegram import Bot

from bot.webhook import MAX_BODY_BYTES, WebhookServer
from tests.conftest import StartBot
from tests.double import TelegramDouble
from tests.helpers import TOKEN

SECRET = "s3cret-token_for-tests"
HEADER = "X-Telegram-Bot-Api-Secret-Token"


def free_port() -> int:
    """A loopback port nobody listens on (the system's choice, released for the bot to take)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_updates_with_the_secret_are_handled_and_others_refused(
    double: TelegramDouble, start_bot: StartBot
) -> None:
    port = free_port()
    hook = f"http://127.0.0.1:{port}/telegram"
    bot = await start_bot(
        webhook_url=hook, webhook_secret=SecretStr(SECRET), listen=f"127.0.0.1:{port}"
    )
    assert double.webhook is not None
    assert double.webhook["url"] == hook and double.webhook["secret_token"] == SECRET

    update = double.send_command(77, "/start")
    async with httpx.AsyncClient(timeout=5) as client:
        missing = await client.post(hook, json=update)
        wrong = await client.post(hook, json=update, headers={HEADER: "guessed"})
        assert (missing.status_code, wrong.status_code) == (403, 403)
        assert await bot.store.chat(77) is None  # refused before it reached any handler

        accepted = await client.post(hook, json=update, headers={HEADER: SECRET})
        assert accepted.status_code == 200
        await double.wait_for(lambda: double.messages_to(77))
        chat = await bot.store.chat(77)
        assert chat is not None and chat.active
        # Updates are handled in order: once a later one is answered, a refused update that
        # had slipped through would have been answered too.
        later = double.send_command(77, "/help")
        assert (await client.post(hook, json=later, headers={HEADER: SECRET})).status_code == 200
        await double.wait_for(lambda: "/help – this text" in double.texts_to(77)[-1])
        [welcome, _] = double.texts_to(77)  # one /start handled: the accepted one
        assert welcome.startswith("Subscribed")
        assert double.polls_started == 0  # no polling in webhook mode

        health = await client.get(f"http://127.0.0.1:{bot.metrics_port}/healthz")
        assert (health.status_code, health.text) == (200, "ok active\n")


async def test_back_to_polling_removes_the_webhook(
    double: TelegramDouble, start_bot: StartBot
) -> None:
    port = free_port()
    webhook = await start_bot(
        webhook_url=f"http://127.0.0.1:{port}/",
        webhook_secret=SecretStr(SECRET),
        listen=f"127.0.0.1:{port}",
    )
    assert double.webhook is not None
    await webhook.stop()
    await start_bot()
    assert double.webhook is None
    double.send_command(78, "/start")
    await double.wait_for(lambda: double.messages_to(78))


async def webhook_bot(start_bot: StartBot) -> int:
    """A bot in webhook mode; returns the port its webhook listens on."""
    port = free_port()
    await start_bot(
        webhook_url=f"http://127.0.0.1:{port}/telegram",
        webhook_secret=SecretStr(SECRET),
        listen=f"127.0.0.1:{port}",
    )
    return port


def head(length: int, secret: str | None = None, *, path: str = "/telegram") -> bytes:
    """The headers of a POST of `length` bytes of JSON, as Telegram (or anyone) would send."""
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json"]
    lines.append(f"Content-Length: {length}")
    if secret is not None:
        lines.append(f"{HEADER}: {secret}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def answer(port: int, request: bytes, timeout: float = 3.0) -> tuple[bytes, bool]:
    """Send `request` (and nothing more), and read until the server closes the connection.

    Returns what the server sent and whether it closed the connection within `timeout`.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    received = b""
    closed = False
    try:
        async with asyncio.timeout(timeout):
            while chunk := await reader.read(65536):
                received += chunk
            closed = True
    except TimeoutError:
        pass
    except ConnectionResetError:
        closed = True
    writer.close()
    return received, closed


@pytest.mark.parametrize(
    ("secret", "status"),
    [(None, b"403"), ("guessed", b"403"), (SECRET, b"413")],
)
async def test_a_large_body_is_refused_by_its_headers_before_any_of_it_is_read(
    start_bot: StartBot, secret: str | None, status: bytes
) -> None:
    port = await webhook_bot(start_bot)
    started = time.monotonic()
    # 5 MB announced, not one byte of it sent: an answer proves the body was never waited for.
    response, closed = await answer(port, head(5 * 1024 * 1024, secret))
    assert response.startswith(b"HTTP/1.1 " + status)
    assert closed and time.monotonic() - started < 2.0


async def test_a_bad_request_does_not_stop_the_good_ones(
    double: TelegramDouble, start_bot: StartBot
) -> None:
    port = await webhook_bot(start_bot)
    response, _ = await answer(port, head(5 * 1024 * 1024) + b"x" * 100_000)
    assert response.startswith(b"HTTP/1.1 403")
    update = json.dumps(double.send_command(79, "/start")).encode()
    response, _ = await answer(port, head(len(update), SECRET) + update, timeout=0.5)
    assert response.startswith(b"HTTP/1.1 200")
    await double.wait_for(lambda: double.messages_to(79))


@pytest.fixture
async def server() -> AsyncIterator[WebhookServer]:
    """The webhook server alone, with short timeouts, feeding a queue the test reads."""
    bot = Bot(TOKEN)
    updates: asyncio.Queue[object] = asyncio.Queue()
    webhook = WebhookServer(
        bot, updates, path="/hook", secret=SECRET, idle_seconds=0.5, body_seconds=0.5
    )
    webhook.start("127.0.0.1", 0)
    yield webhook
    await webhook.stop()


async def test_idle_and_slow_connections_are_closed(server: WebhookServer) -> None:
    assert server.port is not None
    started = time.monotonic()
    idle, idle_closed = await answer(server.port, b"")  # connected, never a word
    partial, partial_closed = await answer(server.port, b"POST /hook HTTP/1.1\r\nHost: x\r\n")
    slow, slow_closed = await answer(server.port, head(100, SECRET, path="/hook") + b'{"upd')
    assert (idle, partial) == (b"", b"") and idle_closed and partial_closed
    assert slow_closed and not slow.startswith(b"HTTP/1.1 200")
    assert time.monotonic() - started < 6.0


async def test_a_body_streamed_past_the_limit_is_cut_off(server: WebhookServer) -> None:
    assert server.port is not None
    chunked = (
        b"POST /hook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"{HEADER}: {SECRET}\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
    )
    chunk = b"x" * 65536
    body = (f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n") * (MAX_BODY_BYTES // len(chunk) + 2)
    response, closed = await answer(server.port, chunked + body)
    assert closed and not response.startswith(b"HTTP/1.1 200")


async def test_only_json_posts_to_the_path_are_updates(server: WebhookServer) -> None:
    assert server.port is not None
    update = b'{"update_id": 1}'
    wrong_type = head(len(update), SECRET, path="/hook").replace(b"application/json", b"text/plain")
    elsewhere = head(len(update), SECRET, path="/other")
    get = f"GET /hook HTTP/1.1\r\nHost: x\r\n{HEADER}: {SECRET}\r\n\r\n".encode()
    refused = [
        (wrong_type + update, b"415"),
        (elsewhere + update, b"404"),
        (get, b"405"),
        (head(5, SECRET, path="/hook") + b"nope!", b"400"),
    ]
    for request, status in refused:
        response, _ = await answer(server.port, request, timeout=0.5)
        assert response.startswith(b"HTTP/1.1 " + status), (request, response)
    response, _ = await answer(server.port, head(len(update), SECRET, path="/hook") + update, 0.5)
    assert response.startswith(b"HTTP/1.1 200")
    assert server.running
