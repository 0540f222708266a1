"""End to end: /search, words in a private chat, inline mode and /share, against the Bot API double.

Each test runs the real bot on a content folder; posts are written after it started, and a test
waits until the search index holds them (or no longer does) before it asks.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any

import pytest

from bot.app import Newsbot
from tests.conftest import StartBot
from tests.double import TelegramDouble
from tests.handlers.chat import GROUP, ago, handled, reply
from tests.helpers import WritePost, eventually

IMAGE = "https://images.example.org/lead.jpg"
#: (id, headline, category, minutes ago, body): the river story is the newest.
ARCHIVE = (
    ("rice", "Rice exports ease", "BUSINESS", 50, "Mills in Chiang Mai report slower rice sales."),
    ("rail", "New rail link opens", "WORLD", 40, "The rail link joins two provinces."),
    ("flood", "ระดับน้ำลดลง", "THAILAND", 30, "ชาวบ้านเชียงใหม่เตรียมรับมือน้ำท่วมในฤดูฝนนี้"),
    ("river", "Mekong river levels", "WORLD", 20, "Farmers near the river watch the AI forecast."),
)


def write_archive(write_post: WritePost, posts: Collection[tuple[str, str, str, int, str]]) -> None:
    for post_id, title, category, minutes, body in posts:
        write_post(
            f"{post_id}.md",
            body,
            title=title,
            category=category,
            date=ago(minutes),
            origin_url=f"https://news.example.org/{post_id}",
            image=IMAGE,
        )


async def indexed(bot: Newsbot, present: Collection[str], absent: Collection[str] = ()) -> None:
    """Wait until the search index holds `present` and none of `absent`."""
    bot.rescan()

    async def ready() -> bool:
        held = (await bot.store.indexed_posts()).keys()
        return set(present) <= held and not set(absent) & held

    await eventually(ready, description=f"index with {sorted(present)} without {sorted(absent)}")


async def archive_bot(start_bot: StartBot, write_post: WritePost) -> Newsbot:
    bot = await start_bot(subscribe_backlog=0)
    write_archive(write_post, ARCHIVE)
    await indexed(bot, [post[0] for post in ARCHIVE])
    return bot


def last_message(double: TelegramDouble, chat: int) -> dict[str, Any]:
    return double.messages_to(chat)[-1]


def buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        b["text"]: b
        for row in message.get("reply_markup", {}).get("inline_keyboard", [])
        for b in row
    }


async def test_search_lists_matches_with_links_categories_and_dates(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    await archive_bot(start_bot, write_post)
    double.send_command(1, "/search chiang mai")
    text = await reply(double, 1, "Articles with")
    assert "Rice exports ease" in text and "BUSINESS · " in text
    assert "Mekong" not in text
    message = last_message(double, 1)
    links = [e["url"] for e in message["entities"] if e["type"] == "text_link"]
    assert links == ["https://news.example.org/rice"]
    assert buttons(message) == {}  # one page: no buttons

    double.send_command(1, "/search river")  # in the body of one, the headline of the same
    text = await reply(double, 1, "“river”")
    assert "Mekong river levels" in text and "Rice" not in text


async def test_thai_words_are_found_inside_a_thai_sentence_and_answered_in_thai(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    await archive_bot(start_bot, write_post)
    double.send_command(2, "/search น้ำท่วม", language_code="th")
    text = await reply(double, 2, "บทความที่มี")
    assert "ระดับน้ำลดลง" in text and "THAILAND" in text
    double.send_text(2, "เชียงใหม่", language_code="th")  # plain words in a private chat
    await eventually(lambda: len([t for t in double.texts_to(2) if "บทความที่มี" in t]) == 2)
    assert "ระดับน้ำลดลง" in double.texts_to(2)[-1]
    double.send_text(2, "ไม่มีคำนี้เลยในคลัง", language_code="th")
    await reply(double, 2, "ไม่พบบทความ")


async def test_words_in_a_private_chat_and_short_terms_are_searched(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    await archive_bot(start_bot, write_post)
    double.send_text(3, "AI forecast")
    text = await reply(double, 3, "Articles with")
    assert "Mekong river levels" in text and "Rice" not in text
    double.send_text(3, "ai")  # two letters: a whole word, not the "ai" inside "Chiang Mai"
    await eventually(lambda: len([t for t in double.texts_to(3) if "Articles with" in t]) == 2)
    assert "Mekong" in double.texts_to(3)[-1] and "Rice" not in double.texts_to(3)[-1]


async def test_next_and_previous_turn_the_page_in_place_in_both_languages(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await start_bot(subscribe_backlog=0)
    stories = [
        (f"s{n}", f"Harbour story {n}", "WORLD", 100 - n, "The harbour grows.") for n in range(7)
    ]
    write_archive(write_post, stories)
    await indexed(bot, [s[0] for s in stories])
    for chat, language, first, after in ((4, "en", "(1–5)", "(6–7)"), (5, "th", "(1–5)", "(6–7)")):
        double.send_command(chat, "/search harbour", language_code=language)
        text = await reply(double, chat, first)
        assert text.index("Harbour story 6") < text.index("Harbour story 2")  # newest first
        message = last_message(double, chat)
        (label,) = buttons(message)
        assert label == ("Next ›" if language == "en" else "ถัดไป ›")
        data = buttons(message)[label]["callback_data"]
        assert len(data.encode()) <= 64
        double.press_button(chat, message["message_id"], data)
        await eventually(lambda c=chat, a=after: a in double.texts_to(c)[-1])
        edited = last_message(double, chat)
        assert edited["message_id"] == message["message_id"]
        assert "Harbour story 1" in edited["text"] and "Harbour story 0" in edited["text"]
        assert list(buttons(edited)) == ["‹ Previous" if language == "en" else "‹ ก่อนหน้า"]


async def test_a_long_thai_query_keeps_its_button_within_64_bytes(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await start_bot(subscribe_backlog=0)
    stories = [(f"t{n}", f"ข่าวเชียงใหม่ {n}", "THAILAND", 60 - n, "ข่าวเชียงใหม่") for n in range(6)]
    write_archive(write_post, stories)
    await indexed(bot, [s[0] for s in stories])
    double.send_command(6, "/search " + " ".join(["ข่าวเชียงใหม่"] * 3), language_code="th")
    await reply(double, 6, "(1–5)")
    (button,) = buttons(last_message(double, 6)).values()
    assert len(button["callback_data"].encode()) <= 64


async def test_search_in_a_group_is_answered_in_the_group(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    await archive_bot(start_bot, write_post)
    double.send_command(GROUP, "/search@newsbot_test_bot rail", chat_type="supergroup")
    text = await reply(double, GROUP, "Articles with")
    assert "New rail link opens" in text
    double.send_command(GROUP, "/search rail", chat_type="supergroup", language_code="th")
    text = await reply(double, GROUP, "บทความที่มี")
    assert "New rail link opens" in text


@pytest.mark.parametrize(
    "words",
    ['"rice" OR NEAR(x', "rice*", "body:rice", "(rice", "^rice", "-", "rice " * 200, "'; DROP"],
)
async def test_hostile_words_are_text_never_syntax(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost, words: str
) -> None:
    await archive_bot(start_bot, write_post)
    double.send_command(7, f"/search {words}")
    await eventually(
        lambda: any(
            "Articles with" in t or "No article" in t or "/search" in t for t in double.texts_to(7)
        )
    )
    assert double.internal_errors == []
    assert not any("went wrong" in t for t in double.texts_to(7))
    await handled(double, 7)  # and the bot answers the next command


async def test_retracted_removed_edited_and_future_posts_follow_the_folder(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost, content: Any
) -> None:
    bot = await archive_bot(start_bot, write_post)
    write_post(
        "rail.md", "The line closes.", title="Rail link delayed", date=ago(40), retracted=True
    )
    (content / "rice.md").unlink()
    write_post("river.md", "Boats wait at the jetty.", title="Mekong jetty", date=ago(20))
    write_post("later.md", "A jetty for tomorrow.", title="Jetty tomorrow", date=ago(-0.05))
    await indexed(bot, ["river"], absent=["rail", "rice", "later"])
    double.send_command(8, "/search rail")
    await reply(double, 8, "No article found")
    double.send_command(8, "/search jetty")
    text = await reply(double, 8, "Articles with")
    assert "Mekong jetty" in text and "tomorrow" not in text
    await indexed(bot, ["later"])  # its time has come: found like any other
    double.send_command(8, "/search tomorrow")
    await reply(double, 8, "Jetty tomorrow")


async def test_inline_mode_offers_latest_and_matches_and_notes_the_chosen_one(
    double: TelegramDouble,
    start_bot: StartBot,
    write_post: WritePost,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await archive_bot(start_bot, write_post)
    latest = double.inline_query(9, "")
    await double.wait_for(lambda: latest in double.inline_answers)
    answer = double.inline_answers[latest]
    assert [r["id"] for r in answer["results"]] == ["river", "flood", "rail", "rice"]
    assert 0 < answer["cache_time"] <= 60

    found = double.inline_query(9, "เชียงใหม่", language_code="th")
    await double.wait_for(lambda: found in double.inline_answers)
    results = double.inline_answers[found]["results"]
    assert [r["id"] for r in results] == ["flood"]
    article = results[0]
    assert article["title"] == "ระดับน้ำลดลง" and article["thumbnail_url"] == IMAGE
    assert article["url"] == "https://news.example.org/flood"

    caplog.set_level(logging.INFO, logger="bot.handlers.search")
    posted = double.choose_inline_result(found, "flood", chat_id=-555)
    assert posted["text"].split("\n")[1] == "ระดับน้ำลดลง"
    assert posted["link_preview_options"]["url"] == IMAGE
    assert buttons(posted)["Read more"]["url"] == "https://news.example.org/flood"
    await eventually(lambda: "inline result chosen result=flood" in caplog.text)


async def test_share_under_a_card_opens_the_inline_query_of_that_article(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    await archive_bot(start_bot, write_post)
    for chat, language, prompt in ((10, "en", "Share “Rice"), (11, "th", "แชร์ “Rice")):
        double.send_command(chat, "/latest business 1", language_code=language)
        await eventually(lambda c=chat: double.messages_to(c))
        card = last_message(double, chat)
        double.send_reply(chat, "/share", card["message_id"], language_code=language)
        await reply(double, chat, prompt)
        (button,) = buttons(last_message(double, chat)).values()
        assert button["switch_inline_query"] == "post:rice"
        shared = double.inline_query(chat, button["switch_inline_query"], language_code=language)
        await double.wait_for(lambda q=shared: q in double.inline_answers)
        assert [r["id"] for r in double.inline_answers[shared]["results"]] == ["rice"]

    double.send_command(12, "/share")  # not a reply to a card
    await reply(double, 12, "Reply /share to one of my article cards")


async def test_with_the_share_button_every_card_carries_it(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await start_bot(subscribe_backlog=0, share_button=True)
    double.send_command(10, "/start")
    await reply(double, 10, "Subscribed")
    write_archive(write_post, ARCHIVE[:1])
    bot.rescan()
    await eventually(lambda: double.messages_to(10)[-1].get("reply_markup"))
    card = buttons(last_message(double, 10))
    assert card["Read more"]["url"] == "https://news.example.org/rice"
    assert card["Share ↗"]["switch_inline_query"] == "post:rice"
    shared = double.inline_query(10, "post:rice")
    await double.wait_for(lambda: shared in double.inline_answers)
    assert [r["id"] for r in double.inline_answers[shared]["results"]] == ["rice"]
