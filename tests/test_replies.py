"""A reply refused by Telegram's flood control waits out the short wait and is sent."""

from __future__ import annotations

import time

from tests.conftest import StartBot
from tests.double import TelegramDouble
from tests.handlers.chat import reply


async def test_a_reply_refused_by_flood_control_goes_once_the_wait_is_over(
    double: TelegramDouble, start_bot: StartBot
) -> None:
    await start_bot()
    double.fail_next("sendMessage", status=429, retry_after=1, chat_id=33)
    asked = time.monotonic()
    double.send_command(33, "/help")
    await reply(double, 33, "/latest")
    assert time.monotonic() - asked >= 1.0  # after Telegram's retry_after, not before


async def test_a_long_wait_is_not_waited_out_in_a_reply(
    double: TelegramDouble, start_bot: StartBot
) -> None:
    await start_bot()
    double.fail_next("sendMessage", status=429, retry_after=60, chat_id=33)
    double.send_command(33, "/help")
    double.send_command(34, "/help")
    await reply(double, 34, "/latest")  # another reader is answered meanwhile
    await reply(double, 33, "something went wrong")
