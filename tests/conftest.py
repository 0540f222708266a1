"""Shared fixtures: post files on disk, and the environment python-telegram-bot expects."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import WritePost, post_text

# RetryAfter warns about its future type unless this is set; warnings are errors in this suite.
os.environ["PTB_TIMEDELTA"] = "1"


@pytest.fixture
def content(tmp_path: Path) -> Path:
    folder = tmp_path / "content"
    folder.mkdir()
    return folder


@pytest.fixture
def write_post(content: Path) -> WritePost:
    """Write a post file into the content folder: `write_post("2026-01-01-x.md", body, **meta)`."""

    def write(name: str, body: str = "A first paragraph of the story.", **meta: object) -> Path:
        meta.setdefault("title", "A headline")
        meta.setdefault("date", "2026-11-20T08:00:00Z")
        path = content / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(post_text(body, **meta), encoding="utf-8")
        return path

    return write
