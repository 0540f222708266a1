"""Jekyll's excerpt and the author's own."""

from __future__ import annotations

from bot.posts.jekyll import extract_excerpt, post_excerpt


def test_the_excerpt_ends_at_the_separator() -> None:
    assert extract_excerpt("One.\n\nTwo.\n", "\n\n") == "One."
    assert extract_excerpt("Only one.\n", "\n\n") == "Only one.\n"
    assert extract_excerpt("Lead\nmore<!--more-->rest", "<!--more-->") == "Lead\nmore"
    assert extract_excerpt("Anything", "") == ""


def test_link_definitions_it_uses_come_along() -> None:
    body = "See [a][1].\n\nMore.\n\n[1]: https://a.example\n[2]: https://b.example\n"
    assert extract_excerpt(body, "\n\n") == "See [a][1].\n\n[1]: https://a.example"


def test_liquid_blocks_cut_by_the_separator_are_closed() -> None:
    body = "{% if x %}\nIn.\n\nStill.\n{% endif %}\n"
    assert extract_excerpt(body, "\n\n") == "{% if x %}\nIn.\n{% endif %}"


def test_the_authors_excerpt_wins() -> None:
    data = {"excerpt": "Mine.", "excerpt_separator": "<!--more-->"}
    assert post_excerpt(data, "Body.\n\nMore.", "\n\n") == ("Mine.", True)
    assert post_excerpt({"excerpt_separator": "|"}, "A\n\nB|C", "\n\n") == ("A\n\nB", False)
