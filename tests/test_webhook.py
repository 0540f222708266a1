"""Webhook mode: the real bot serves a webhook on loopback and Telegram's updates are posted to it.

The double stands in for Telegram on both sides: it records the `setWebhook` call, and the test
posts an update to the bot the way Telegram would, with and without the secret header.
"""

from __future__ import annotations

import socket

import httpx
from pydantic import SecretStr

from tests.conftest import StartBot
from tests.double import TelegramDouble

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
        assert (health.status_code, health.text) == (200, "ok\n")


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
