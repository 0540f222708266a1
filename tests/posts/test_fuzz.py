"""Random post files: reading one returns a `Post` or raises `PostError`, never anything else,
and within a time bound; whatever loads renders into a card Telegram accepts.

Bounded to a few seconds in all: each property has a fixed number of examples and a deadline
per example (far above what any file should take, and far below what the hostile files of
`tests/hostile` took before they were bounded).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bs4 import BeautifulSoup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.errors import PostError
from bot.posts import Post, parse_post, tidy_html
from bot.posts.limits import MAX_HTML_DEPTH
from bot.render import CAPTION_LIMIT, TEXT_LIMIT, render
from tests.double import html_to_text, utf16_len

FUZZ = settings(
    max_examples=120,
    deadline=timedelta(seconds=2),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

_WORD = st.text(
    alphabet=st.one_of(
        st.sampled_from("abc XYZ 0123 -:,.'\"#&*!|>%@`{}[]()\\/<>~_=+?\t"),
        st.sampled_from("ไทย…😀\u0301\u200d\x00\x7f\ufeff"),
        st.characters(codec="utf-8", exclude_categories=("Cs",)),
    ),
    max_size=40,
)
_DATE = st.one_of(
    st.sampled_from(
        [
            "2026-11-20",
            "2026-11-20T08:00:00Z",
            "2024-11-06 10:30:00 +0700",
            "0001-01-01",
            "9999-12-31T23:59:59Z",
            "1969-12-31T23:59:59-01:00",
            "2026-02-30",
            "2026-11-20T25:00",
            "2026-11-20T08:00:00+99:00",
            "yesterday",
            "",
            "1e9999",
            "[2026, 11]",
        ]
    ),
    _WORD,
)
_VALUE = st.one_of(
    _WORD,
    _DATE,
    st.sampled_from(["true", "false", "null", "~", "0x1F", "1" * 5000, "-.inf", "&a x", "*a",
                     "[*a, *a]", "&a [x, *a]", "{k: v}", "!!binary aGk=", "!!python/none", "|",
                     ">-", "'unterminated", '"\\x41"', "[" * 50, "{" * 50]),
    st.lists(_WORD, max_size=5).map(lambda items: "[" + ", ".join(items) + "]"),
)  # fmt: skip
_KEY = st.sampled_from(
    ["title", "date", "categories", "category", "description", "image", "origin_url", "url",
     "code", "language", "lang", "published", "retracted", "breaking", "telegram_photo",
     "layout", "<<", "? ", "- ", ""]
)  # fmt: skip
_FRONT_MATTER = st.one_of(
    st.lists(st.tuples(_KEY, _VALUE), max_size=12).map(
        lambda pairs: "\n".join(f"{key}: {value}" for key, value in pairs)
    ),
    _WORD,
)
_MARKDOWN_PIECES = st.sampled_from(
    ["*", "**", "_", "__", "~~", "`", "```", "[", "]", "(", ")", "![", "](", "https://x.example/a",
     "javascript:alert(1)", "# ", "## ", "\n", "\n\n", "> ", "- ", "1. ", "    ", "|", "---",
     "===", "\\", "<", ">", "<div>", "</div>", "<b>", "<!--", "-->", "&#", "&amp;", "&", "[r]: ",
     "word", "Thai ไทย", "😀", "\u0301", " "]
)  # fmt: skip
_HTML_PIECES = st.sampled_from(
    ["<div>", "</div>", "<p>", "</p>", "<b>", "</i>", "<a href='https://x.example'>", "</a>",
     "<img src=https://x.example/i.png alt=x>", "<br/>", "<h1>", "</h1>", "<script>", "</script>",
     "<style>", "<!--", "-->", "<!", "<?", "<![CDATA[", "]]>", "<", ">", "&#", "&#x", "&amp",
     "&", "<a", "='", '"', "\n", "text", "ไทย", " ", "<table><tr><td>", "<ul><li>", "</li>"]
)  # fmt: skip


def _body(pieces: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Pieces joined, sometimes repeated into tens of kilobytes."""
    return st.builds(
        lambda parts, times: "".join(parts) * times,
        st.lists(pieces, max_size=60),
        st.sampled_from([1, 1, 1, 20, 500]),
    )


def _file(front: str, body: str) -> bytes:
    return f"---\n{front}\n---\n\n{body}\n".encode("utf-8", "surrogatepass")


def read(name: str, raw: bytes) -> Post | None:
    """The post, or None for a `PostError`; anything else fails the property."""
    try:
        post = parse_post(Path(name), raw)
    except PostError as exc:
        assert "\n" not in str(exc)
        return None
    for with_image in (True, False):
        message = render(post, zone=ZoneInfo("Asia/Bangkok"), with_image=with_image)
        markup = message.params["caption" if message.has_photo else "text"]
        shown, _ = html_to_text(markup)
        assert utf16_len(shown) <= (CAPTION_LIMIT if message.has_photo else TEXT_LIMIT)
    return post


@FUZZ
@given(front=_FRONT_MATTER)
def test_any_front_matter(front: str) -> None:
    read("2026-11-20-fuzz.md", _file(front, "A paragraph."))


#: A front matter that loads, so that the body is what varies.
_READABLE = st.builds(
    lambda title, extra: f"title: '{title}'\ndate: 2026-11-20\n{extra}",
    st.sampled_from(["", "A headline", "x" * 3000]),
    st.sampled_from(["", "description: A summary", "categories: [World, Asia]", "image: x"]),
)


@FUZZ
@given(front=_READABLE, body=_body(_MARKDOWN_PIECES))
def test_any_markdown(front: str, body: str) -> None:
    read("2026-11-20-fuzz.md", _file(front, body))


@FUZZ
@given(front=_READABLE, body=_body(_HTML_PIECES))
def test_any_html(front: str, body: str) -> None:
    read("2026-11-20-fuzz.html", _file(front, body))


@FUZZ
@given(raw=st.binary(max_size=2000), name=st.sampled_from(["a.md", "1-01-01-a.html", "x.markdown"]))
def test_any_bytes(raw: bytes, name: str) -> None:
    read(name, raw)
    read(name, b"---\ntitle: T\n---\n" + raw)


@FUZZ
@given(source=_body(_HTML_PIECES))
def test_tidy_html_is_never_deeper_than_its_limit(source: str) -> None:
    soup = BeautifulSoup(tidy_html(source, max_depth=MAX_HTML_DEPTH, flatten=True), "html.parser")
    # A tag's parents end with the soup itself; a void element may sit inside the deepest one.
    deepest = max((len(list(tag.parents)) - 1 for tag in soup.find_all(True)), default=0)
    assert deepest <= MAX_HTML_DEPTH
