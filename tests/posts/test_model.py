"""What a post is: the pure rules every stage relies on (safe links, category keys, languages)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.posts import Category, Post, Rejection, Run, category_key, primary_language, safe_url

# --- links -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://ex.com/a?b=1", "https://ex.com/a?b=1"),
        ("http://ex.com", "http://ex.com"),
        ("javascript:alert(1)", None),
        ("JAVASCRIPT://ex.com/%0aalert(1)", None),
        ("data:image/png;base64,AAAA", None),
        ("/relative/path.jpg", None),
        ("https://", None),
        ("https://ex.com/a b", None),
        (42, None),
    ],
)
def test_only_http_urls_pass(value: object, expected: str | None) -> None:
    assert safe_url(value) == expected


# --- category keys -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Asia Pacific", "asia_pacific"),
        ("WORLD", "world"),
        ("Science & Tech!", "science_tech"),
        ("Café-Culture", "cafe_culture"),
        ("x" * 50, "x" * 32),
    ],
)
def test_category_keys_are_valid_command_names(name: str, key: str) -> None:
    assert category_key(name) == key


def test_category_without_latin_letters_gets_a_stable_key() -> None:
    key = category_key("ข่าว")
    assert key == category_key("ข่าว")
    assert key.startswith("c_") and len(key) <= 32


# --- languages ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "primary"),
    [
        ("en", "en"),
        ("en-US", "en"),
        (" TH ", "th"),
        ("zh_Hant", "zh"),
        ("Klingon", "klingon"),
        ("", None),
        (None, None),
    ],
)
def test_primary_language_is_the_lower_case_language_part(
    code: str | None, primary: str | None
) -> None:
    assert primary_language(code) == primary


# --- what a reader's card shows ----------------------------------------------------------------

STORY = Post(
    id="story",
    path=Path("2026-11-20-story.md"),
    title="Ferries resume",
    summary=(Run("Ferries run again."),),
    date=datetime(2026, 11, 20, 8, tzinfo=UTC),
    categories=(Category("World", "world"),),
    url="https://news.example/ferries",
    digest="a" * 64,
)


def test_the_card_digest_follows_what_readers_see_and_nothing_else() -> None:
    seen_the_same = [
        replace(STORY, digest="b" * 64),
        replace(STORY, path=Path("elsewhere/story.md")),
        replace(STORY, language="en"),
    ]
    assert all(post.card_digest == STORY.card_digest for post in seen_the_same)
    seen_otherwise = [
        replace(STORY, title="Ferries resume on Friday"),
        replace(STORY, summary=(Run("Ferries run again.", bold=True),)),
        replace(STORY, image="https://img.example/ferry.jpg"),
        replace(STORY, url="https://news.example/ferries-2"),
        replace(STORY, categories=()),
        replace(STORY, retracted=True),
        replace(STORY, published=False),
        replace(STORY, breaking=True),
    ]
    assert all(post.card_digest != STORY.card_digest for post in seen_otherwise)


def test_a_post_is_live_once_published_and_due_until_retracted() -> None:
    due = STORY.date
    assert STORY.is_live(due)
    assert not STORY.is_live(due - timedelta(seconds=1))
    assert not replace(STORY, published=False).is_live(due)
    assert not replace(STORY, retracted=True).is_live(due)


def test_a_rejection_reads_as_the_file_and_its_reason() -> None:
    assert str(Rejection(Path("news/a.md"), "no date")) == "news/a.md: no date"


def test_a_date_alone_is_never_shifted_into_a_readers_zone() -> None:
    west = timezone(timedelta(hours=-8))
    midnight = datetime(2026, 11, 20, tzinfo=UTC)
    timed = replace(STORY, date=midnight)
    assert timed.date_in(west).day == 19  # the moment, where the reader is
    assert replace(timed, has_time=False).date_in(west).day == 20  # the day the newsroom wrote
