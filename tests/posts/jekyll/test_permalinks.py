"""Permalink rules that a built site does not show: errors, escaping, extensions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.errors import PostError
from bot.posts.jekyll import PermalinkParts, post_url
from bot.posts.jekyll.permalinks import escape_path, expand, output_ext, sanitize_url

PARTS = PermalinkParts(
    date=datetime(2014, 9, 8, 7, 5, 3, tzinfo=UTC),
    slug="Hello World",
    basename="2014-09-08-hello-world",
    categories=("News", "news", "Asia Pacific"),
)


def test_placeholders_fill_the_template() -> None:
    assert post_url("/:categories/:year/:i_month/:i_day/:title:output_ext", PARTS) == (
        "/news/asia%20pacific/2014/9/8/Hello-World.html"
    )
    assert post_url("/:year/:month_:day/:slug/", PARTS) == "/2014/09_08/hello-world/"


def test_the_front_matter_permalink_replaces_the_template() -> None:
    assert post_url("/:year/:title/", PARTS, "/own/:slug") == "/own/hello-world"
    assert post_url("/:year/:title/", PARTS, None) == "/2014/Hello-World/"
    assert post_url("/:year/:title/", PARTS, False) == "/2014/Hello-World/"


def test_an_unknown_placeholder_is_an_error_not_a_guess() -> None:
    with pytest.raises(PostError, match=":author"):
        expand("/:author/:title", PARTS)


def test_urls_are_cleaned_as_jekyll_cleans_them() -> None:
    assert sanitize_url("a//b/../c/./d") == "/a/b/c/d"
    assert sanitize_url("") == "/"
    assert escape_path("plain/path") == "plain/path"
    assert escape_path("c# q&a 日") == "c%23%20q&a%20%E6%97%A5"


def test_output_ext_comes_from_the_permalink_when_it_has_one() -> None:
    assert output_ext("/page.php") == ".php"
    assert output_ext("/folder/") == ".html"
    assert output_ext("/:year/:title") == ".html"
    assert output_ext(None) == ".html"
