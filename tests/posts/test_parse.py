"""Reading one post file: every rule of the newsroom's format, on real-shaped files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.errors import PostError
from bot.posts import Post, PostLibrary, Run, parse_post, read_post
from tests.helpers import SEED, WritePost, post_text

NOW = datetime(2026, 11, 25, tzinfo=UTC)


def parse(body: str, name: str = "2026-11-20-story.md", **meta: object) -> Post:
    meta.setdefault("date", "2026-11-20T08:00:00Z")
    meta.setdefault("title", "A headline")
    return parse_post(Path(name), post_text(body, **meta).encode())


# --- the seed post -----------------------------------------------------------------------------


def test_seed_post_reads_as_a_reader_would_see_it() -> None:
    post = read_post(SEED)
    assert post.id == "ART2611150812QX7ZRM"
    assert post.title == "Delta ferry service resumes after storm shut crossings for four days"
    assert post.summary_text.startswith("CAN THO — Ferry crossings on the lower delta resumed on")
    assert post.summary_text.endswith("citing two harbour officials.")
    assert Run("The River Courier", italic=True) in post.summary
    assert post.image == "https://images.example-news.com/2026/11/ferry-lead.jpg"
    assert post.url is not None and post.url.startswith("https://www.example-news.com/world/")
    assert [(c.name, c.key) for c in post.categories] == [("WORLD", "world")]
    assert post.language == "en"
    assert post.date == datetime(2026, 11, 15, 8, 12, 45, 250000, tzinfo=UTC)


# --- headline ----------------------------------------------------------------------------------


def test_title_from_front_matter_wins() -> None:
    assert parse("# Body heading\n\nText.", title="  Front   matter title ").title == (
        "Front matter title"
    )


def test_blank_title_falls_back_to_first_heading_with_text() -> None:
    post = parse("# \n\n## The real heading\n\nStory text that is long.", title="")
    assert post.title == "The real heading"


def test_blank_title_and_no_heading_uses_short_first_paragraph() -> None:
    post = parse("Short headline line\n\nThe story itself begins here.", title="")
    assert post.title == "Short headline line"
    assert post.summary_text == "The story itself begins here."


def test_long_first_paragraph_is_not_a_headline() -> None:
    with pytest.raises(PostError, match="no headline"):
        parse("word " * 60, title="")


# --- summary -----------------------------------------------------------------------------------


def test_summary_skips_images_and_their_repeated_captions() -> None:
    body = """
    ![Caption of the photo](https://img.example/a.jpg)

    Caption of the photo

    The first real paragraph.
    """
    post = parse(body)
    assert post.summary_text == "The first real paragraph."
    assert post.image == "https://img.example/a.jpg"


def test_description_is_used_when_it_is_an_editors_summary() -> None:
    post = parse("The paragraph says something else.", description="An editor's own summary.")
    assert post.summary == (Run("An editor's own summary."),)


def test_description_cut_from_the_paragraph_is_ignored() -> None:
    post = parse(
        "Troops entered the fight in Russia's war.",
        description="Troops entered the fight in Russia",
    )
    assert post.summary_text == "Troops entered the fight in Russia's war."


def test_description_stands_in_when_the_body_has_no_paragraph() -> None:
    post = parse("![only a picture](https://img.example/a.jpg)", description="Summary text")
    assert post.summary_text == "Summary text"


def test_inline_formatting_and_links_survive_hostile_ones_do_not() -> None:
    body = (
        "**Bold** and _italic_ and ~~gone~~ and `code`, a [safe link](https://ex.com/a) "
        "and a [bad one](javascript:alert(1)) <script>x</script>."
    )
    summary = parse(body).summary
    assert Run("Bold", bold=True) in summary
    assert Run("italic", italic=True) in summary
    assert Run("gone", strike=True) in summary
    assert Run("code", code=True) in summary
    assert Run("safe link", href="https://ex.com/a") in summary
    assert all(run.href is None or run.href.startswith("https://") for run in summary)
    assert "bad one" in "".join(r.text for r in summary)
    assert "<script>" not in "".join(r.text for r in summary)


# --- links and images --------------------------------------------------------------------------


def test_lead_image_falls_back_to_first_body_image_and_link_must_be_http() -> None:
    post = parse(
        "Text paragraph.\n\n![x](https://img.example/body.jpg)",
        image="/assets/local.jpg",
        origin_url="javascript:alert(1)",
    )
    assert post.image == "https://img.example/body.jpg"
    assert post.url is None


# --- dates -------------------------------------------------------------------------------------


def test_date_from_file_name_when_front_matter_has_none(content: Path) -> None:
    path = content / "2026-03-04-story.md"
    path.write_text("---\ntitle: T\n---\nBody text.\n", encoding="utf-8")
    assert read_post(path).date == datetime(2026, 3, 4, tzinfo=UTC)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-11-20 10:30:00", datetime(2026, 11, 20, 10, 30, tzinfo=UTC)),
        ("2026-11-20", datetime(2026, 11, 20, tzinfo=UTC)),
        ('"2026-11-20 10:30:00 +0700"', datetime(2026, 11, 20, 3, 30, tzinfo=UTC)),
        ("2026-11-20T10:30:00+07:00", datetime(2026, 11, 20, 3, 30, tzinfo=UTC)),
    ],
)
def test_dates_end_up_time_zone_aware(raw: str, expected: datetime) -> None:
    text = f"---\ntitle: T\ndate: {raw}\n---\nBody.\n"
    post = parse_post(Path("x.md"), text.encode())
    assert post.date.tzinfo is not None
    assert post.date == expected


def test_no_date_at_all_is_rejected() -> None:
    with pytest.raises(PostError, match="no date"):
        parse_post(Path("story.md"), b"---\ntitle: T\n---\nBody.\n")


def test_dates_keep_their_instant_whatever_the_zone() -> None:
    post = parse("B.", date="2026-11-20T10:00:00+07:00")
    assert post.date == datetime(2026, 11, 20, 10, tzinfo=timezone(timedelta(hours=7)))


def test_unpublished_and_future_posts_are_not_live() -> None:
    assert not parse("Body.", published=False).is_live(NOW)
    assert not parse("Body.", date="2030-01-01T00:00:00Z").is_live(NOW)
    assert not parse("Body.", retracted=True).is_live(NOW)
    assert parse("Body.").is_live(NOW)


# --- categories and ids ------------------------------------------------------------------------


def test_categories_from_list_string_and_single_name() -> None:
    assert [c.key for c in parse("B.", categories=["World", "Asia Pacific"]).categories] == [
        "world",
        "asia_pacific",
    ]
    assert [c.name for c in parse("B.", categories="world business").categories] == [
        "world",
        "business",
    ]
    single = parse("B.", category="Asia Pacific").categories
    assert [(c.name, c.key) for c in single] == [("Asia Pacific", "asia_pacific")]


def test_id_is_code_else_file_stem() -> None:
    assert parse("B.", code="ART1").id == "ART1"
    assert parse("B.", name="2026-11-20-my-story.md").id == "2026-11-20-my-story"


# --- file shapes -------------------------------------------------------------------------------


def test_bom_crlf_and_windows_encoding_are_read(content: Path) -> None:
    text = (
        '---\r\ntitle: "Caf\u00e9 owners\u2019 strike"\r\ndate: 2026-11-20\r\n---\r\nBody text.\r\n'
    )
    (content / "bom.md").write_bytes(b"\xef\xbb\xbf" + text.encode())
    (content / "cp.md").write_bytes(text.replace("title", "code: CP\ntitle").encode("cp1252"))
    library = PostLibrary(content)
    library.scan()
    assert library.rejected == ()
    assert {p.title for p in library.posts} == {"Café owners’ strike"}


def test_html_post_body_is_converted(write_post: WritePost) -> None:
    path = write_post(
        "2026-11-20-page.html",
        "<h2>Sub</h2><p>First <em>real</em> paragraph with <a href='https://ex.com'>a link</a>.</p>"
        "<script>alert(1)</script>",
    )
    post = read_post(path)
    assert post.summary_text == "First real paragraph with a link."
    assert Run("real", italic=True) in post.summary
    assert "alert" not in post.summary_text


# --- budgets -----------------------------------------------------------------------------------


def raw(front: str, body: str = "A paragraph.") -> bytes:
    return f"---\n{front}\ndate: 2026-11-20\n---\n\n{body}\n".encode()


def test_a_few_yaml_anchors_and_aliases_still_load() -> None:
    front = "desk: &desk World\ntitle: &t Headline\ncategories: [*desk, Asia]\ndescription: *t"
    post = parse_post(Path("a.md"), raw(front))
    assert post.title == "Headline"
    assert [c.name for c in post.categories] == ["World", "Asia"]


@pytest.mark.parametrize(
    ("front", "reason"),
    [
        ("a: &a x\ntitle: [" + ", ".join(["*a"] * 17) + "]", "more than 16 YAML aliases"),
        ("title: " + "[" * 33 + "]" * 33, "nested deeper than 32 levels"),
        ("title: T\ndescription: " + "x" * 70_000, "front matter is larger than 64 KB"),
        ("title: &t [*t]", "refers to itself"),
    ],
)
def test_front_matter_beyond_its_budget_is_refused(front: str, reason: str) -> None:
    with pytest.raises(PostError, match=reason):
        parse_post(Path("a.md"), raw(front))


@pytest.mark.parametrize(
    ("when", "loads"),
    [
        ("1969-12-31T23:59:59Z", False),
        ("1970-01-01T00:00:00Z", True),
        ("2099-12-31T23:59:59Z", True),
        ("2100-01-01T00:00:00Z", False),
    ],
)
def test_dates_load_from_1970_to_2099(when: str, loads: bool) -> None:
    if loads:
        assert parse("B.", date=when).date.year in (1970, 2099)
    else:
        with pytest.raises(PostError, match="is outside 1970-2099"):
            parse("B.", date=when)
    name = f"{when[:10]}-story.md"
    path = Path(name)
    text = post_text("Body.", title="T").encode()
    if loads:
        assert parse_post(path, text).date.year in (1970, 2099)
    else:
        with pytest.raises(PostError, match="is outside 1970-2099"):
            parse_post(path, text)


def test_a_paragraph_longer_than_a_card_is_read_only_as_far_as_a_card_shows() -> None:
    post = parse("*Word* and more. " * 2000)
    assert post.summary[0] == Run("Word", italic=True)
    assert post.summary_text.endswith(" …")
    assert 4096 < len(post.summary_text) < 8192


@pytest.mark.parametrize(("depth", "loads"), [(99, True), (101, False)])
def test_html_posts_may_nest_100_levels(depth: int, loads: bool) -> None:
    body = "<div>" * depth + "<p>Deep paragraph.</p>" + "</div>" * depth
    if loads:
        assert parse(body, name="2026-11-20-deep.html").summary_text == "Deep paragraph."
    else:
        with pytest.raises(PostError, match="HTML is nested deeper than 100 levels"):
            parse(body, name="2026-11-20-deep.html")
