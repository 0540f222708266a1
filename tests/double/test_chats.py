"""The bot's identity, and chats that refuse it the way Telegram's do."""

from __future__ import annotations

import pytest
from telegram import Bot
from telegram.error import ChatMigrated, Forbidden

from tests.double import TelegramDouble

USER = 4242


async def test_get_me(bot: Bot, double: TelegramDouble) -> None:
    me = await bot.get_me()

    assert me.is_bot
    assert me.username == "newsbot_test_bot"
    assert me.id == double.bot_user["id"]
    assert bot.username == "newsbot_test_bot"  # set by Bot.initialize() through getMe


async def test_blocked_user_raises_forbidden(bot: Bot, double: TelegramDouble) -> None:
    double.forbidden_chats.add(USER)

    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(USER, "hi")


async def test_upgraded_group_raises_chat_migrated(bot: Bot, double: TelegramDouble) -> None:
    double.migrations[-4242] = -1004242

    with pytest.raises(ChatMigrated) as caught:
        await bot.send_message(-4242, "hi")

    assert caught.value.new_chat_id == -1004242
    assert (await bot.send_message(-1004242, "hi")).chat.type == "supergroup"
