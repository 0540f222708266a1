"""The double as a server: a real Application polls it and replies, and it stops promptly."""

from __future__ import annotations

import asyncio
import time

from telegram import Bot, Update
from telegram.constants import ParseMode
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes

from tests.double import TelegramDouble
from tests.helpers import TOKEN

USER = 4242
GROUP = -1005550001


async def test_stop_ends_a_pending_long_poll_quickly(bot: Bot, double: TelegramDouble) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await double.wait_for(lambda: double.polls_started == 1)  # the poll is waiting

    started = time.monotonic()
    await double.stop()

    assert await asyncio.wait_for(poll, 1) == ()
    assert time.monotonic() - started < 0.5


async def test_application_polls_and_replies(double: TelegramDouble) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("<i>welcome</i>", parse_mode=ParseMode.HTML)

    app = ApplicationBuilder().token(TOKEN).base_url(double.base_url).build()
    app.add_handler(CommandHandler("start", start))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0)
        double.send_command(GROUP, "/start@newsbot_test_bot", user_id=USER)
        (reply,) = await double.wait_for_messages(GROUP, 1, timeout=3)
        await app.updater.stop()
        await app.stop()

    assert reply["text"] == "welcome"
    assert reply["reply_to_message"]["text"] == "/start@newsbot_test_bot"  # PTB quotes in groups
