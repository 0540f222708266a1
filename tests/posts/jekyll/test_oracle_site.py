"""Which files are posts, and their categories, titles and excerpts, against Jekyll."""

from __future__ import annotations

from tests.posts.jekyll.conftest import CheckSite

STRUCTURE = {
    "_posts/2020-01-01-top.md": "---\ntitle: Top\n---\nTop post.\n",
    "_posts/2020/2020-01-02-year-folder.md": "---\n---\nIn a folder inside _posts.\n",
    "_posts/2020/deeper/2020-01-03-deeper.md": "---\n---\nDeeper inside _posts.\n",
    "_posts/_hidden/2020-01-04-underscored-folder.md": "---\n---\nSkipped.\n",
    "_posts/a/_b/2020-01-05-inner-underscore.md": "---\n---\nRead by Jekyll.\n",
    "_posts/.dot/2020-01-06-dot-folder.md": "---\n---\nSkipped.\n",
    "_posts/_2020-01-07-underscored.md": "---\n---\nSkipped.\n",
    "_posts/2020-01-08-backup.md~": "---\n---\nSkipped.\n",
    "_posts/2020-01-09-not-markdown.txt": "---\n---\nNot an article.\n",
    "_posts/no-date-in-name.md": "---\n---\nNot a post.\n",
    "_posts/2020-01-10-no-front-matter.md": "Just a body, no front matter.\n",
    "_posts/2020-01-11-dots-close.md": "---\ntitle: Dots\n...\nClosed by dots.\n",
    "_posts/2020-01-12-Mixed-CASE_name.MD": "---\n---\nUpper-case extension.\n",
    "_posts/2020-01-13-custom.mdown": "---\n---\nNot in markdown_ext by default.\n",
    "_posts/2020-01-14-unpublished.md": "---\npublished: false\n---\nHidden.\n",
    "_drafts/2020-01-15-draft.md": "---\n---\nA draft.\n",
    "news/_posts/2020-02-01-news.md": "---\n---\nNews.\n",
    "news/sport/_posts/2020-02-02-sport.md": "---\ncategory: Football\n---\nSport.\n",
    "_private/_posts/2020-02-03-private.md": "---\n---\nSkipped folder.\n",
    ".git/_posts/2020-02-04-git.md": "---\n---\nSkipped folder.\n",
    "node_modules/pkg/_posts/2020-02-05-module.md": "---\n---\nExcluded by default.\n",
    "vendor/bundle/gem/_posts/2020-02-06-vendored.md": "---\n---\nExcluded by default.\n",
    "archive/_posts/2020-02-07-excluded.md": "---\n---\nExcluded by the config.\n",
    "my_posts_box/_posts/2020-02-08-quirk.md": "---\n---\nJekyll cuts at the first _posts.\n",
    "fr/_posts/2020-02-09-bonjour.md": "---\ntitle: Bonjour\n---\nFrench.\n",
}


def test_jekyll_and_newsbot_find_the_same_posts_with_the_same_categories(
    check_site: CheckSite,
) -> None:
    config = {"url": "https://example.org", "exclude": ["archive"]}
    published = check_site(config, STRUCTURE)
    assert published["news/sport/_posts/2020-02-02-sport.md"].categories == (
        "news",
        "sport",
        "Football",
    )
    # Jekyll also publishes files of other types in _posts; newsbot reads articles only.
    assert "_posts/2020-01-13-custom.mdown" not in published


def test_markdown_ext_decides_which_files_are_articles(check_site: CheckSite) -> None:
    files = {
        "_posts/2020-01-01-one.mdown": "---\n---\nOne.\n",
        "_posts/2020-01-02-two.txt": "---\n---\nTwo.\n",
        "_posts/2020-01-03-three.html": "---\n---\n<p>Three.</p>\n",
    }
    published = check_site({"markdown_ext": "mdown,txt"}, files)
    assert len(published) == 3


CATEGORIES = {
    "_posts/2020-03-01-string.md": "---\ncategories: world asia world\n---\nA.\n",
    "_posts/2020-03-02-list.md": "---\ncategories: [World, 2013, true, 1.5]\n---\nA.\n",
    "_posts/2020-03-03-singular.md": "---\ncategory: Asia Pacific\n---\nA.\n",
    "_posts/2020-03-04-number.md": "---\ncategory: 2013\n---\nA.\n",
    "_posts/2020-03-05-both.md": "---\ncategory: One\ncategories: [Two, Three]\n---\nA.\n",
    "_posts/2020-03-06-null.md": "---\ncategory:\ncategories: [Fallback]\n---\nA.\n",
    "region/_posts/2020-03-07-folder-and-list.md": "---\ncategories: [region, Extra]\n---\nA.\n",
    "Mixed/_posts/2020-03-08-case.md": "---\ncategories: [mixed, MIXED]\n---\nA.\n",
}


def test_categories_follow_jekyll(check_site: CheckSite) -> None:
    defaults = [{"scope": {"path": "region"}, "values": {"categories": ["FromDefaults"]}}]
    published = check_site({"defaults": defaults, "permalink": "/:categories/:title"}, CATEGORIES)
    assert published["_posts/2020-03-04-number.md"].categories == ("2013",)


EXCERPTS = {
    "_posts/2020-04-01-plain.md": "---\n---\nFirst paragraph.\n\nSecond paragraph.\n",
    "_posts/2020-04-02-blank-lines-after-front-matter.md": "---\n---\n\n\n\nFirst.\n\nSecond.\n",
    "_posts/2020-04-03-one-paragraph.md": "---\n---\nOnly one paragraph.\n",
    "_posts/2020-04-04-references.md": (
        "---\n---\nSee [the docs][1] and [this][2].\n\nMore.\n\n"
        "[1]: https://example.org/docs\n[2]: https://example.org/this\n[3]: https://unused.org\n"
    ),
    "_posts/2020-04-05-own-separator.md": (
        "---\nexcerpt_separator: <!--more-->\n---\nLead.\n\nStill lead.\n<!--more-->\nRest.\n"
    ),
    "_posts/2020-04-06-front-matter-excerpt.md": (
        "---\nexcerpt: The author's own words.\n---\nBody.\n\nMore.\n"
    ),
    "_posts/2020-04-07-liquid-block.md": (
        "---\n---\n{% if true %}\nInside a block.\n\nStill inside.\n{% endif %}\n\nAfter.\n"
    ),
    "_posts/2020-04-08-liquid-output.md": (
        "---\n---\nRead [the docs]({{ site.baseurl }}/docs) today.\n\nMore.\n"
    ),
    "_posts/2020-04-09-crlf-free.html": "---\n---\n<p>HTML lead.</p>\n\n<p>More.</p>\n",
    "_posts/2020-04-10-no-title-from-file.md": "---\n---\nNo title.\n",
    "_posts/2020-04-11-GPS-data--for-all-.md": "---\n---\nTitle from an odd file name.\n",
}


def test_excerpts_and_titles_follow_jekyll(check_site: CheckSite) -> None:
    published = check_site({"baseurl": "/blog"}, EXCERPTS)
    references = published["_posts/2020-04-04-references.md"].excerpt
    assert references.endswith("[1]: https://example.org/docs\n[2]: https://example.org/this")


def test_a_site_wide_excerpt_separator_follows_jekyll(check_site: CheckSite) -> None:
    published = check_site({"excerpt_separator": "<!--more-->"}, EXCERPTS)
    assert published["_posts/2020-04-01-plain.md"].excerpt == (
        "First paragraph.\n\nSecond paragraph.\n"
    )


def test_collections_dir_moves_the_posts(check_site: CheckSite) -> None:
    files = {
        "content/_posts/2020-05-01-inside.md": "---\n---\nInside.\n",
        "content/news/_posts/2020-05-02-nested.md": "---\n---\nNested.\n",
        "_posts/2020-05-03-outside.md": "---\n---\nOutside: not read.\n",
    }
    published = check_site({"collections_dir": "content"}, files)
    assert sorted(published) == ["_posts/2020-05-01-inside.md", "news/_posts/2020-05-02-nested.md"]
