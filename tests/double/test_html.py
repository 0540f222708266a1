"""The double reads HTML and counts lengths as Telegram does, so bad markup fails the tests."""

from __future__ import annotations

import pytest
from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest

from tests.double import TelegramDouble

USER = 4242
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def test_invalid_html_is_rejected(bot: Bot, double: TelegramDouble) -> None:
    for text in ("1 < 2", "<br>", "<b>open", "AT&T", "&nbsp;"):
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(USER, text, parse_mode=ParseMode.HTML)

    assert double.sent == []
    assert {record.status for record in double.calls("sendMessage")} == {400}


async def test_caption_length_is_counted_in_utf16(bot: Bot, double: TelegramDouble) -> None:
    with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
        await bot.send_photo(USER, PNG, caption="😀" * 513)  # 513 characters, 1026 units

    sent = await bot.send_photo(USER, PNG, caption="😀" * 512)
    again = await bot.send_photo(USER, sent.photo[-1].file_id)

    assert again.photo == sent.photo  # a known file_id is reused, not re-uploaded
    assert double.sent[0].params["photo"].data == PNG
