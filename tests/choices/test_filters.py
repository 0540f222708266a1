"""Word filters: whole words, any case, tags included, Thai by substring, linear time."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from bot.filters import MOST_WORDS, PostWords, WordFilter, add_words, normalise
from bot.posts import Post
from bot.posts.model import Run


def post(title: str, summary: str = "", tags: tuple[str, ...] = ()) -> Post:
    return Post(
        id="p",
        path=Path("p.md"),
        title=title,
        summary=(Run(summary),),
        date=datetime(2026, 11, 20, tzinfo=UTC),
        tags=tags,
    )


def test_whole_words_in_any_case_and_tags() -> None:
    football = post("Football final tonight", "The FINAL whistle.", tags=("Sport",))
    assert not WordFilter(muted=("football",)).admits(football)
    assert not WordFilter(muted=("sport",)).admits(football)  # a tag
    assert WordFilter(muted=("foot",)).admits(football)  # a part of a word is no word
    assert WordFilter(only=("final",)).admits(football)
    assert not WordFilter(only=("rice",)).admits(football)
    assert WordFilter().admits(football)
    assert not WordFilter(muted=("covid-19",)).admits(post("Covid-19 cases fall"))
    assert WordFilter(muted=("covid-19",)).admits(post("Covid cases fall, 19 wards"))


def test_thai_words_match_inside_unspaced_text() -> None:
    flood = post("น้ำท่วมหนักในเชียงใหม่", "ชาวบ้านอพยพ")
    assert not WordFilter(muted=("น้ำท่วม",)).admits(flood)
    assert WordFilter(only=("เลือกตั้ง",)).admits(flood) is False
    assert WordFilter(only=("เชียงใหม่",)).admits(flood)


def test_normalising_and_the_cap() -> None:
    assert normalise("#Football") == "football"
    assert normalise("!!!") is None
    added = add_words((), (), [f"w{n}" for n in range(MOST_WORDS + 5)])
    assert len(added.words) == MOST_WORDS and added.full
    assert add_words(("a",), (), ["A", "b"]).words == ("a", "b")


def test_time_is_linear_in_the_posts_length() -> None:
    words = tuple(f"word{n}" for n in range(MOST_WORDS))
    small, large = "lorem ipsum " * 2_000, "lorem ipsum " * 20_000

    def cost(text: str) -> float:
        start = time.perf_counter()
        for n in range(5):  # five different posts: each one's words are read afresh
            WordFilter(muted=words).admits(post(f"t{n}", text))
        return time.perf_counter() - start

    cost("warm up")
    assert cost(large) < cost(small) * 10 * 4  # ten times the text: about ten times the time
    assert PostWords("a b").has("a")
