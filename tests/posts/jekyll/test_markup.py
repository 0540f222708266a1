"""Kramdown markers, WordPress shortcodes, template-only paragraphs, HTML in front matter."""

from __future__ import annotations

from bot.posts.jekyll import is_template_only, plain_text, remove_attribute_lists, remove_shortcodes


def test_kramdown_attribute_lists_and_extensions_are_removed() -> None:
    assert remove_attribute_lists('[site](https://x.org){:target="_blank"} now') == (
        "[site](https://x.org) now"
    )
    assert remove_attribute_lists("A paragraph.\n{: .note #lead}\n\nNext.") == (
        "A paragraph.\n\nNext."
    )
    assert remove_attribute_lists("*word*{:.em} and {:toc} {:ref: .cls}") == "*word* and  "
    assert remove_attribute_lists('a {::comment}secret{:/comment}b {::options x="1" /}c') == (
        "a b c"
    )


def test_code_that_looks_like_braces_is_kept() -> None:
    code = "Ruby's {:a => 1} hash and Python's {x: y}"
    assert remove_attribute_lists(code) == code


def test_wordpress_media_shortcodes_go_with_their_captions() -> None:
    text = (
        '[caption id="attachment_1" align="alignnone" width="300"]<img src="a.jpg"/> '
        'The caption[/caption]The story starts here. [gallery ids="1,2"] [embed]https://v.example[/embed]'
    )
    assert remove_shortcodes(text) == "The story starts here.  "
    assert remove_shortcodes("A [link][1] and [caption] alone") == "A [link][1] and  alone"


def test_a_paragraph_of_template_code_only_is_not_a_summary() -> None:
    assert is_template_only("{% include image.html src='x.jpg' %}")
    assert is_template_only('{% assign v = "1" %}\n{{ site.data.banner }} {:.wide}')
    assert is_template_only("<div class='x'>{{ content }}</div> <!-- note -->")
    assert not is_template_only("{% assign v = 1 %}Version {{ v }} is out.")


def test_front_matter_text_is_decoded_and_stripped() -> None:
    assert plain_text("It&#39;s <a href='/x'>here</a>&nbsp;now") == "It's here now"
    assert plain_text("Line<br>break<p>para</p>") == "Line break para"
    assert plain_text("Show &lt;b&gt; literally {{ site.title }}") == "Show <b> literally"
    assert plain_text(2013) == "2013"
    assert plain_text(None) == "" and plain_text(["a"]) == "" and plain_text(True) == ""
