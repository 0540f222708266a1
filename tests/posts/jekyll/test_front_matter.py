"""Front matter and body split where Jekyll splits them."""

from __future__ import annotations

import pytest

from bot.errors import PostError
from bot.posts.jekyll import load_front_matter, split_front_matter


def test_front_matter_closed_by_dashes_or_dots() -> None:
    assert split_front_matter("---\ntitle: A\n---\nBody\n") == ("---\ntitle: A\n", "Body\n")
    assert split_front_matter("---\ntitle: A\n...\nBody\n") == ("---\ntitle: A\n", "Body\n")
    assert split_front_matter("---\n---\n\n\nBody") == ("---\n", "Body")


def test_without_front_matter_the_whole_text_is_the_body() -> None:
    assert split_front_matter("Body only") == (None, "Body only")
    assert split_front_matter("----\ntitle: A\n---\nB") == (None, "----\ntitle: A\n---\nB")


def test_front_matter_values_are_read_safely() -> None:
    source, _ = split_front_matter("---\ntitle: A\ndate: 2014-09-08\n---\nB")
    assert load_front_matter(source)["title"] == "A"
    assert load_front_matter(None) == {} and load_front_matter("---\n") == {}
    with pytest.raises(PostError, match="malformed"):
        load_front_matter("---\n- a\n- b\n")
    with pytest.raises(PostError, match="malformed"):
        load_front_matter("---\ntitle: [unclosed\n")
