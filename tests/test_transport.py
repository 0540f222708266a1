"""The aiohttp transport under python-telegram-bot, against the Bot API double on loopback.

PTB's own request layer does the encoding and the mapping of Telegram's answers; these tests
check the part that is newsbot's: bytes reach the server in the shapes Telegram accepts (form
fields, multipart uploads, file downloads), timeouts become `TimedOut`, connection failures
become `NetworkError`, and the session can be shut down and opened again.
"""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.transport import AiohttpRequest
from tests.double import TelegramDouble, UploadedFile
from tests.helpers import TOKEN, eventually

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@pytest.fixture
async def bot(double: TelegramDouble) -> AsyncIterator[Bot]:
    bot = Bot(
        TOKEN,
        base_url=double.base_url,
        base_file_url=double.file_base_url,
        request=AiohttpRequest(4, read_timeout=0.5),
    )
    async with bot:
        yield bot


async def test_message_with_markup_arrives_as_telegram_reads_it(
    bot: Bot, double: TelegramDouble
) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Read", url="https://example.org/a")]])
    message = await bot.send_message(
        42, "<b>Bold</b> &amp; ผู้คน 🎉", parse_mode="HTML", reply_markup=keyboard
    )

    assert message.text == "Bold & ผู้คน 🎉"
    (sent,) = double.calls("sendMessage")
    assert sent.params["reply_markup"]["inline_keyboard"][0][0]["url"] == "https://example.org/a"


async def test_photo_upload_is_multipart_and_downloads_back(
    bot: Bot, double: TelegramDouble
) -> None:
    message = await bot.send_photo(42, PNG, caption="<i>caption</i>", parse_mode="HTML")

    (sent,) = double.calls("sendPhoto")
    photo = sent.params["photo"]
    assert isinstance(photo, UploadedFile)
    assert photo.data == PNG
    assert sent.params["caption"] == "<i>caption</i>"
    file = await bot.get_file(message.photo[-1].file_id)
    assert await file.download_as_bytearray() == PNG


async def test_telegram_errors_are_ptbs_own(bot: Bot, double: TelegramDouble) -> None:
    double.fail_next("sendMessage", status=429, retry_after=3)
    with pytest.raises(RetryAfter):
        await bot.send_message(1, "x")
    double.fail_next(
        "sendMessage", status=403, description="Forbidden: bot was blocked by the user"
    )
    with pytest.raises(Forbidden):
        await bot.send_message(1, "x")
    with pytest.raises(BadRequest):
        await bot.send_message(1, "<b>unclosed", parse_mode="HTML")


async def test_slow_answer_is_timed_out_and_per_call_timeout_wins(
    bot: Bot, double: TelegramDouble
) -> None:
    double.delay_next("sendMessage", 1.5)
    with pytest.raises(TimedOut):
        await bot.send_message(1, "late")

    double.delay_next("sendMessage", 0.7)
    message = await bot.send_message(1, "patient", read_timeout=3.0)
    assert message.text == "patient"


async def test_refused_connection_is_a_network_error() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago and is closed now
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    bot = Bot(TOKEN, base_url=f"http://127.0.0.1:{port}/bot", request=AiohttpRequest(1))
    request = bot.request
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as caught:
            await bot.get_me()
        assert not isinstance(caught.value, TimedOut)
        assert TOKEN not in str(caught.value)
    finally:
        await request.shutdown()


async def test_the_environments_proxy_carries_the_requests(
    double: TelegramDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The double stands in for the proxy: the Bot API's own host does not exist, so only a
    request that went through the proxy is answered. The proxy is read once, not per request."""
    for name in ("http_proxy", "NO_PROXY", "no_proxy"):  # a lower-case name would win
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", double.url)
    async with Bot(
        TOKEN, base_url="http://api.telegram.invalid/bot", request=AiohttpRequest(2)
    ) as bot:
        await bot.send_message(42, "through the proxy")
        monkeypatch.delenv("HTTP_PROXY")  # read once: the next request still goes through it
        await bot.send_message(42, "through it still")
    assert [call.params["text"] for call in double.calls("sendMessage")] == [
        "through the proxy",
        "through it still",
    ]


async def test_session_reopens_after_shutdown(double: TelegramDouble) -> None:
    request = AiohttpRequest(2)
    bot = Bot(TOKEN, base_url=double.base_url, request=request)
    with pytest.raises(NetworkError, match="not initialized"):
        await request.post(f"{double.base_url}{TOKEN}/getMe")
    for _ in range(2):
        async with bot:
            assert (await bot.get_me()).is_bot
    await request.shutdown()  # a second shutdown is harmless


async def test_a_redirect_is_not_followed_as_a_get_without_parameters() -> None:
    from aiohttp import web

    seen: list[str] = []

    async def moved(request: web.Request) -> web.Response:
        seen.append(request.method)
        raise web.HTTPFound("/elsewhere")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", moved)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    bot = Bot(TOKEN, base_url=f"http://127.0.0.1:{port}/bot", request=AiohttpRequest(1))
    try:
        with pytest.raises(NetworkError):  # PTB reports the redirect; initialize calls getMe
            await bot.initialize()
    finally:
        await bot.shutdown()
        await runner.cleanup()
    assert seen == ["POST"]


async def test_a_request_that_timed_out_hands_its_late_answer_over(
    bot: Bot, double: TelegramDouble
) -> None:
    late: list[bytes] = []
    request = bot.request
    assert isinstance(request, AiohttpRequest)
    request.late_answer = late.append
    double.delay_next("sendMessage", 1.0)  # carried out, answered after the caller gave up
    with pytest.raises(TimedOut):
        await bot.send_message(42, "slow")
    assert late == []  # the caller was told on time
    await eventually(lambda: late)
    [message] = double.messages_to(42)
    assert json.loads(late[0])["result"]["message_id"] == message["message_id"]
    await bot.send_message(42, "next")  # and the transport carries on as before
