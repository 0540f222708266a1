"""What authors' tools leave in a post's text that no reader should see.

Jekyll's Markdown (kramdown) reads attribute lists and extensions that other Markdown readers
show as text: `[link](url){:target="_blank"}`, a line `{: .note}`, `{::comment}...{:/comment}`.
Posts migrated from WordPress keep its shortcodes: `[caption id="..."]<img/> Caption[/caption]`.
Front matter text is often HTML (`&#39;`, `<a href=...>`). This module removes all of these from
source text, so the Markdown reader that follows sees only what Jekyll would show, and tells a
paragraph of nothing but template code (which is not a summary) from one with words.
"""

from __future__ import annotations

import html
import re

from .liquid import strip_liquid

#: A kramdown inline or block attribute list, or an attribute list definition:
#: `{:target="_blank"}`, `{: .note #id}`, `{:toc}`, `{:ref: .cls}`.
_ATTRIBUTE_LIST = re.compile(
    r"\{:(?:[ \t]*(?:[#.][\w-]+|[A-Za-z_][\w-]*=(?:\"[^\"\n]*\"|'[^'\n]*'|[^\s}]+)"
    r"|[A-Za-z_][\w-]*:?))*[ \t]*\}"
)
_ATTRIBUTE_LINE = re.compile(rf"^[ \t]*(?:{_ATTRIBUTE_LIST.pattern}[ \t]*)+\n?", re.MULTILINE)
_KRAMDOWN_COMMENT = re.compile(r"\{::comment\}.*?\{:/(?:comment)?\}", re.DOTALL)
_KRAMDOWN_EXTENSION = re.compile(r"\{::\w+(?:[ \t][^}\n]*)?/?\}|\{:/\w*\}")
#: WordPress shortcodes that wrap or stand for media, never for words of the article.
WORDPRESS_SHORTCODES = ("caption", "wp_caption", "gallery", "embed", "video", "audio", "playlist")
_SHORTCODE_NAMES = "|".join(WORDPRESS_SHORTCODES)
_SHORTCODE_BLOCK = re.compile(
    rf"\[({_SHORTCODE_NAMES})\b[^\]]*\].*?\[/\1\]", re.DOTALL | re.IGNORECASE
)
_SHORTCODE_SINGLE = re.compile(rf"\[/?(?:{_SHORTCODE_NAMES})\b[^\]]*\]", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")
_BREAKING_TAG = re.compile(r"<(?:br|/?p|/?div|/?li|/?h[1-6])\b[^>]*>", re.IGNORECASE)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_WORDS = re.compile(r"\w")


def remove_attribute_lists(text: str) -> str:
    """`text` without kramdown attribute lists, comments and extension markers.

    A line holding only attribute lists goes entirely, so it cannot split or end a paragraph.
    """
    if "{:" not in text:
        return text
    text = _KRAMDOWN_COMMENT.sub("", text)
    text = _KRAMDOWN_EXTENSION.sub("", text)
    text = _ATTRIBUTE_LINE.sub("", text)
    return _ATTRIBUTE_LIST.sub("", text)


def remove_shortcodes(text: str) -> str:
    """`text` without WordPress media shortcodes, their captions included."""
    if "[" not in text:
        return text
    text = _SHORTCODE_BLOCK.sub("", text)
    return _SHORTCODE_SINGLE.sub("", text)


def is_template_only(paragraph: str) -> bool:
    """Whether a paragraph's source is nothing but template code: Liquid, attribute lists,
    shortcodes, HTML tags and comments, without a word of its own."""
    rest = strip_liquid(paragraph)
    rest = remove_shortcodes(remove_attribute_lists(rest))
    rest = _TAG.sub("", _HTML_COMMENT.sub("", rest))
    return _WORDS.search(rest) is None


def plain_text(value: object) -> str:
    """Front matter text as a reader should see it: HTML entities decoded, tags and
    Liquid removed, whitespace collapsed. Non-text values give ""."""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return ""
    text = strip_liquid(str(value))
    text = _BREAKING_TAG.sub(" ", _HTML_COMMENT.sub("", text))
    text = _TAG.sub("", text)
    text = html.unescape(text)
    # Entities that decoded to tags ("&lt;b&gt;") are text the author meant to be read as such.
    return " ".join(text.split())
