"""Liquid in excerpts against Jekyll: what a reader would read on the site, newsbot reads too."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from markdown_it import MarkdownIt

from bot.posts.jekyll import find_posts, load_config, read_site_post, render_liquid
from tests.posts.jekyll.oracle import build_site

LIQUID_POSTS = {
    "_posts/2020-01-01-top.md": "---\ntitle: Top\n---\nThe first post.\n",
    "news/_posts/2020-01-02-nested.md": "---\ntitle: Nested\n---\nA nested post.\n",
    "_posts/2020-02-01-site.md": (
        "---\n---\nRead [the docs]({{ site.baseurl }}/docs/) at {{ site.url }} now.\n\nMore.\n"
    ),
    "_posts/2020-02-02-assign.md": (
        '---\n---\n{% assign version = "1.2" %}Version {{ version }} is out.\n\nMore.\n'
    ),
    "_posts/2020-02-03-filters.md": (
        '---\n---\nSee [about]({{ "/about/" | relative_url }}) and '
        '[full]({{ "about/" | absolute_url }}) or {{ "Hello World" | slugify }}.\n\nMore.\n'
    ),
    "_posts/2020-02-04-page.md": (
        "---\ntitle: Paged\n---\nThis is {{ page.title }} with {{ release.version }} nothing"
        " from {{ page.date | date: '%Y' }}.\n\nMore.\n"
    ),
    "_posts/2020-02-05-post-url.md": (
        "---\n---\nSee [the first]({% post_url 2020-01-01-top %}) and "
        "[the nested]({% post_url news/2020-01-02-nested %}).\n\nMore.\n"
    ),
    "_posts/2020-02-06-raw.md": "---\n---\n{% raw %}Keep {{ this }}{% endraw %} as is.\n\nMore.\n",
    "_posts/2020-02-07-comment.md": (
        "---\n---\n{% comment %}hidden{% endcomment %}Visible text.\n\nMore.\n"
    ),
    "_posts/2020-02-08-highlight.md": (
        "---\n---\n{% highlight ruby %}\nputs 1\n{% endhighlight %}\n"
    ),
    "_posts/2020-02-09-capture.md": (
        "---\n---\n{% capture x %}captured{% endcapture %}Got {{ x }} here.\n\nMore.\n"
    ),
    "_posts/2020-02-10-branch.md": (
        '---\ntitle: If\n---\n{% if page.title == "If" %}Yes{% else %}No{% endif %} branch.\n'
    ),
    "_posts/2020-02-11-loop.md": "---\n---\n{% for i in (1..3) %}{{ i }}{% endfor %} loop.\n",
    "_posts/2020-02-12-reference.md": (
        "---\n---\nThe [guide][1] explains it.\n\nMore.\n\n[1]: {{ site.baseurl }}/guide/\n"
    ),
}


class _Reading(HTMLParser):
    """The words and link targets of an HTML fragment, as a reader meets them."""

    def __init__(self) -> None:
        super().__init__()
        self.words: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.links.extend(value or "" for name, value in attrs if name == "href")

    def handle_data(self, data: str) -> None:
        self.words.extend(data.split())


def reading(html: str) -> tuple[list[str], list[str]]:
    parser = _Reading()
    parser.feed(html)
    return parser.words, parser.links


def test_liquid_in_excerpts_reads_as_on_the_jekyll_site(jekyll: str, tmp_path: Path) -> None:
    root = tmp_path / "site"
    config_values = {"url": "https://example.org", "baseurl": "/blog", "permalink": "pretty"}
    rows = build_site(root, config_values, LIQUID_POSTS)
    config = load_config(root)
    files = list(find_posts(root, config))
    posts = [read_site_post(config, file, file.path.read_text()) for file in files]
    post_urls = {
        key: post.url or ""
        for post in posts
        for key in (
            post.file.basename_without_ext,
            "/".join((*post.file.folder_categories, post.file.basename_without_ext)),
        )
    }
    markdown = MarkdownIt("commonmark", {"html": True})
    for post in posts:
        if not post.file.site_path.startswith("_posts/2020-02"):
            continue
        source = render_liquid(post.excerpt, config, post.page_variables(), post_urls=post_urls)
        expected = reading(rows[post.file.relative_path]["excerpt_html"])
        assert reading(markdown.render(source)) == expected, (post.file.site_path, source)
