"""Liquid that Jekyll's plugins would handle, and Liquid that cannot be parsed at all."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.posts.jekyll import has_liquid, render_liquid, strip_liquid
from bot.posts.jekyll.config import config_from_mapping

SITE = config_from_mapping({"url": "https://example.org", "baseurl": "/blog", "title": "Desk"})


def test_text_without_liquid_is_returned_as_it_is() -> None:
    text = "Plain {text} with braces."
    assert not has_liquid(text)
    assert render_liquid(text, SITE) is text


def test_site_and_page_variables_and_jekyll_filters() -> None:
    text = "{{ site.title }} at {{ site.url }}{{ site.baseurl }}: {{ page.title | upcase }}"
    assert render_liquid(text, SITE, {"title": "news"}) == "Desk at https://example.org/blog: NEWS"
    assert render_liquid("{{ '/x' | absolute_url }}", SITE) == "https://example.org/blog/x"


def test_tags_of_plugins_and_includes_are_removed_and_blocks_keep_their_words() -> None:
    text = (
        "A {% include figure.html src='x.jpg' %}B {% youtube abc123 %}"
        "{% details Summary %}inner words{% enddetails %} {% seo %}C"
    )
    assert render_liquid(text, SITE) == "A B inner words C"


def test_highlight_becomes_a_code_block() -> None:
    text = "{% highlight python linenos %}\nprint(1)\n{% endhighlight %}"
    assert render_liquid(text, SITE) == "\n```python\n\nprint(1)\n\n```\n"


def test_post_url_and_link_use_the_known_addresses_or_nothing() -> None:
    urls = {"2020-01-01-top": "/2020/top/", "_posts/2020-01-01-top.md": "/2020/top/"}
    text = (
        "[a]({% post_url 2020-01-01-top %}) [b]({% link _posts/2020-01-01-top.md %}) "
        "[c]({% post_url x %})"
    )
    assert (
        render_liquid(text, SITE, post_urls=urls)
        == "[a](/blog/2020/top/) [b](/blog/2020/top/) [c]()"
    )


def test_unparsable_liquid_is_stripped_and_raw_text_kept() -> None:
    assert render_liquid("Broken {{ output and {% if %} more", SITE) == "Broken "
    assert render_liquid("{% raw %}{{ shown }}{% endraw %} and {{ broken", SITE) == (
        "{{ shown }} and "
    )
    assert strip_liquid("{% comment %}gone{% endcomment %}a{{ b }}c{% d %}") == "ac"


def test_rendering_is_bounded() -> None:
    looping = "{% for i in (1..100000000) %}x{% endfor %}done"
    assert len(render_liquid(looping, SITE)) < 20_000
    doubling = (
        "{% assign a = 'xx' %}{% for i in (1..60) %}{% assign a = a | append: a %}{% endfor %}"
    )
    assert len(render_liquid(doubling + "{{ a }}", SITE)) < 2_000_000


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(["{{", "}}", "{%", "%}", "-", " ", "if", "endif", "for", "x", "raw"]),
        max_size=40,
    ).map("".join)
)
def test_any_text_renders_without_raising(text: str) -> None:
    assert isinstance(render_liquid(text, SITE), str)
    assert isinstance(strip_liquid(text), str)
