"""Shared fixtures: post files on disk, the database on either engine, and the environment
python-telegram-bot expects.

The database is an SQLite file unless a test module (or folder) asks for both engines by
importing `tests.postgres.each_engine`: its tests then run once on SQLite and once on PostgreSQL
(a server of the run's own, see `tests/postgres.py`), which is how the store's behaviour is
proven the same on both.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from bot.app import Newsbot
from bot.delivery import RetryPolicy
from bot.settings import Settings
from bot.store import Location, Store
from tests import postgres
from tests.double import TelegramDouble
from tests.helpers import TOKEN, WritePost, post_text

StartBot = Callable[..., Awaitable[Newsbot]]
FAST_RETRY = RetryPolicy(attempts=4, base=0.05, cap=0.2)

# RetryAfter warns about its future type unless this is set; warnings are errors in this suite.
os.environ["PTB_TIMEDELTA"] = "1"


@pytest.fixture
def content(tmp_path: Path) -> Path:
    folder = tmp_path / "content"
    folder.mkdir()
    return folder


@pytest.fixture
def write_post(content: Path) -> WritePost:
    """Write a post file into the content folder: `write_post("2026-01-01-x.md", body, **meta)`."""

    def write(name: str, body: str = "A first paragraph of the story.", **meta: object) -> Path:
        meta.setdefault("title", "A headline")
        meta.setdefault("date", "2026-11-20T08:00:00Z")
        path = content / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(post_text(body, **meta), encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of the run's PostgreSQL server, started the first time a test needs it."""
    with postgres.server() as url:
        yield url


@pytest.fixture
def engine(request: pytest.FixtureRequest) -> str:
    """The database engine of this test: "sqlite" unless the test is parametrised by ENGINES."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
async def database_location(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Location:
    """Where this test's fresh database is: a file, or an empty schema on the run's server."""
    if engine == "postgresql":
        return await postgres.fresh_schema(request.getfixturevalue("postgres_server"))
    return tmp_path / "data" / "newsbot.sqlite3"


@pytest.fixture
async def store(database_location: Location) -> AsyncIterator[Store]:
    """A fresh database; closed after the test even when an assertion failed."""
    opened = await Store.open(database_location)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def double() -> AsyncIterator[TelegramDouble]:
    """A Bot API test double on loopback."""
    async with TelegramDouble() as server:
        yield server


@pytest.fixture
def bot_settings(
    tmp_path: Path, content: Path, double: TelegramDouble, database_location: Location
) -> Settings:
    """Settings for a bot that talks to the double, fast enough for tests."""
    return Settings(
        _env_file=None,
        telegram_bot_token=TOKEN,
        telegram_api_url=double.base_url,
        content_dir=content,
        database=database_location,
        scan_seconds=0.2,
        rate=200,
        request_timeout=2.0,
        listen="127.0.0.1:0",
        metrics_port=0,  # loopback, on a free port: test runs never compete for one
        private_image_networks="127.0.0.0/8",  # the double serves images on loopback
    )


@pytest.fixture
async def start_bot(bot_settings: Settings) -> AsyncIterator[StartBot]:
    """Start a real Newsbot (any settings overridden); every one started is stopped after."""
    running: list[Newsbot] = []

    async def start(**overrides: object) -> Newsbot:
        settings = bot_settings.model_copy(update=overrides)
        bot = Newsbot(settings, retry=FAST_RETRY)
        running.append(bot)
        await bot.start()
        return bot

    yield start
    for bot in running:
        await bot.stop()
