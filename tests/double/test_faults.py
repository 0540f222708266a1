"""Injected faults reach python-telegram-bot as the exceptions Telegram's would raise."""

from __future__ import annotations

import datetime as dtm

import pytest
from telegram import Bot
from telegram.error import BadRequest, EndPointNotFound, NetworkError, RetryAfter, TimedOut

from tests.double import TelegramDouble

USER = 4242


async def test_flood_control_raises_retry_after(
    bot: Bot, double: TelegramDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    double.enforce_flood_limits()
    await bot.send_message(USER, "one")

    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(USER, "two")

    assert caught.value.retry_after == dtm.timedelta(seconds=1)
    assert double.flood_errors == 1
    double.fail_next("sendMessage", status=429, retry_after=7, chat_id=-1001)
    with pytest.raises(RetryAfter) as injected:
        await bot.send_message(-1001, "three")
    assert injected.value.retry_after == dtm.timedelta(seconds=7)


async def test_faults_map_to_ptb_network_errors(bot: Bot, double: TelegramDouble) -> None:
    double.delay_next("sendMessage", 0.5)
    with pytest.raises(TimedOut):
        await bot.send_message(USER, "late", read_timeout=0.1)
    assert double.texts_to(USER) == ["late"]  # delivered although the answer timed out

    double.server_error_next("sendMessage")
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(USER, "lost")
    with pytest.raises(BadRequest, match=r"(?i)wrong type of the web page content"):
        await bot.send_photo(USER, "https://example.com/unfetchable.jpg")
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("noSuchMethod")


async def test_scattered_faults_refuse_a_share_and_count_early_sends(
    bot: Bot, double: TelegramDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    double.scatter_faults(refused=0.2, server_errors=0.1, retry_after=(5, 5))
    refused: list[int] = []
    failed = 0
    for chat in range(1, 201):
        try:
            await bot.send_message(chat, "news")
        except RetryAfter:
            refused.append(chat)
        except NetworkError:
            failed += 1
    assert 20 <= len(refused) <= 60 and 5 <= failed <= 40
    double.scatter_faults()  # no more faults: only the waits remain
    with pytest.raises(RetryAfter):
        await bot.send_message(refused[0], "again, too soon")
    assert double.early_sends == 1
