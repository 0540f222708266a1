"""HTML made safe to hand to BeautifulSoup and markdownify: linear to read, and shallow.

Two things in the standard library's `html.parser` (which BeautifulSoup and markdownify use)
make hostile HTML costly. Unterminated constructs (`<!--`, `<a`, `&#` with no end in sight) are
searched for their end again and again, which is quadratic: 64 KB of `<!--` takes seconds, and
some declarations (`<![<![`) raise `AssertionError`. And markdownify walks the tree recursively,
so HTML nested a few thousand levels deep raises `RecursionError`.

`tidy_html` rewrites the HTML in one linear pass into a form `html.parser` reads in one linear
pass too: every `<` starts a complete tag (else it is written `&lt;`), every `&` starts an entity
(else `&amp;`), attributes are quoted, comments, declarations, processing instructions and the
contents of `<script>` and `<style>` are dropped (markdownify drops them anyway). On the way it
follows the nesting as BeautifulSoup will build it (void elements stay empty, an end tag closes
up to its start tag, a stray end tag is ignored), and refuses it, or flattens it, past a depth.
"""

from __future__ import annotations

import html
import re

from bot.errors import PostError
from bot.posts.limits import MAX_HTML_DEPTH

#: Elements that never hold anything (BeautifulSoup's empty-element tags).
VOID = frozenset(
    ("area", "base", "basefont", "bgsound", "br", "col", "command", "embed", "frame", "hr",
     "image", "img", "input", "isindex", "keygen", "link", "menuitem", "meta", "nextid", "param",
     "source", "spacer", "track", "wbr")
)  # fmt: skip
#: Elements whose content `html.parser` reads as raw text up to their end tag.
RAW_TEXT = ("script", "style")

_TAG_NAME = re.compile(r"[A-Za-z][A-Za-z0-9:_-]*")
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z_:][A-Za-z0-9_:.-]*")
_EQUALS = re.compile(r"\s*=\s*")
_UNQUOTED = re.compile(r"[^\s>]*")
# An `&` that does not start a character reference is text; the rest are left for the parser.
_STRAY_AMPERSAND = re.compile(
    r"&(?!#[0-9]{1,7};?|#[xX][0-9a-fA-F]{1,6};?|[A-Za-z][A-Za-z0-9]{0,31};?)"
)


def tidy_html(source: str, *, max_depth: int = MAX_HTML_DEPTH, flatten: bool = False) -> str:
    """`source` rewritten as described above; past `max_depth` levels, `PostError`, or with
    `flatten` the deeper tags are left out (their text stays)."""
    out: list[str] = []
    stack: list[str] = []
    lower = source.lower()
    last_gt = source.rfind(">")
    gt = -1  # the first ">" at or after the position being read, once looked for
    end = len(source)
    i = 0
    while i < end:
        lt = source.find("<", i)
        if lt < 0 or lt > last_gt:
            out.append(_text(source[i:]))  # no tag can end after here: the rest is text
            break
        out.append(_text(source[i:lt]))
        i = lt
        if gt < i:
            gt = source.find(">", i)
        after = source[i + 1 : i + 2]
        if source.startswith("<!--", i):
            close = source.find("-->", i + 4)
            if close < 0:
                break  # an unterminated comment hides the rest, as in a browser
            i = close + 3
        elif after in ("!", "?"):  # a declaration, CDATA or a processing instruction
            i = gt + 1
        elif after == "/":
            name = _TAG_NAME.match(source, i + 2)
            if name is not None:
                out.append(_close(stack, name.group().lower()))
            i = gt + 1
        elif (name := _TAG_NAME.match(source, i + 1)) is None or source[
            name.end() : name.end() + 1
        ] not in ("", ">", "/", " ", "\t", "\n", "\r", "\f"):
            out.append("&lt;")
            i += 1
        else:
            tag = name.group().lower()
            inside = source[name.end() : gt]
            i = gt + 1
            if tag in RAW_TEXT:
                close = lower.find("</" + tag, i)
                close_gt = source.find(">", close) if close >= 0 else -1
                if close_gt < 0:
                    break  # everything after is script or style: nothing a reader sees
                i = close_gt + 1
                continue
            out.append(_open(stack, tag, inside, max_depth=max_depth, flatten=flatten))
    return "".join(out)


def _text(text: str) -> str:
    return _STRAY_AMPERSAND.sub("&amp;", text).replace("<", "&lt;")


def _open(stack: list[str], tag: str, inside: str, *, max_depth: int, flatten: bool) -> str:
    attributes = "".join(
        f' {name}="{html.escape(html.unescape(value), quote=True)}"'
        for name, value in _attributes(inside)
    )
    if tag in VOID:
        return f"<{tag}{attributes}>"
    if inside.rstrip().endswith("/"):
        return f"<{tag}{attributes}></{tag}>"
    if len(stack) >= max_depth:
        if flatten:
            return ""
        raise PostError(f"HTML is nested deeper than {max_depth} levels")
    stack.append(tag)
    return f"<{tag}{attributes}>"


def _close(stack: list[str], tag: str) -> str:
    """The end tag when its element is open (closing those opened inside it), else nothing."""
    if tag not in stack:
        return ""
    while stack.pop() != tag:
        pass
    return f"</{tag}>"


def _attributes(inside: str) -> list[tuple[str, str]]:
    """Name and value of each attribute; an unterminated quote runs to the end of the tag."""
    found: list[tuple[str, str]] = []
    at, end = 0, len(inside)
    while at < end:
        name = _ATTRIBUTE_NAME.search(inside, at)
        if name is None:
            break
        at = name.end()
        value = ""
        if (equals := _EQUALS.match(inside, at)) is not None:
            at = equals.end()
            if inside[at : at + 1] in ('"', "'"):
                close = inside.find(inside[at], at + 1)
                close = end if close < 0 else close
                value, at = inside[at + 1 : close], close + 1
            else:
                unquoted = _UNQUOTED.match(inside, at)
                assert unquoted is not None  # it matches the empty string at least
                value, at = unquoted.group(), unquoted.end()
        found.append((name.group().lower(), value))
    return found
