"""The preview page without a browser: safe HTML, badges, one self-contained file, the command
line (`--html`, `--serve`), and 5,000 cards built quickly."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.posts import Category, Post, Rejection, Run
from bot.preview_page import badges, build_page, telegram_html
from bot.render import render
from tests.helpers import WritePost

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def post(number: int, **changes: object) -> Post:
    fields: dict[str, object] = {
        "id": f"P{number}",
        "path": Path(f"p{number}.md"),
        "title": f"Story number {number}",
        "summary": (Run("A first paragraph of the story."),),
        "date": NOW - timedelta(minutes=number),
        "categories": (Category("World", "world"),),
        "url": f"https://news.example/{number}",
        "image": f"https://img.example/{number}.jpg",
    }
    fields.update(changes)
    return Post(**fields)  # type: ignore[arg-type]


def page(posts: list[Post], rejected: tuple[Rejection, ...] = ()) -> str:
    return build_page(posts, rejected, card_of=render, now=NOW, zone=UTC)


# --- the card's HTML, made safe ------------------------------------------------------------------


def test_telegrams_tags_are_kept_and_everything_else_is_escaped() -> None:
    markup = (
        '<b>bold</b> <i>it</i> <a href="https://news.example/x">link</a> <code>x&lt;y</code> '
        '<script>alert(1)</script><img src=x onerror=alert(2)> <a href="javascript:alert(3)">'
        "bad</a> <u>u</u> <tg-spoiler>secret</tg-spoiler> #world"
    )
    safe = telegram_html(markup)
    assert "<b>bold</b> <i>it</i>" in safe
    assert '<a href="https://news.example/x" target="_blank" rel="noopener noreferrer">' in safe
    assert "<code>x&lt;y</code>" in safe
    assert "<script" not in safe and "<img" not in safe and "onerror" not in safe
    assert "alert(1)" in safe  # the script's text is shown as text, never run
    assert "javascript:" not in safe and "bad" in safe
    assert '<span class="spoiler">secret</span>' in safe
    assert '<span class="hashtag">#world</span>' in safe


def test_stray_and_unclosed_tags_cannot_unbalance_the_page() -> None:
    assert telegram_html("</b></i>text") == "text"
    assert telegram_html("<b><i>open") == "<b><i>open</i></b>"
    assert telegram_html('<a href="https://x.example/">a <b>b</a> c') == (
        '<a href="https://x.example/" target="_blank" rel="noopener noreferrer">a <b>b</b></a> c'
    )


def test_a_hostile_headline_is_text_on_the_page() -> None:
    html = page([post(1, title='Bridge <script>alert("x")</script> "reopens"')])
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html
    assert html.count("<script>") == 1  # the page's own


# --- badges --------------------------------------------------------------------------------------


def test_badges_name_each_problem() -> None:
    def names(p: Post) -> list[str]:
        return [badge.name for badge in badges(p, render(p), NOW)]

    assert names(post(1)) == []
    assert names(post(2, url=None)) == ["no link"]
    assert names(post(3, image=None)) == ["no image"]
    assert names(post(4, image=None, photo_id="AgAC")) == []
    assert names(post(5, summary=(Run("word " * 400),))) == ["summary cut"]
    assert names(post(6, retracted=True)) == ["not published"]
    assert names(post(7, date=NOW + timedelta(days=1))) == ["not published"]
    assert names(post(8, warnings=("date read from the file name",))) == ["warning"]


def test_the_page_holds_every_card_and_every_rejected_file() -> None:
    rejected = (Rejection(Path("broken.md"), "front matter is not valid YAML"),)
    html = page([post(1), post(2, url=None, image=None)], rejected)
    assert html.count("<article") == 3
    assert "broken.md" in html and "front matter is not valid YAML" in html
    assert '<option value="world">World (2)</option>' in html
    assert '<option value="!rejected">Rejected files (1)</option>' in html
    assert "2 cards · 1 with a badge · 1 files rejected" in html


def test_the_page_is_one_self_contained_file() -> None:
    html = page([post(n) for n in range(1, 4)])
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "<link" not in html and "@import" not in html and "url(" not in html
    assert re.findall(r"<script[^>]*>", html) == ["<script>"]  # inline, no src
    # Only the lead images point elsewhere, and only as images.
    addresses = set(re.findall(r'src="([^"]+)"', html))
    assert addresses == {f"https://img.example/{n}.jpg" for n in range(1, 4)}


def test_five_thousand_cards_are_built_quickly() -> None:
    posts = [post(n, categories=(Category(f"Desk {n % 7}", f"desk_{n % 7}"),)) for n in range(5000)]
    started = time.perf_counter()
    html = page(posts)
    assert time.perf_counter() - started < 10.0
    assert html.count("<article") == 5000


# --- the command line ----------------------------------------------------------------------------


def test_preview_html_writes_the_page(
    write_post: WritePost, content: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_post("a.md", title="Flood barrier approved", category="World", url="https://n.example/a")
    write_post("b.md", title="Market closes higher", category="Business")
    (content / "bad.md").write_text("---\ntitle: [unclosed\n---\nText\n", encoding="utf-8")
    out = tmp_path / "cards.html"
    assert main(["preview", "--html", str(out), str(content)]) == 0
    assert f"wrote {out} (2 cards, 1 rejected)" in capsys.readouterr().out
    html = out.read_text(encoding="utf-8")
    assert "Flood barrier approved" in html and "Market closes higher" in html
    assert "bad.md" in html
    assert main(["preview", "--html", str(out), "--category", "world", str(content)]) == 0
    html = out.read_text(encoding="utf-8")
    assert "Flood barrier approved" in html and "Market closes higher" not in html


def test_preview_serve_serves_the_page_on_loopback(write_post: WritePost, content: Path) -> None:
    write_post("a.md", title="Flood barrier approved", category="World")
    command = [sys.executable, "-m", "bot", "preview", "--serve", "--port", "0", str(content)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as server:
        try:
            assert server.stdout is not None
            line = server.stdout.readline()
            address = re.search(r"http://127\.0\.0\.1:\d+/", line)
            assert address is not None, line
            with urllib.request.urlopen(address.group(0), timeout=10) as answer:
                body = answer.read().decode("utf-8")
                assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
            assert "Flood barrier approved" in body
        finally:
            server.terminate()
            server.wait(10)
