"""Rendering: the card's content, Telegram's HTML rules and its UTF-16 length limits."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.posts import Category, Post, Run, read_post
from bot.render import (
    CAPTION_LIMIT,
    ELLIPSIS,
    TEXT_LIMIT,
    render,
    shorten,
    split_text,
    utf16_len,
)
from tests.double import html_to_text
from tests.helpers import SEED

URL = "https://www.example-news.com/world/1/story"


def make_post(
    title: str = "Headline",
    summary: tuple[Run, ...] = (Run("Summary text."),),
    *,
    image: str | None = "https://img.example/a.jpg",
    url: str | None = URL,
    categories: tuple[Category, ...] = (Category("Asia Pacific", "asia_pacific"),),
) -> Post:
    return Post(
        id="P1",
        path=Path("p.md"),
        title=title,
        summary=summary,
        date=datetime(2026, 11, 20, 8, 5, tzinfo=UTC),
        categories=categories,
        url=url,
        image=image,
    )


def visible(markup: str) -> str:
    """What Telegram would show, raising if it would refuse the HTML."""
    text, _ = html_to_text(markup)
    return text


def test_seed_post_becomes_a_photo_with_caption_and_button() -> None:
    card = render(read_post(SEED))
    assert card.method == "sendPhoto"
    params = card.params
    assert params["photo"].endswith("/ferry-lead.jpg")
    assert params["parse_mode"] == "HTML"
    caption = params["caption"]
    assert "<b>Delta ferry service resumes after storm shut crossings for four days</b>" in caption
    assert "<i>The River Courier</i>" in caption
    assert "#world" in caption and "WORLD" in caption and "15 Nov 2026" in caption
    [[button]] = params["reply_markup"]["inline_keyboard"]
    assert button["text"] == "Read more" and button["url"].startswith(
        "https://www.example-news.com"
    )
    assert visible(caption) == card.text


def test_the_share_button_opens_the_inline_query_of_that_post_alone() -> None:
    post = make_post()
    [[read, share]] = render(post, share=True).params["reply_markup"]["inline_keyboard"]
    assert read["text"] == "Read more"
    assert share == {"text": "Share ↗", "switch_inline_query": f"post:{post.id}"}
    assert "reply_markup" in render(replace(post, url=None), share=True).params
    unshareable = replace(post, id="x" * 251)  # past what an inline query can carry
    [[only]] = render(unshareable, share=True).params["reply_markup"]["inline_keyboard"]
    assert only["text"] == "Read more"


def test_post_without_image_is_a_text_message_with_a_source_preview() -> None:
    card = render(make_post(image=None))
    assert card.method == "sendMessage"
    assert card.params["link_preview_options"] == {"url": URL, "prefer_large_media": True}
    assert card.text.splitlines() == [
        "Asia Pacific · 20 Nov 2026, 08:05 UTC",
        "Headline",
        "",
        "Summary text.",
        "",
        "example-news.com · #asia_pacific",
    ]


def test_post_without_link_has_no_button_and_no_preview() -> None:
    card = render(make_post(image=None, url=None))
    assert "reply_markup" not in card.params
    assert card.params["link_preview_options"] == {"is_disabled": True}


def test_text_version_and_cached_file_id() -> None:
    post = make_post()
    assert render(post, with_image=False).method == "sendMessage"
    assert render(post, image="FILEID").params["photo"] == "FILEID"


def test_dates_are_shown_in_the_newsrooms_zone_and_site_name_overrides() -> None:
    card = render(make_post(), zone=ZoneInfo("Asia/Bangkok"), source_name="Bangkok Post")
    assert "20 Nov 2026, 15:05 +07" in card.text
    assert "Bangkok Post · #asia_pacific" in card.text


def test_a_date_only_post_shows_its_day_and_no_invented_time() -> None:
    bangkok = datetime(2026, 11, 20, tzinfo=ZoneInfo("Asia/Bangkok"))  # the site's midnight
    post = replace(make_post(), date=bangkok, has_time=False)
    header = render(post, zone=ZoneInfo("America/New_York")).text.splitlines()[0]
    assert header == "Asia Pacific · 20 Nov 2026"  # not 19 Nov (New York), not "00:00 UTC"
    timed = render(replace(post, has_time=True), zone=ZoneInfo("America/New_York"))
    assert timed.text.splitlines()[0] == "Asia Pacific · 19 Nov 2026, 12:00 EST"
    assert post.card_digest != replace(post, has_time=True).card_digest


def test_a_flat_post_dated_without_a_time_is_date_only(tmp_path: Path) -> None:
    path = tmp_path / "2026-11-20-story.md"
    path.write_text("---\ntitle: Story\ndate: 2026-11-20\n---\nWords.\n", encoding="utf-8")
    post = read_post(path)
    assert not post.has_time and render(post).text.splitlines()[0] == "20 Nov 2026"
    path.write_text("---\ntitle: Story\n---\nWords.\n", encoding="utf-8")
    assert not read_post(path).has_time  # the file name's date
    assert read_post(SEED).has_time


def test_every_piece_of_text_is_escaped() -> None:
    post = make_post(
        title="<script>alert(1)</script> & co",
        summary=(Run("a < b && c > d", bold=True, href='https://ex.com/?q="x"&y=<z>'),),
    )
    card = render(post)
    caption = card.params["caption"]
    assert "<script>" not in caption
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in caption
    assert 'href="https://ex.com/?q=&quot;x&quot;&amp;y=&lt;z&gt;"' in caption
    assert visible(caption) == card.text


def test_long_summary_is_cut_at_a_word_with_an_ellipsis() -> None:
    words = " ".join(f"word{i}" for i in range(600))
    card = render(make_post(summary=(Run(words),)))
    assert utf16_len(card.text) <= CAPTION_LIMIT
    summary_line = card.text.split("\n\n")[1]
    assert summary_line.endswith("…")
    assert summary_line[:-1].split()[-1].startswith("word")  # a whole word before the ellipsis
    assert words.startswith(summary_line[:-1])
    assert "example-news.com" in card.text  # the link survives


def test_cut_never_splits_a_surrogate_pair_or_a_formatted_run() -> None:
    runs = (Run("😀" * 10, bold=True), Run(" tail"))
    shortened = shorten(runs, 8)
    assert shortened == (Run("😀" * 3, bold=True), Run(ELLIPSIS))
    assert utf16_len("".join(r.text for r in shortened)) <= 8


def test_thai_without_spaces_is_cut_between_characters_not_marks() -> None:
    thai = "ผู้ใหญ่บ้านประกาศ" * 20  # combining marks throughout
    [run, ellipsis] = shorten((Run(thai),), 30)
    assert ellipsis.text == ELLIPSIS
    assert thai.startswith(run.text)
    # The character after the cut is a base character, not a mark left behind.
    assert not ("\u0e31" <= thai[len(run.text)] <= "\u0e3a" or thai[len(run.text)] >= "\u0e47")


def test_huge_title_is_shortened_but_the_card_stays_whole() -> None:
    card = render(make_post(title="Very long headline " * 200))
    assert utf16_len(card.text) <= CAPTION_LIMIT
    assert visible(card.params["caption"]) == card.text
    assert card.text.rstrip().endswith("#asia_pacific")


def test_formatting_stops_before_telegrams_entity_limit() -> None:
    runs = tuple(Run(f"w{i} ", bold=i % 2 == 0) for i in range(300))
    card = render(make_post(summary=runs, image=None))
    _, entities = html_to_text(card.params["text"])
    assert len(entities) <= 100


# --- properties --------------------------------------------------------------------------------

_text = st.text(
    alphabet=st.one_of(
        st.sampled_from("<>&\"' \n\t…—"),
        st.sampled_from("😀🇹🇭👨‍👩‍👧"),
        st.characters(min_codepoint=0x0E01, max_codepoint=0x0E5B),  # Thai
        st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
    ),
    max_size=800,
)
_runs = st.lists(
    st.builds(
        Run,
        text=_text,
        bold=st.booleans(),
        italic=st.booleans(),
        code=st.booleans(),
        href=st.sampled_from([None, URL, "https://ex.com/?a=1&b=<2>"]),
    ),
    max_size=12,
).map(tuple)


@settings(max_examples=150, deadline=None)
@given(title=_text.filter(lambda t: t.strip()), summary=_runs, image=st.booleans())
def test_any_post_fits_telegrams_limits_and_parses(
    title: str, summary: tuple[Run, ...], image: bool
) -> None:
    post = make_post(title=" ".join(title.split()) or "T", summary=summary,
                     image="https://img.example/a.jpg" if image else None)  # fmt: skip
    card = render(post)
    markup = card.params["caption" if image else "text"]
    limit = CAPTION_LIMIT if image else TEXT_LIMIT
    shown = visible(markup)  # raises if Telegram would refuse the HTML
    assert utf16_len(shown) <= limit
    assert shown.strip() == card.text.strip()
    assert URL in markup  # the source link always survives
    assert "<b>" in markup  # so does the (perhaps shortened) title


@settings(max_examples=200, deadline=None)
@given(runs=_runs, budget=st.integers(min_value=0, max_value=1200))
def test_shorten_keeps_a_prefix_within_budget(runs: tuple[Run, ...], budget: int) -> None:
    plain = "".join(r.text for r in runs)
    shortened = shorten(runs, budget)
    text = "".join(r.text for r in shortened)
    assert utf16_len(text) <= max(budget, 0) or shortened == runs
    if shortened != runs and shortened:
        assert text.endswith(ELLIPSIS)
        assert plain.startswith(text[: -len(ELLIPSIS)])


_LABEL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=63)
#: Host names up to about 6,000 characters (hypothesis draws short texts far more often).
_HOST = st.builds(lambda label, count: ".".join([label] * count), _LABEL, st.integers(1, 100))
_PIECE = st.text(
    alphabet=st.one_of(
        st.sampled_from("<>&\"' ·…"),
        st.sampled_from("😀🇹🇭"),
        st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
    ),
    max_size=30,
)
#: Names and headlines from empty to a few thousand characters.
_LONG = st.builds(lambda piece, count: piece * count, _PIECE, st.integers(0, 200))
_CATEGORIES = st.lists(
    st.builds(
        Category,
        name=_LONG,
        key=st.builds(
            lambda key, count: key * count,
            st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=32),
            st.integers(1, 10),
        ),
    ),
    max_size=5,
).map(tuple)


@settings(max_examples=120, deadline=None)
@given(
    host=_HOST,
    site=st.none() | _LONG,
    categories=_CATEGORIES,
    title=_LONG.filter(str.strip),
    summary=_runs,
    breaking=st.booleans(),
    image=st.booleans(),
    zone=st.sampled_from(["UTC", "Asia/Bangkok", "America/St_Johns", "Pacific/Kiritimati"]),
)
def test_every_part_of_a_card_counts_against_telegrams_limits(
    host: str,
    site: str | None,
    categories: tuple[Category, ...],
    title: str,
    summary: tuple[Run, ...],
    breaking: bool,
    image: bool,
    zone: str,
) -> None:
    post = replace(
        make_post(title=" ".join(title.split()), summary=summary, categories=categories,
                  image="https://img.example/a.jpg" if image else None),
        url=f"https://{host}/story",
        breaking=breaking,
    )  # fmt: skip
    message = render(post, zone=ZoneInfo(zone), source_name=site)
    markup = message.params["caption" if image else "text"]
    shown, entities = html_to_text(markup)  # raises if Telegram would refuse the HTML
    assert utf16_len(shown) <= (CAPTION_LIMIT if image else TEXT_LIMIT)
    assert len(entities) <= 100
    assert "<b>" in markup and 'href="https://' in markup  # the headline and the link stay


def test_a_very_long_host_is_cut_and_the_card_fits() -> None:
    host = ".".join(["very-long-label-" + "x" * 40] * 90) + ".example"
    message = render(make_post(url=f"https://{host}/story"))
    assert utf16_len(visible(message.params["caption"])) <= CAPTION_LIMIT
    assert "very-long-label-" in message.text and "…" in message.text


# --- plain answers longer than one message ---------------------------------------------------

answer_text = st.lists(
    st.sampled_from(["/world", "ผู้คน", "🇹🇭", "e\u0301", "a", " ", "\n", "\n\n", "x" * 300]),
    max_size=400,
).map("".join)


@settings(max_examples=150)
@given(text=answer_text, limit=st.sampled_from([8, 50, TEXT_LIMIT]))
def test_long_answers_are_cut_into_messages_telegram_accepts(text: str, limit: int) -> None:
    pieces = split_text(text, limit)
    assert pieces and all(utf16_len(piece) <= limit for piece in pieces)
    # Nothing is lost but the whitespace at the cuts, and no character loses its accent.
    assert "".join("".join(pieces).split()) == "".join(text.split())
    assert not any(piece[:1] == "\u0301" for piece in pieces)
    if text.strip():
        assert all(piece.strip() for piece in pieces)


def test_an_answer_of_nothing_but_spaces_stays_within_the_limit() -> None:
    assert split_text(" \n" * 30, 8) == [" \n \n \n \n"]


def test_long_answers_are_cut_at_line_breaks() -> None:
    lines = [f"/category_{n}" for n in range(800)]
    pieces = split_text("\n".join(lines))
    assert len(pieces) > 1
    assert [line for piece in pieces for line in piece.split("\n")] == lines
