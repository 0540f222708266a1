"""Categories by Jekyll's rules."""

from __future__ import annotations

from bot.posts.jekyll import post_categories


def test_folders_come_first_then_lists_then_the_singular() -> None:
    assert post_categories(("news",), {"categories": "world asia", "category": "Asia Pacific"}) == (
        "news",
        "world",
        "asia",
        "Asia Pacific",
    )


def test_numbers_and_booleans_are_names_too() -> None:
    assert post_categories((), {"category": 2013}) == ("2013",)
    assert post_categories((), {"categories": [2013, True, 1.5, None, ["x"]]}) == (
        "2013",
        "true",
        "1.5",
        "x",
    )


def test_defaults_add_categories_and_a_null_singular_falls_back() -> None:
    assert post_categories(("a",), {"categories": ["b"]}, {"categories": ["d"]}) == ("a", "d", "b")
    assert post_categories((), {"category": None, "categories": ["x"]}) == ("x",)
    assert post_categories((), {}) == ()
