"""What a post becomes for one chat: its card, kept per version of the post, and the image
fallbacks, end to end."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from telegram import Bot

from bot.delivery.cards import Cards, CardStyle
from bot.images import ImageCache
from bot.posts import read_post
from bot.store import Store
from tests.conftest import StartBot
from tests.delivery.helpers import JPEG, headlines, recent, subscribed_bot
from tests.double import TelegramDouble
from tests.helpers import TOKEN, WritePost, eventually

OLD_IMAGE = "https://img.example-news.com/old.jpg"
NEW_IMAGE = "https://img.example-news.com/new.jpg"


async def any_time(_: Bot) -> None:
    """No pace: rendering cards makes no call."""


@pytest.fixture
async def cards(store: Store) -> AsyncIterator[Cards]:
    async with httpx.AsyncClient() as client:
        style = CardStyle(source_name="Example News")
        yield Cards(Bot(TOKEN), ImageCache(store, client), turn=any_time, style=style)


async def test_a_card_is_rendered_once_per_version_of_its_post(
    cards: Cards, write_post: WritePost
) -> None:
    path = write_post("a.md", title="Qauke hits coast", origin_url="https://ex.com/a")
    first = cards.card(read_post(path))
    assert cards.card(read_post(path)) is first  # the same version: the same card
    assert "Example News" in first.text  # in the newsroom's style
    write_post("a.md", title="Quake hits coast", origin_url="https://ex.com/a")
    corrected = cards.card(read_post(path))
    assert "Quake hits coast" in corrected.text and corrected is not first


async def test_a_corrected_card_keeps_the_form_the_reader_has(
    cards: Cards, write_post: WritePost
) -> None:
    with_image = read_post(write_post("a.md", title="Story", image=NEW_IMAGE))
    photo = cards.card_as_sent(with_image, "photo", OLD_IMAGE)
    assert photo.has_photo and photo.params["photo"] == NEW_IMAGE
    assert not cards.card_as_sent(with_image, "text", None).has_photo  # text stays text
    without_image = read_post(write_post("b.md", title="Story"))
    kept = cards.card_as_sent(without_image, "photo", OLD_IMAGE)
    assert kept.params["photo"] == OLD_IMAGE  # the photo the reader has stays


async def test_an_image_telegram_cannot_fetch_is_uploaded_once_for_all_chats(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    image = double.serve_file("lead.jpg", JPEG, "image/jpeg")
    double.unfetchable_urls.add(image)
    chats = (1, 2, 3, 4)
    await subscribed_bot(start_bot, *chats)
    write_post("a.md", title="Photo story", image=image, **recent())
    await eventually(lambda: all(headlines(double, c, "Photo story") for c in chats))
    photos = [r for r in double.calls("sendPhoto") if r.status == 200]
    uploads = [r for r in photos if not isinstance(r.params["photo"], str)]
    assert len(uploads) == 1
    assert all(r.params["photo"] != image for r in photos)
    assert [headlines(double, c, "Photo story") for c in chats] == [1] * len(chats)
    assert all(double.messages_to(c)[-1].get("photo") for c in chats)


async def test_an_image_that_cannot_be_had_at_all_sends_the_text_card(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    broken = f"{double.url}/files/missing.jpg"
    double.unfetchable_urls.add(broken)
    await subscribed_bot(start_bot, 1, 2)
    write_post(
        "a.md", "Paragraph.", title="Story", image=broken, origin_url="https://ex.com/a", **recent()
    )
    await eventually(lambda: headlines(double, 1, "Story") + headlines(double, 2, "Story") == 2)
    for chat in (1, 2):
        [message] = double.messages_to(chat)
        assert "photo" not in message and "Paragraph." in message["text"]


async def test_an_image_sent_once_goes_as_telegrams_file_id_from_then_on(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    image = double.serve_file("lead.jpg", JPEG, "image/jpeg")
    await subscribed_bot(start_bot, 1)
    write_post("a.md", title="First photo story", image=image, **recent())
    await eventually(lambda: headlines(double, 1, "First photo story") == 1)
    write_post("b.md", title="Second photo story", image=image, **recent())
    await eventually(lambda: headlines(double, 1, "Second photo story") == 1)
    first, second = (call.params["photo"] for call in double.calls("sendPhoto"))
    assert first == image
    assert second == double.messages_to(1)[0]["photo"][-1]["file_id"]


async def test_chats_wait_for_the_upload_instead_of_each_trying_the_url(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    image = double.serve_file("lead.jpg", JPEG, "image/jpeg")
    double.unfetchable_urls.add(image)
    double.served_delay = 0.5  # the download takes a while; the other chats wait it out
    chats = tuple(range(1, 13))
    bot = await subscribed_bot(start_bot, *chats, rate=200)  # all twelve could go at once
    write_post("a.md", title="Photo story", image=image, **recent())
    await eventually(lambda: double.calls("sendPhoto"))  # refused: the download begins
    write_post("b.md", title="Text story", **recent())  # queued behind, for the same chats
    await eventually(lambda: all(headlines(double, c, "Text story") for c in chats), timeout=10)
    tries = double.calls("sendPhoto")
    assert len([r for r in tries if r.params["photo"] == image]) == 1  # one chat tried the URL
    assert len([r for r in tries if not isinstance(r.params["photo"], str)]) == 1  # one upload
    assert all(double.messages_to(c)[0].get("photo") for c in chats)  # in queued order
    assert bot.sender.failed == 0
