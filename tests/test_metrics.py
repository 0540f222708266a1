"""Metrics and health: what Prometheus and the Docker health check see of a running bot."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.delivery import outcomes
from bot.metrics import FAILURE_REASONS, Metrics, MetricsServer
from tests.conftest import StartBot
from tests.double import TelegramDouble
from tests.helpers import WritePost, eventually

ROOT = Path(__file__).resolve().parents[1]
RECENT = (datetime.now(UTC) - timedelta(hours=1)).isoformat()


def samples(text: str) -> dict[str, float]:
    """`name{label="value"}` → value, for every sample of a scrape."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            found[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return found


def health_command() -> list[str]:
    """The Dockerfile's HEALTHCHECK command, to run it for real against the bot."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    [line] = [line for line in text.splitlines() if line.startswith("HEALTHCHECK")]
    command = json.loads(line.partition(" CMD ")[2])
    assert command[0] == "python"
    return [sys.executable, *command[1:]]


async def run_health_check(port: int) -> int:
    process = await asyncio.create_subprocess_exec(
        *health_command(),
        env={**os.environ, "NEWSBOT_METRICS_PORT": str(port)},
        stderr=asyncio.subprocess.DEVNULL,
    )
    return await asyncio.wait_for(process.wait(), 10)


async def test_a_broadcast_moves_the_counters(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await start_bot()
    for chat in (1, 2, 3):
        await bot.store.subscribe(chat, "private", None)
    double.forbidden_chats.add(2)
    double.fail_next("sendMessage", status=429, retry_after=1, chat_id=3)
    write_post("a.md", title="Counted story", date=RECENT)
    await double.wait_for(lambda: len(double.messages_to(1)) == len(double.messages_to(3)) == 1)
    # Both answers have reached the bot (a message is in the double's record a moment before)
    # and their outcomes are written.
    await double.wait_for(lambda: bot.sender.sent == 2 and bot.sender.pending_outcomes == 0)

    url = f"http://127.0.0.1:{bot.metrics_port}"
    async with httpx.AsyncClient(timeout=5) as client:
        scrape = await client.get(f"{url}/metrics")
        health = await client.get(f"{url}/healthz")
    assert scrape.status_code == 200 and scrape.headers["content-type"].startswith("text/plain")
    found = samples(scrape.text)
    assert found["newsbot_messages_sent_total"] == 2
    assert found['newsbot_messages_failed_total{reason="chat_gone"}'] == 1
    assert found['newsbot_messages_failed_total{reason="rejected"}'] == 0
    assert found["newsbot_flood_control_total"] == 1
    assert found["newsbot_active_chats"] == 2  # the one that blocked the bot is inactive
    assert found["newsbot_queue_depth"] == 0
    assert found['newsbot_role{role="active"}'] == 1  # a lone instance is the active one
    assert found['newsbot_role{role="standby"}'] == 0
    assert found["newsbot_lease_epoch"] == 1
    assert found["newsbot_delivery_latency_seconds_count"] == 2
    assert 0 < found["newsbot_delivery_latency_seconds_sum"] < 30
    assert (health.status_code, health.text) == (200, "ok active\n")


async def test_the_docker_health_check_follows_the_bot(start_bot: StartBot) -> None:
    bot = await start_bot()
    port = bot.metrics_port
    assert await run_health_check(port) == 0
    await bot.stop()
    assert await run_health_check(port) != 0


async def test_queue_depth_counts_what_waits(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await start_bot()
    await bot.store.subscribe(1, "private", None)
    double.delay_next("sendMessage", 0.8)  # Telegram is slow: the delivery stays pending
    write_post("a.md", title="Waiting story", date=RECENT)
    scrape = f"http://127.0.0.1:{bot.metrics_port}/metrics"
    async with httpx.AsyncClient(timeout=5) as client:

        async def queued() -> dict[str, float] | None:
            found = samples((await client.get(scrape)).text)
            return found if found["newsbot_queue_depth"] == 1 else None

        found = await eventually(queued, description="one delivery waiting in the queue")
        assert found["newsbot_active_chats"] == 1
        await bot.store.subscribe(2, "private", None)  # after the post was queued: gets nothing
        assert samples((await client.get(scrape)).text)["newsbot_active_chats"] == 2
        await double.wait_for(lambda: bot.sender.sent >= 1 and bot.sender.pending_outcomes == 0)
        assert samples((await client.get(scrape)).text)["newsbot_queue_depth"] == 0


# --- the pieces on their own --------------------------------------------------------------------


def test_every_failure_reason_is_reported_from_the_start() -> None:
    found = samples(Metrics().render().decode())
    for reason in FAILURE_REASONS:
        assert found[f'newsbot_messages_failed_total{{reason="{reason}"}}'] == 0
    assert found["newsbot_messages_sent_total"] == 0


def test_latency_is_measured_from_when_the_delivery_was_queued() -> None:
    metrics = Metrics()
    metrics.delivered(queued_at=1000.0, now=1012.5)
    metrics.delivered(queued_at=None)  # unknown: counted, not timed
    found = samples(metrics.render().decode())
    assert found["newsbot_messages_sent_total"] == 2
    assert found["newsbot_delivery_latency_seconds_count"] == 1
    assert found["newsbot_delivery_latency_seconds_sum"] == 12.5
    assert found['newsbot_delivery_latency_seconds_bucket{le="10.0"}'] == 0
    assert found['newsbot_delivery_latency_seconds_bucket{le="30.0"}'] == 1


async def test_an_unhealthy_bot_answers_503_and_a_failed_refresh_still_serves_counters() -> None:
    async def broken_refresh(_: Metrics) -> None:
        raise RuntimeError("database is locked")

    async def sick() -> str | None:
        return "newsbot-sender has stopped"

    metrics = Metrics()
    metrics.sent.inc()
    server = MetricsServer(metrics, refresh=broken_refresh, health=sick)
    server.start("127.0.0.1", 0)
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            health = await client.get(f"http://127.0.0.1:{server.port}/healthz")
            scrape = await client.get(f"http://127.0.0.1:{server.port}/metrics")
            missing = await client.get(f"http://127.0.0.1:{server.port}/")
    finally:
        await server.stop()
    assert (health.status_code, health.text) == (503, "unhealthy: newsbot-sender has stopped\n")
    assert samples(scrape.text)["newsbot_messages_sent_total"] == 1
    assert missing.status_code == 404


async def test_a_port_in_use_fails_the_start_and_says_which() -> None:
    async def fine(_: Metrics | None = None) -> None:
        return None

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = MetricsServer(Metrics(), refresh=fine, health=fine)
        with pytest.raises(OSError, match=f"cannot serve metrics on 127.0.0.1:{port}"):
            server.start("127.0.0.1", port)


async def test_health_fails_while_outcomes_cannot_be_written_and_recovers(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost, monkeypatch: Any
) -> None:
    monkeypatch.setattr(outcomes, "UNWRITTEN_ALARM_SECONDS", 0.2)
    bot = await start_bot()
    await bot.store.subscribe(1, "private", None)
    url = f"http://127.0.0.1:{bot.metrics_port}/healthz"
    double.delay_next("sendMessage", 0.5)
    write_post("a.md", title="Unrecorded story", date=RECENT)
    await double.wait_for(lambda: len(double.calls("sendMessage")) == 1)
    # While Telegram answers, the database turns read-only under the bot, as a full disk or a
    # failing mount would make it.
    await bot.store._db.execute("PRAGMA query_only = ON")
    async with httpx.AsyncClient(timeout=5) as client:

        async def unhealthy() -> tuple[int, str] | None:
            health = await client.get(url)
            return (health.status_code, health.text) if health.status_code != 200 else None

        status, text = await eventually(unhealthy, description="the health check failing")
        assert status == 503 and "outcomes unwritten" in text

        await bot.store._db.execute("PRAGMA query_only = OFF")
        await double.wait_for(lambda: bot.sender.pending_outcomes == 0, timeout=5)
        assert (await client.get(url)).status_code == 200
    assert await bot.store.delivery_counts() == {"sent": 1}
    assert len(double.messages_to(1)) == 1  # kept, not sent again
