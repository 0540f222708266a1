"""A python-telegram-bot `Bot` pointed at the double, for the double's own tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from tests.double import TelegramDouble
from tests.helpers import TOKEN


@pytest.fixture
async def bot(double: TelegramDouble) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=double.base_url) as client:
        yield client
