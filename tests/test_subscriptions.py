"""The subscription rules as plain values: category words, toggles, languages, which posts."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from bot.posts import Category, Post
from bot.store import ALL
from bot.subscriptions import (
    BUTTON_ALL,
    BUTTON_NONE,
    MOST_WORDS,
    Choice,
    LanguageChoice,
    LatestRequest,
    backlog_candidates,
    categories_keyboard,
    category_names,
    changes_languages,
    choose_categories,
    choose_languages,
    deep_link_categories,
    latest_request,
    newest,
    pressed,
    primary_language,
    receiving,
    starting,
    toggled,
    with_categories,
    without_categories,
)

CATEGORIES = {
    "asia_pacific": Category("Asia Pacific", "asia_pacific"),
    "business": Category("BUSINESS", "business"),
    "world": Category("WORLD", "world"),
}
KNOWN = frozenset(CATEGORIES)
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def post(
    post_id: str, minutes: int, *keys: str, language: str | None = "en", live: bool = True
) -> Post:
    return Post(
        id=post_id,
        path=Path(f"{post_id}.md"),
        title=post_id,
        summary=(),
        date=NOW - timedelta(minutes=minutes),
        categories=tuple(CATEGORIES[k] for k in keys),
        language=language,
        published=live,
    )


# --- category words ------------------------------------------------------------------------------


def test_categories_are_named_by_key_name_or_hashtag_in_any_case() -> None:
    assert choose_categories(["world", "#Business", "/ASIA_PACIFIC"], CATEGORIES) == Choice(
        frozenset({"world", "business", "asia_pacific"})
    )
    assert choose_categories(["Asia", "Pacific", "world,"], CATEGORIES) == Choice(
        frozenset({"asia_pacific", "world"})
    )
    assert choose_categories(["asia-pacific"], CATEGORIES).keys == {"asia_pacific"}
    assert choose_categories(["All"], CATEGORIES) == Choice(frozenset({ALL}))
    assert choose_categories(["sport", "world", "x' OR 1=1"], CATEGORIES) == Choice(
        frozenset({"world"}), ("sport", "x' OR 1=1")
    )
    assert choose_categories([], CATEGORIES) == Choice()


#: A message's most: 4,096 characters, here 2,048 one-letter words.
LONG_MESSAGE = ["x"] * 2048
#: The budget for reading one message's words: "a few milliseconds", with room for a busy machine.
READ_BUDGET = 0.02


def fastest(read: Callable[[], object]) -> float:
    """The best of a few timings of `read`, so one pause of the machine does not count."""
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        read()
        timings.append(time.perf_counter() - started)
    return min(timings)


def test_a_message_of_thousands_of_words_is_read_in_a_few_milliseconds() -> None:
    # Trying every run of words took time cubic in their number: minutes for one message.
    many = {f"c{n}": Category(f"C{n} desk", f"c{n}") for n in range(90)} | CATEGORIES
    for read in (
        lambda: choose_categories(LONG_MESSAGE, many),
        lambda: latest_request(LONG_MESSAGE, many),
        lambda: deep_link_categories(["-".join(LONG_MESSAGE)], many),
        lambda: choose_languages(LONG_MESSAGE),
    ):
        assert fastest(read) < READ_BUDGET


def test_only_the_first_words_of_a_command_are_read() -> None:
    words = ["world", *["sport"] * (MOST_WORDS - 2), "business", "asia", "pacific"]
    assert choose_categories(words, CATEGORIES) == Choice(
        frozenset({"world", "business"}), ("sport",) * (MOST_WORDS - 2)
    )
    assert choose_languages(["en", *[","] * MOST_WORDS, "th"]).languages == {"en"}
    assert latest_request(["x"] * MOST_WORDS + ["3"], CATEGORIES).count == 5


def test_a_name_of_several_words_is_still_found_among_many_words() -> None:
    words = ["nonsense"] * 10 + ["Asia", "Pacific"] + ["more"] * 10
    assert choose_categories(words, CATEGORIES).keys == {"asia_pacific"}
    assert choose_categories(["asia_pacific"], CATEGORIES).keys == {"asia_pacific"}


def test_deep_links_join_several_categories_with_dashes() -> None:
    assert deep_link_categories(["world-business"], CATEGORIES).keys == {"world", "business"}
    assert deep_link_categories(["asia_pacific"], CATEGORIES).keys == {"asia_pacific"}
    assert deep_link_categories([], CATEGORIES) == Choice()
    assert deep_link_categories(["nosuch"], CATEGORIES).unknown == ("nosuch",)


# --- subscriptions -------------------------------------------------------------------------------


def test_adding_and_dropping_categories() -> None:
    assert with_categories({"world"}, {"business"}) == {"world", "business"}
    assert with_categories({"world"}, {ALL}) == {ALL}
    assert with_categories({ALL}, {"world"}) == {ALL}
    assert without_categories({"world", "business"}, {"world"}, KNOWN) == {"business"}
    # Dropping one from "everything" leaves every other category known today.
    assert without_categories({ALL}, {"world"}, KNOWN) == {"asia_pacific", "business"}
    assert without_categories({ALL}, {"sport"}, KNOWN) == {ALL}  # nothing known was dropped
    assert without_categories({"world"}, {ALL}, KNOWN) == frozenset()
    assert receiving({ALL}, KNOWN) == KNOWN


def test_start_adds_what_it_names_else_keeps_the_earlier_choice_else_everything() -> None:
    assert starting({"world"}, {"business"}) == {"world", "business"}
    assert starting({"world"}, ()) == {"world"}  # a plain /start keeps the choice
    assert starting((), ()) == {ALL}  # new, or a chat that had chosen "None"
    assert starting((), {"world"}) == {"world"}
    assert starting({"world"}, {ALL}) == {ALL}


def test_keyboard_presses() -> None:
    assert toggled({ALL}, "world", KNOWN) == {"asia_pacific", "business"}
    assert toggled({"business"}, "world", KNOWN) == {"business", "world"}
    assert toggled({"world"}, "world", KNOWN) == frozenset()
    assert pressed("cat:world", frozenset(), KNOWN) == {"world"}
    assert pressed(BUTTON_ALL, {"world"}, KNOWN) == {ALL}
    assert pressed(BUTTON_NONE, {ALL}, KNOWN) == frozenset()
    assert pressed("cat:sport", {ALL}, KNOWN) is None  # a category that is gone
    assert pressed("other:world", {ALL}, KNOWN) is None


@given(
    start=st.sets(st.sampled_from([*KNOWN, ALL])),
    key=st.sampled_from(sorted(KNOWN)),
)
def test_pressing_a_category_twice_restores_what_it_receives(start: set[str], key: str) -> None:
    once = toggled(start, key, KNOWN)
    assert (key in receiving(once, KNOWN)) != (key in receiving(start, KNOWN))
    assert receiving(toggled(once, key, KNOWN), KNOWN) == receiving(start, KNOWN)


def test_keyboard_ticks_what_a_chat_receives() -> None:
    rows = categories_keyboard({"world"}, CATEGORIES, all_label="All", none_label="None")
    labels = [[b.label for b in row] for row in rows]
    assert labels == [["▫️ Asia Pacific", "▫️ BUSINESS"], ["✅ WORLD"], ["▫️ All", "▫️ None"]]
    assert [b.data for b in rows[0]] == ["cat:asia_pacific", "cat:business"]
    everything = categories_keyboard({ALL}, CATEGORIES, all_label="All", none_label="None")
    assert all(b.label.startswith("✅") for row in everything[:-1] for b in row)
    assert [b.label for b in everything[-1]] == ["✅ All", "▫️ None"]
    nothing = categories_keyboard(set(), CATEGORIES, all_label="All", none_label="None")
    assert [b.label for b in nothing[-1]] == ["▫️ All", "✅ None"]


def test_keyboard_fits_telegrams_limits() -> None:
    many = {f"c{n:03}": Category(f"C {n}", f"c{n:03}") for n in range(150)}
    rows = categories_keyboard({ALL}, many, all_label="All", none_label="None")
    assert sum(len(row) for row in rows) == 100
    assert all(len(row) <= 8 for row in rows)
    assert all(len(b.data.encode()) <= 64 for row in rows for b in row)


def test_category_names_in_the_newsrooms_order() -> None:
    assert category_names({"world", "asia_pacific", "gone"}, CATEGORIES) == [
        "Asia Pacific",
        "WORLD",
        "gone",
    ]
    assert category_names({ALL}, CATEGORIES) == []


# --- languages -----------------------------------------------------------------------------------


def test_language_codes() -> None:
    assert choose_languages(["en", "TH,"]) == LanguageChoice(frozenset({"en", "th"}))
    assert choose_languages(["en-US", "pt_BR"]) == LanguageChoice(frozenset({"en", "pt"}))
    assert choose_languages(["all"]) == LanguageChoice(None)
    assert choose_languages(["english!", "th"]) == LanguageChoice(frozenset({"th"}), ("english!",))
    assert choose_languages([]) == LanguageChoice(frozenset())
    assert primary_language("en-GB") == "en"
    assert primary_language("TH") == "th"
    assert primary_language("") is None
    assert primary_language(None) is None


def test_only_choosing_languages_needs_the_right_to_change_the_chat() -> None:
    assert not changes_languages([])
    assert not changes_languages([" , "])  # no codes at all: a question
    assert changes_languages(["th"])
    assert changes_languages(["all"])
    assert changes_languages(["klingon!"])  # answered as invalid, by someone who may change


# --- which posts ---------------------------------------------------------------------------------


def test_latest_reads_a_count_and_a_category_in_either_order() -> None:
    assert latest_request([], CATEGORIES) == LatestRequest()
    assert latest_request(["3"], CATEGORIES) == LatestRequest(None, 3)
    assert latest_request(["world", "3"], CATEGORIES) == LatestRequest("world", 3)
    assert latest_request(["3", "Asia", "Pacific"], CATEGORIES) == LatestRequest("asia_pacific", 3)
    assert latest_request(["50"], CATEGORIES).count == 10
    assert latest_request(["0"], CATEGORIES).count == 1
    assert latest_request(["-4"], CATEGORIES).count == 1
    assert latest_request(["sport"], CATEGORIES).unknown == ("sport",)
    assert latest_request(["world", "business"], CATEGORIES).unknown == ("world",)
    assert latest_request(["2"], CATEGORIES, category="world") == LatestRequest("world", 2)
    assert latest_request(["business"], CATEGORIES, category="world").unknown == ("business",)


POSTS = [  # newest first, as the library keeps them
    post("future", -10, "world"),
    post("w2", 10, "world"),
    post("th", 20, "business", language="th"),
    post("draft", 25, "world", live=False),
    post("b1", 30, "business"),
    post("nolang", 40, "asia_pacific", language=None),
    post("w1", 50, "world", "asia_pacific"),
]


def test_newest_live_posts_of_a_category_in_the_chats_languages() -> None:
    ids = [p.id for p in newest(POSTS, NOW, count=5)]
    assert ids == ["w2", "th", "b1", "nolang", "w1"]
    assert [p.id for p in newest(POSTS, NOW, count=2, category="world")] == ["w2", "w1"]
    assert [p.id for p in newest(POSTS, NOW, count=9, category="asia_pacific")] == [
        "nolang",
        "w1",
    ]
    thai = newest(POSTS, NOW, count=9, languages=frozenset({"th"}))
    assert [p.id for p in thai] == ["th", "nolang"]  # a post without a language reaches all


def test_backlog_candidates_follow_the_subscriptions() -> None:
    assert backlog_candidates(POSTS, NOW, subscribed={ALL}, languages=None, count=1)[:2] == [
        "w2",
        "th",
    ]
    assert backlog_candidates(POSTS, NOW, subscribed={"business"}, languages=None, count=1) == [
        "th",
        "b1",
    ]
    english = backlog_candidates(
        POSTS, NOW, subscribed={"business"}, languages=frozenset({"en"}), count=1
    )
    assert english == ["b1"]
    assert backlog_candidates(POSTS, NOW, subscribed={ALL}, languages=None, count=0) == []
