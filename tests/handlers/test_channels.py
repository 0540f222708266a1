"""End to end: editors subscribe channels from their private chat with the bot."""

from __future__ import annotations

from tests.conftest import StartBot
from tests.double import TelegramDouble
from tests.handlers.chat import (
    BOT_ADMIN,
    CHANNEL,
    OTHER_ADMIN,
    READER,
    cards,
    categories_of,
    make_channel,
    newsroom,
    reply,
)
from tests.helpers import WritePost, eventually


async def test_bot_admins_subscribe_channels_from_a_private_chat(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await newsroom(start_bot, write_post, admin_ids=frozenset({BOT_ADMIN, OTHER_ADMIN}))
    make_channel(double, CHANNEL, "newsdesk", bot_status="administrator")
    make_channel(double, -1008888, "readonly", bot_status="member")

    double.send_command(READER, "/subscribe @newsdesk")
    await reply(double, READER, "Only the bot's administrators")
    double.send_command(BOT_ADMIN, "/subscribe @nowhere")
    await reply(double, BOT_ADMIN, "I cannot reach @nowhere")
    double.send_command(BOT_ADMIN, "/subscribe @readonly")
    await reply(double, BOT_ADMIN, "I am not an administrator who may post messages in @readonly")
    double.send_command(BOT_ADMIN, "/subscribe @newsdesk sport")
    await reply(double, BOT_ADMIN, "I do not know sport")
    assert await bot.store.chat(CHANNEL) is None

    double.send_command(BOT_ADMIN, "/subscribe @newsdesk world")
    await reply(double, BOT_ADMIN, "@newsdesk now receives WORLD")
    await eventually(lambda: cards(double, CHANNEL) == ["World three"])  # its backlog
    chat = await bot.store.chat(CHANNEL)
    assert chat is not None and chat.type == "channel" and chat.categories == {"world"}
    double.send_command(BOT_ADMIN, f"/subscribe {CHANNEL} business")  # by id works too
    await reply(double, BOT_ADMIN, "@newsdesk now receives BUSINESS, WORLD")

    double.channel_post(CHANNEL, "/latest", username="newsdesk")  # commands in a channel: no
    double.send_command(OTHER_ADMIN, "/channels")  # another admin: one reader, one pace
    listing = await reply(double, OTHER_ADMIN, "Channels I post to")
    assert str(CHANNEL) in listing and "BUSINESS, WORLD" in listing
    double.send_command(READER, "/channels")
    await eventually(lambda: len(double.texts_to(READER)) == 2)
    assert "Only the bot's administrators" in double.texts_to(READER)[-1]

    double.send_command(OTHER_ADMIN, "/unsubscribe @newsdesk business")
    await reply(double, OTHER_ADMIN, "@newsdesk now receives WORLD")
    double.send_command(OTHER_ADMIN, "/unsubscribe @newsdesk")
    await reply(double, OTHER_ADMIN, "@newsdesk no longer receives posts")
    assert await categories_of(bot, CHANNEL) is None
    double.send_command(OTHER_ADMIN, "/channels")
    await reply(double, OTHER_ADMIN, "No channel is subscribed")
    assert cards(double, CHANNEL) == ["World three"]
