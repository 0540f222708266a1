"""Log lines: one per event (logfmt or JSON), free of secrets and of message text."""

from __future__ import annotations

import json
import logging
import sys
import threading
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot import logs
from tests.conftest import StartBot
from tests.double import TelegramDouble
from tests.helpers import TOKEN, WritePost


def record(message: str, *args: object, exc: bool = False) -> logging.LogRecord:
    info = None
    if exc:
        try:
            raise ValueError("bad\nthing")
        except ValueError:
            info = sys.exc_info()
    return logging.LogRecord("bot.app", logging.INFO, __file__, 1, message, args, info)


@pytest.fixture
def root_logging() -> Iterator[None]:
    """Let a test call `logs.configure`, then put pytest's own logging (and hooks) back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    hooks = sys.excepthook, threading.excepthook
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    sys.excepthook, threading.excepthook = hooks
    logging.captureWarnings(False)


@pytest.mark.parametrize(
    ("message", "event", "pairs"),
    [
        ("newsbot started bot=@x posts=3", "newsbot started", [("bot", "@x"), ("posts", "3")]),
        ("first start: archived 3 posts", "first start: archived 3 posts", []),
        (
            "delivery failed delivery=5 chat=-100 error=Forbidden: bot was blocked by the user",
            "delivery failed",
            [
                ("delivery", "5"),
                ("chat", "-100"),
                ("error", "Forbidden: bot was blocked by the user"),
            ],
        ),
        (
            "fetched url=https://x.example/?a=b ok",
            "fetched",
            [("url", "https://x.example/?a=b ok")],
        ),
    ],
)
def test_an_event_is_split_into_its_words_and_fields(
    message: str, event: str, pairs: list[tuple[str, str]]
) -> None:
    assert logs.fields(message) == (event, pairs)


def test_text_is_logfmt_on_one_line() -> None:
    line = logs.TextFormatter().format(record("chat deactivated chat=%s reason=%s", 5, 'said "no"'))
    assert line.startswith("time=") and line.index("time=") < line.index("level=INFO")
    assert ' logger=bot.app msg="chat deactivated" chat=5 reason="said \\"no\\""' in line
    failed = logs.TextFormatter().format(record("send failed", exc=True))
    assert "\n" not in failed and 'exc="Traceback' in failed and "ValueError: bad\\nthing" in failed


def test_json_has_the_same_keys_one_object_per_line() -> None:
    line = logs.JsonFormatter().format(record("new post queued post=%s level=%s", "a-b", "x"))
    data = json.loads(line)
    assert data["msg"] == "new post queued" and data["post"] == "a-b"
    assert data["level"] == "INFO" and data["level_"] == "x"  # a field never hides a fixed key
    assert datetime.fromisoformat(data["time"]).tzinfo is not None
    failed = logs.JsonFormatter().format(record("send failed", exc=True))
    assert "\n" not in failed and "ValueError: bad\nthing" in json.loads(failed)["exc"]


@pytest.mark.usefixtures("root_logging")
def test_configure_picks_the_format_and_removes_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure("INFO", TOKEN, fmt="json", secrets=("webhook-secret-123",))
    log = logging.getLogger("bot.test")
    log.info("calling url=https://api.example/bot%s/getMe", TOKEN)
    log.info("webhook secret=%s", "webhook-secret-123")
    log.debug("not at INFO")
    lines = capsys.readouterr().err.splitlines()
    assert [json.loads(line)["msg"] for line in lines] == ["calling", "webhook"]
    assert TOKEN.partition(":")[2] not in "".join(lines) and "webhook-secret-123" not in lines[1]
    assert json.loads(lines[0])["url"] == "https://api.example/bot<token>/getMe"
    logs.configure("INFO", TOKEN)
    log.info("newsbot stopped")
    assert 'msg="newsbot stopped"' in capsys.readouterr().err


async def test_no_message_text_is_logged_at_info(
    double: TelegramDouble,
    start_bot: StartBot,
    write_post: WritePost,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    bot = await start_bot()
    await bot.store.subscribe(1, "private", None)
    double.forbidden_chats.add(2)
    await bot.store.subscribe(2, "private", None)
    when = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    write_post("a.md", "Confidential paragraph of the story.", title="Secret headline", date=when)
    await double.wait_for(lambda: double.messages_to(1))
    await double.wait_for(lambda: bot.sender.pending_outcomes == 0)
    await bot.stop()
    text = "\n".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
    assert "new post queued post=a" in text and "chat deactivated chat=2" in text
    assert "Confidential" not in text and "Secret headline" not in text


SHORT_SECRET = "x7Q"  # Telegram accepts a webhook secret of a single character


def failure_with_secrets() -> BaseException:
    """An error whose message, and the cause chained to it, carry secrets, as aiohttp's do."""
    try:
        try:
            raise ConnectionError(f"webhook refused secret={SHORT_SECRET}")
        except ConnectionError as cause:
            url = f"https://api.example/bot{TOKEN.replace(':', '%3A')}/getMe"
            raise RuntimeError(f"cannot reach {url}") from cause
    except RuntimeError as error:
        return error


@pytest.mark.usefixtures("root_logging")
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_no_secret_of_any_length_survives_in_messages_tracebacks_or_stacks(
    capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    logs.configure("INFO", TOKEN, fmt=fmt, secrets=(SHORT_SECRET,))
    log = logging.getLogger("bot.test")
    error = failure_with_secrets()
    log.error("send failed error=%s", error, exc_info=error)
    log.warning("webhook secret=%s", SHORT_SECRET, stack_info=True)
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 2
    assert TOKEN.partition(":")[2] not in err and SHORT_SECRET not in err
    assert "ConnectionError: webhook refused secret=<token>" in err  # the cause, redacted
    assert "bot<token>/getMe" in err


@pytest.mark.usefixtures("root_logging")
def test_what_nobody_caught_is_a_redacted_log_line(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure("INFO", TOKEN, secrets=(SHORT_SECRET,))
    error = failure_with_secrets()
    sys.excepthook(type(error), error, error.__traceback__)

    def fail() -> None:
        raise failure_with_secrets()

    thread = threading.Thread(target=fail)
    thread.start()
    thread.join()
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn(f"token {TOKEN} in a warning", UserWarning, stacklevel=1)
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert len(lines) == 3 and all(line.startswith("time=") for line in lines)
    assert 'msg="uncaught error" error="RuntimeError: cannot reach' in lines[0]
    assert "uncaught error" in lines[1] and "py.warnings" in lines[2]
    assert TOKEN.partition(":")[2] not in err and SHORT_SECRET not in err
