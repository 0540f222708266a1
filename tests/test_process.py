"""The bot as a process: signals, a hard kill mid-broadcast, and a token that never leaks."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.double import TelegramDouble
from tests.helpers import TOKEN, WritePost, open_store

CHATS = list(range(5000, 5060))


async def launch(tmp_path: Path, double: TelegramDouble, **env: str) -> asyncio.subprocess.Process:
    """`python -m bot run` against the double, logging at DEBUG to a file we can read."""
    variables = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": double.base_url,
        "NEWSBOT_CONTENT_DIR": str(tmp_path / "content"),
        "NEWSBOT_DATABASE": str(tmp_path / "data" / "newsbot.sqlite3"),
        "NEWSBOT_SCAN_SECONDS": "0.2",
        "NEWSBOT_LOG_LEVEL": "DEBUG",
        "NEWSBOT_LISTEN": "127.0.0.1:0",
        "NEWSBOT_METRICS_PORT": "0",
        **env,
    }
    log = (tmp_path / "bot.log").open("ab")
    try:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", cwd=tmp_path, env=variables, stderr=log
        )
    finally:
        log.close()


async def prepare(tmp_path: Path) -> None:
    """A database with subscribed chats and the archive already taken."""
    async with open_store(tmp_path / "data" / "newsbot.sqlite3") as store:
        for chat in CHATS:
            await store.subscribe(chat, "private", None)
        await store.set_setting("archive_taken", "yes")


def received(double: TelegramDouble) -> list[int]:
    return [sum("Breaking story" in t for t in double.texts_to(chat)) for chat in CHATS]


async def test_sigterm_stops_cleanly_and_the_token_never_reaches_the_log(
    tmp_path: Path, double: TelegramDouble, content: Path
) -> None:
    process = await launch(tmp_path, double)
    log_file = tmp_path / "bot.log"
    await double.wait_for(lambda: "newsbot started" in log_file.read_text(), timeout=10)
    process.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(process.wait(), 10) == 0
    log = log_file.read_text()
    assert "newsbot started" in log and "newsbot stopped" in log
    assert TOKEN not in log and TOKEN.partition(":")[2] not in log


async def test_missing_token_is_a_one_line_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
    )
    _, err = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode != 0
    [line] = err.decode().strip().splitlines()
    assert "TELEGRAM_BOT_TOKEN" in line and "BotFather" in line


async def test_hard_kill_mid_broadcast_repeats_at_most_what_was_in_flight(
    tmp_path: Path, double: TelegramDouble, content: Path, write_post: WritePost
) -> None:
    await prepare(tmp_path)
    first = await launch(tmp_path, double, NEWSBOT_RATE="20")
    when = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    write_post("breaking.md", title="Breaking story", date=when)
    await double.wait_for(lambda: sum(received(double)) >= 10, timeout=15)
    first.kill()
    await asyncio.wait_for(first.wait(), 10)
    sent_before = sum(received(double))
    assert sent_before < len(CHATS)

    second = await launch(tmp_path, double, NEWSBOT_RATE="200")
    await double.wait_for(lambda: all(received(double)), timeout=15)
    second.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(second.wait(), 10) == 0
    counts = received(double)
    # In flight, or accepted but not yet recorded: twice the sender's concurrency (README).
    in_flight_bound = 2 * 8
    assert min(counts) == 1
    assert sum(counts) - len(CHATS) <= in_flight_bound
    assert TOKEN not in (tmp_path / "bot.log").read_text()
