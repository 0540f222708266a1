"""Hostile content and a failing content folder never stop publishing.

Every file of the corpus (`tests/hostile`) is that file's rejection, with its reason, or loads
cheaply into a card that fits; with all of them in the folder, at start or while running, the
next good post reaches every subscribed chat once. A scanner that fails says why in `/healthz`,
logs one line per attempt, tries again and recovers by itself once the cause is gone.
"""

from __future__ import annotations

import logging
import shutil
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from bot.app import Newsbot
from bot.cli import main
from bot.posts import PostLibrary
from bot.render import CAPTION_LIMIT, TEXT_LIMIT, render
from bot.store import Status
from tests.conftest import StartBot
from tests.double import TelegramDouble, html_to_text, utf16_len
from tests.helpers import WritePost, eventually
from tests.hostile import CORPUS, HERE, WHEN, Hostile, write_corpus

RECENT = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
ZONES = ("America/New_York", "Asia/Bangkok")
#: CPU seconds a scan of one hostile file and one good post may take (before: up to minutes).
SCAN_SECONDS = 2.0


def card_fits(post_file: Path, library: PostLibrary) -> None:
    """The post read from `post_file` renders, in any zone, into calls Telegram accepts."""
    from zoneinfo import ZoneInfo

    post = next(p for p in library.posts if p.path == post_file)
    for zone in ZONES:
        for with_image in (True, False):
            message = render(post, zone=ZoneInfo(zone), with_image=with_image)
            markup = message.params["caption" if message.has_photo else "text"]
            limit = CAPTION_LIMIT if message.has_photo else TEXT_LIMIT
            shown, entities = html_to_text(markup)  # raises where Telegram would refuse
            assert utf16_len(shown) <= limit and len(entities) <= 100


# --- one file at a time -------------------------------------------------------------------------


@pytest.mark.parametrize("hostile", CORPUS, ids=lambda hostile: hostile.name)
def test_a_hostile_file_is_its_own_rejection_or_a_card_that_fits(
    hostile: Hostile, content: Path, tmp_path: Path, write_post: WritePost
) -> None:
    write_post("good.md", title="Good story", date=WHEN)
    path = hostile.write(content, tmp_path / "outside")
    library = PostLibrary(content)
    started = time.process_time()
    library.scan()
    assert time.process_time() - started < SCAN_SECONDS, hostile.what
    assert library.get("good") is not None
    reasons = {str(rejection.path): rejection.reason for rejection in library.rejected}
    if hostile.reason is None:
        assert reasons == {}
        card_fits(path, library)
    else:
        assert list(reasons) == [hostile.name], hostile.what
        reason = reasons[hostile.name]
        assert hostile.reason in reason
        assert "\n" not in reason and len(reason) <= 200


@pytest.mark.parametrize(
    "hostile", [h for h in CORPUS if h.reason is None], ids=lambda hostile: hostile.name
)
def test_a_large_file_costs_a_few_megabytes_to_read(
    hostile: Hostile, content: Path, tmp_path: Path
) -> None:
    hostile.write(content, tmp_path / "outside")
    library = PostLibrary(content)
    tracemalloc.start()
    try:
        library.scan()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(library.posts) == 1
    assert peak < 32 * 2**20, f"{hostile.what}: {peak / 2**20:.0f} MB"  # before: up to 350 MB


@pytest.mark.parametrize(("name", "zone"), [("year-1.md", ZONES[0]), ("year-9999.md", ZONES[1])])
def test_a_post_dated_at_the_ends_of_the_calendar_does_not_break_preview(
    name: str,
    zone: str,
    content: Path,
    write_post: WritePost,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_post("good.md", title="Good story", date=WHEN)
    shutil.copyfile(HERE / name, content / name)
    monkeypatch.setenv("NEWSBOT_TIMEZONE", zone)
    assert main(["preview", str(content)]) == 0
    out = capsys.readouterr().out
    assert "Good story" in out and "Dated in year" not in out


# --- the running bot ----------------------------------------------------------------------------


async def subscribe(double: TelegramDouble, *chats: int) -> None:
    """Send /start from each chat and wait for the bot's confirmation."""
    for chat in chats:
        double.send_command(chat, "/start")
    for chat in chats:
        await double.wait_for(lambda c=chat: any("ubscribed" in t for t in double.texts_to(c)))


def headlines(double: TelegramDouble, chat: int, title: str) -> int:
    """How many messages with this headline the chat has received."""
    return sum(title in text for text in double.texts_to(chat))


async def health(bot: Newsbot) -> tuple[int, str]:
    async with httpx.AsyncClient(timeout=5) as client:
        answer = await client.get(f"http://127.0.0.1:{bot.metrics_port}/healthz")
    return answer.status_code, answer.text


async def reaches_every_chat_once(
    bot: Newsbot, double: TelegramDouble, title: str, chats: tuple[int, ...]
) -> None:
    """Wait until every chat has the post, then check that none has it twice."""
    for chat in chats:
        await double.wait_for(lambda c=chat: headlines(double, c, title) >= 1, timeout=10)
    sent = await eventually(
        lambda: _sent_count(bot, len(chats)), description="deliveries recorded as sent"
    )
    assert sent == len(chats)
    assert all(headlines(double, chat, title) == 1 for chat in chats)


async def _sent_count(bot: Newsbot, expected: int) -> int | None:
    sent = (await bot.store.delivery_counts()).get(Status.SENT, 0)
    return sent if sent >= expected else None


def rejections_logged(caplog: pytest.LogCaptureFixture) -> dict[str, str]:
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("post rejected")]
    assert all("\n" not in line for line in lines)
    return {line.split("file=")[1].split(" ")[0]: line for line in lines}


async def test_with_the_corpus_in_the_folder_at_start_the_next_post_reaches_every_chat_once(
    double: TelegramDouble,
    start_bot: StartBot,
    write_post: WritePost,
    content: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    corpus = write_corpus(content, tmp_path / "outside")
    bot = await start_bot(subscribe_backlog=0)
    await subscribe(double, 1, 2, 3)
    write_post("next.md", title="Next good story", date=RECENT)
    await reaches_every_chat_once(bot, double, "Next good story", (1, 2, 3))
    assert await health(bot) == (200, "ok active\n")
    logged = rejections_logged(caplog)
    for name, hostile in corpus.items():
        assert (name in logged) == (hostile.reason is not None), name


async def test_with_the_corpus_written_while_running_the_next_post_reaches_every_chat_once(
    double: TelegramDouble,
    start_bot: StartBot,
    write_post: WritePost,
    content: Path,
    tmp_path: Path,
) -> None:
    write_post("archive.md", title="Archive story", date=RECENT)
    bot = await start_bot(subscribe_backlog=0)
    await subscribe(double, 1, 2)
    corpus = write_corpus(content, tmp_path / "outside")
    write_post("next.md", title="Next good story", date=RECENT)
    await reaches_every_chat_once(bot, double, "Next good story", (1, 2))
    rejected = {str(rejection.path) for rejection in bot.library.rejected}
    assert rejected == {name for name, hostile in corpus.items() if hostile.reason is not None}
    assert await health(bot) == (200, "ok active\n")


async def test_a_card_with_a_very_long_host_is_sent_as_a_photo_that_fits(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    image = double.serve_file("lead.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 2048, "image/jpeg")
    bot = await start_bot(subscribe_backlog=0)
    await subscribe(double, 1, 2)
    host = ".".join(["very-long-label-" + "x" * 40] * 90) + ".example"
    write_post(
        "long.md",
        title="Story from a long host",
        origin_url=f"https://{host}/story",
        image=image,
        categories=["Category " * 20, "Другая " * 20],
        date=RECENT,
    )
    await reaches_every_chat_once(bot, double, "Story from a long host", (1, 2))
    for chat in (1, 2):
        [message] = double.messages_to(chat)[-1:]
        assert "photo" in message and utf16_len(message["caption"]) <= CAPTION_LIMIT


# --- a scanner that fails -----------------------------------------------------------------------


async def scanner_failing(bot: Newsbot) -> str | None:
    status, text = await health(bot)
    return text if status == 503 and "scanner failing" in text else None


def scan_failures(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage().startswith("scan failed")]


async def test_a_scanner_that_fails_says_why_retries_and_recovers_by_itself(
    double: TelegramDouble,
    start_bot: StartBot,
    write_post: WritePost,
    content: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    write_post("archive.md", title="Archive story", date=RECENT)
    bot = await start_bot(subscribe_backlog=0)
    await subscribe(double, 1, 2)
    away = content.with_name("content-away")
    content.rename(away)  # the mount goes away under the running bot
    problem = await eventually(lambda: scanner_failing(bot), 10, description="unhealthy")
    assert "No such file or directory" in problem and str(content) in problem
    assert bot.library.get("archive") is not None  # what was loaded stays loaded
    await eventually(lambda: len(scan_failures(caplog)) >= 2, 10, description="retried")
    assert all(r.exc_info is None and "\n" not in r.getMessage() for r in scan_failures(caplog))

    away.rename(content)
    write_post("next.md", title="Next good story", date=RECENT)
    await reaches_every_chat_once(bot, double, "Next good story", (1, 2))
    await eventually(lambda: _healthy(bot), 10, description="healthy again")


async def _healthy(bot: Newsbot) -> bool:
    return await health(bot) == (200, "ok active\n")


async def test_a_first_scan_that_fails_does_not_stop_the_start(
    double: TelegramDouble,
    start_bot: StartBot,
    write_post: WritePost,
    content: Path,
) -> None:
    away = content.with_name("content-away")
    write_post("archive.md", title="Archive story", date=RECENT)
    content.rename(away)  # not mounted yet when the bot starts
    bot = await start_bot(subscribe_backlog=0)
    await eventually(lambda: scanner_failing(bot), 10, description="unhealthy")
    await subscribe(double, 1, 2)  # the bot answers meanwhile

    away.rename(content)
    await eventually(lambda: bot.library.get("archive"), 10, description="folder read")
    write_post("next.md", title="Next good story", date=RECENT)
    await reaches_every_chat_once(bot, double, "Next good story", (1, 2))
    assert all(headlines(double, chat, "Archive story") == 0 for chat in (1, 2))
    await eventually(lambda: _healthy(bot), 10, description="healthy again")
