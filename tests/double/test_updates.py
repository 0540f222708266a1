"""Readers' updates reach the bot through a long poll that answers as soon as one arrives."""

from __future__ import annotations

import asyncio
import time

from telegram import Bot

from tests.double import TelegramDouble

USER = 4242


async def test_long_poll_returns_an_added_command(bot: Bot, double: TelegramDouble) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await double.wait_for(lambda: double.polls_started == 1)  # the poll is waiting
    double.send_command(USER, "/start@newsbot_test_bot", username="reader")

    updates = await asyncio.wait_for(poll, 2)

    assert time.monotonic() - started < 1
    (update,) = updates
    assert update.message is not None
    assert update.message.text == "/start@newsbot_test_bot"
    assert update.message.entities[0].type == "bot_command"
    assert update.message.entities[0].length == len("/start@newsbot_test_bot")
    assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == ()
    assert double.pending_updates == []
