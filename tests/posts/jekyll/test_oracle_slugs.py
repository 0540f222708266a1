"""Slugs, titles from file names and path escaping, against Jekyll's own functions."""

from __future__ import annotations

import pytest

from bot.posts.jekyll import slugify, titleize_slug
from bot.posts.jekyll.permalinks import escape_path
from tests.posts.jekyll.oracle import ruby_calls

TEXTS = [
    "The _config.yml file",
    "Hello, World!",
    "  leading and trailing  ",
    "Ünïcode Ärger ß",
    "日本語のタイトル",
    "Привет мир",
    "مرحبا بالعالم",
    "สวัสดีชาวโลก",
    "emoji 🎉 party",
    "C# & .NET: what's new?",
    "50% off -- today",
    "tab\tand\nnewline",
    "a___b...c~~~d",
    "Café au lait: 2 × more!",
    "ﬁ ligature",
    "१२३ digits ٣",
    "---",
    "",
    "x(y)z[w]{v}",
    "İstanbul",
]
MODES = ["default", "pretty", "raw", "ascii", "none"]


@pytest.mark.parametrize("cased", [False, True])
def test_slugify_matches_jekyll_in_every_mode(jekyll: str, cased: bool) -> None:
    calls = [("slugify", text, {"mode": mode, "cased": cased}) for mode in MODES for text in TEXTS]
    answers = ruby_calls(calls)
    for (_, text, options), answer in zip(calls, answers, strict=True):
        assert slugify(text, str(options["mode"]), cased=cased) == answer, (text, options)


def test_titles_from_file_names_match_jekyll(jekyll: str) -> None:
    slugs = ["my-first-post", "GPS-data--for-all-", "ünïcode-TITLE", "a", "-lead", "x-y-z-"]
    answers = ruby_calls([("titleize_slug", slug, {}) for slug in slugs])
    assert [titleize_slug(slug) for slug in slugs] == answers


def test_path_escaping_matches_jekyll(jekyll: str) -> None:
    values = ["plain/path-1.html", "asia pacific", "c#", "q&a", "日本", "50%", "a?b", "[x]", "é"]
    answers = ruby_calls([("escape_path", value, {}) for value in values])
    assert [escape_path(value) for value in values] == answers
