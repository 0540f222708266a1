"""Post addresses against Jekyll: built-in styles, custom patterns, front matter permalinks,
`baseurl`, slugs of unusual titles, and folders above `_posts`."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.posts.jekyll.conftest import CheckSite
from tests.posts.jekyll.oracle import build_site, newsbot_view

POSTS = {
    "_posts/2014-09-08-hello-world.md": "---\ntitle: Hello\n---\nFirst.\n",
    "_posts/2017-2-5-unpadded-name.md": "---\ntitle: Unpadded\n---\nA post.\n",
    "news/_posts/2015-01-01-in-a-folder.md": "---\ntitle: Folder\n---\nNews.\n",
    "news/world/_posts/2015-01-02-two-folders.md": "---\ncategories: [Asia]\n---\nDeep.\n",
    "_posts/2016-03-04-Ünïcode, Title! (draft) & more.md": "---\n---\nOdd name.\n",
    "_posts/2016-03-05-custom-slug.md": '---\nslug: "Café au lait: 2 × more!"\n---\nSlug.\n',
    "_posts/2016-03-06-own-permalink.md": "---\npermalink: /custom/:year/:title/\n---\nOwn.\n",
    "_posts/2016-03-07-fixed.md": "---\npermalink: /fixed/page.html\n---\nFixed.\n",
    "_posts/2016-03-08-spaced.md": (
        "---\ncategories: World News\ncategory: Asia Pacific\n---\nSpaced categories.\n"
    ),
    "_posts/2016-03-09-symbols.md": (
        '---\ntitle: "C# & .NET"\ncategories: ["C#", "Q&A", "日本", "50%"]\n---\nSymbols.\n'
    ),
    "_posts/2016-03-10-number-category.md": "---\ncategory: 2013\n---\nNumbers.\n",
    "_posts/2016-12-31-year-end.md": "---\ndate: 2016-12-31 23:30:00 -0800\n---\nLate.\n",
    "_posts/2021-01-03-iso-week.md": "---\n---\nISO week 53 of 2020.\n",
    "_posts/2016-03-11-dots...md": "---\n---\nTrailing dots in the name.\n",
    "_posts/2016-03-12-upper-CASE.markdown": "---\n---\nUpper case name.\n",
    "_posts/2016-03-13-page.html": "---\ntitle: An HTML post\n---\n<p>HTML body.</p>\n",
}

STYLES = ["date", "pretty", "ordinal", "weekdate", "none"]
PATTERNS = [
    "/:categories/:year/:month/:day/:title:output_ext",
    "/:short_year/:i_month/:i_day/:hour-:minute-:second/:slug",
    "/:year/:month_:day/:name/",
    "/:w_year/:week/:w_day/:short_day/:long_day/:short_month/:long_month/:y_day/:title.html",
    "/archive/:slugified_categories/:collection/:path/",
]


@pytest.mark.parametrize("style", STYLES)
def test_built_in_permalink_styles_match_jekyll(check_site: CheckSite, style: str) -> None:
    published = check_site({"permalink": style, "url": "https://example.org"}, POSTS)
    assert len(published) == len(POSTS)


def test_custom_permalink_patterns_match_jekyll(check_site: CheckSite) -> None:
    """One site, one folder per pattern: `defaults` give each folder's posts its pattern."""
    files = {
        f"p{index}/{path}": text
        for index in range(len(PATTERNS))
        for path, text in POSTS.items()
        if "permalink:" not in text
    }
    defaults = [
        {"scope": {"path": f"p{index}"}, "values": {"permalink": pattern}}
        for index, pattern in enumerate(PATTERNS)
    ]
    config = {"permalink": PATTERNS[0], "url": "https://example.org", "defaults": defaults}
    published = check_site(config, files)
    assert published["p1/_posts/2014-09-08-hello-world.md"].url == "/14/9/8/00-00-00/hello-world"


def test_baseurl_and_url_make_the_absolute_address_as_jekyll_does(check_site: CheckSite) -> None:
    published = check_site({"url": "https://Example.org", "baseurl": "blog/"}, POSTS)
    hello = published["_posts/2014-09-08-hello-world.md"]
    assert hello.absolute_url == "https://example.org/blog/2014/09/08/hello-world.html"


def test_a_url_ending_in_a_slash_gives_no_double_slash_unlike_jekyll(
    jekyll: str, tmp_path: Path
) -> None:
    """Jekyll joins `url: https://example.org/` and the path into "https://example.org//...";
    newsbot drops the `url`'s trailing "/" so that readers get an address every server serves."""
    root = tmp_path / "site"
    files = {"_posts/2014-09-08-hello-world.md": "---\n---\nFirst.\n"}
    rows = build_site(root, {"url": "https://example.org/", "baseurl": "/blog"}, files)
    jekyll_link = rows["_posts/2014-09-08-hello-world.md"]["absolute_url"]
    assert jekyll_link == "https://example.org//blog/2014/09/08/hello-world.html"
    newsbot = newsbot_view(root)["_posts/2014-09-08-hello-world.md"]
    assert newsbot.absolute_url == "https://example.org/blog/2014/09/08/hello-world.html"


def test_collection_permalink_wins_over_the_site_style(check_site: CheckSite) -> None:
    config = {
        "url": "https://example.org",
        "permalink": "pretty",
        "collections": {"posts": {"permalink": "/p/:slug/"}},
    }
    published = check_site(config, POSTS)
    assert published["_posts/2014-09-08-hello-world.md"].url == "/p/hello-world/"


def test_defaults_give_permalinks_and_categories_by_path(check_site: CheckSite) -> None:
    config = {
        "url": "https://example.org",
        "defaults": [
            {"scope": {"path": ""}, "values": {"permalink": "/all/:title/"}},
            {"scope": {"path": "news", "type": "posts"}, "values": {"permalink": "/n/:title/"}},
            {"scope": {"path": "news/world"}, "values": {"categories": ["Default"]}},
        ],
    }
    published = check_site(config, POSTS)
    assert published["news/_posts/2015-01-01-in-a-folder.md"].url == "/n/in-a-folder/"
