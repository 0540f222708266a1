"""Fixtures for the Jekyll rules: the real `jekyll`, and one built site per rule group."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from bot.posts.jekyll import load_config
from tests.posts.jekyll.oracle import (
    Published,
    assert_same,
    build_site,
    jekyll_command,
    jekyll_view,
    newsbot_view,
)

CheckSite = Callable[[Mapping[str, Any], Mapping[str, str]], dict[str, Published]]


@pytest.fixture(scope="session")
def jekyll() -> str:
    """The `jekyll` program; a machine without it fails these tests (after trying to install)."""
    try:
        return jekyll_command()
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture
def check_site(jekyll: str, tmp_path: Path) -> CheckSite:
    """Build a site with Jekyll, read it with newsbot, assert both agree; Jekyll's view back."""

    def check(config: Mapping[str, Any], files: Mapping[str, str]) -> dict[str, Published]:
        root = tmp_path / "site"
        rows = build_site(root, config, files)
        expected = jekyll_view(rows, load_config(root).markdown_and_html)
        assert expected, "Jekyll published no post: the site under test is wrong"
        assert_same(expected, newsbot_view(root))
        return expected

    return check
