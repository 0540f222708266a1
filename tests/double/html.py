"""Telegram's HTML parse mode and length limits, as the Bot API applies them to text.

A message is refused when Telegram could not parse its HTML ("can't parse entities: ...") or
when its visible text is too long; both are judged on the text Telegram would store, after
entities are resolved and surrounding whitespace trimmed, and lengths count UTF-16 code units.
The double applies exactly these checks, so a test passes only on messages Telegram would take.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import NoReturn

from tests.double.wire import JSONDict, bad_request

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024

_WHITESPACE = " \t\r\n\x0b\x0c"


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: the unit Telegram's limits and entity offsets use."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "code": "code",
    "pre": "pre",
}
_ALLOWED_TAGS = frozenset({*_SIMPLE_TAGS, "a", "blockquote", "tg-emoji"})
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class EntityParseError(Exception):
    """Raised by the HTML parser; becomes 400 "can't parse entities: ..."."""


@dataclass
class _OpenTag:
    name: str
    start: int
    attrs: dict[str, str | None]
    language: str | None = None


class _TelegramHTMLParser(HTMLParser):
    """Parses Telegram's HTML subset into visible text plus MessageEntity dicts.

    ``convert_charrefs=False`` makes HTMLParser hand over every ``&...`` and stray ``<``
    separately, so nothing Telegram would refuse slips through as plain data.
    """

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)
        # The trailing newline is a sentinel: without it HTMLParser.close() silently drops
        # the "&" of a trailing "&T" or "&amp". Telegram trims it away like any whitespace.
        self._source = source + "\n"
        self._line_starts = [0, *(m.end() for m in re.finditer("\n", source))]
        self._chunks: list[str] = []
        self._units = 0
        self._open: list[_OpenTag] = []
        self.entities: list[JSONDict] = []

    @property
    def text(self) -> str:
        """The visible text parsed so far."""
        return "".join(self._chunks)

    def parse(self) -> None:
        """Feeds the whole source; raises EntityParseError on the first problem."""
        empty_end_tag = self._source.find("</>")
        if empty_end_tag >= 0:  # HTMLParser silently skips "</>"; Telegram does not.
            self._fail(f"Empty end tag at byte offset {self._byte_offset(empty_end_tag)}")
        self.feed(self._source)
        self.close()
        if self._open:
            self._fail(f'Can\'t find end tag corresponding to start tag "{self._open[-1].name}"')

    def _index(self) -> int:
        line, column = self.getpos()
        return self._line_starts[line - 1] + column

    def _byte_offset(self, index: int | None = None) -> int:
        position = self._index() if index is None else index
        return len(self._source[:position].encode("utf-8", "surrogatepass"))

    def _fail(self, reason: str) -> NoReturn:
        raise EntityParseError(reason)

    def _append(self, text: str) -> None:
        self._chunks.append(text)
        self._units += utf16_len(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Opens an entity after checking the tag and its required attributes."""
        if tag not in _ALLOWED_TAGS:
            self._fail(f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}')
        attributes = dict(attrs)
        where = f"at byte offset {self._byte_offset()}"
        if tag == "span" and attributes.get("class") != "tg-spoiler":
            self._fail(f'Tag "span" must have class "tg-spoiler" {where}')
        if tag == "tg-emoji" and not attributes.get("emoji-id"):
            self._fail(f'Tag "tg-emoji" must have attribute "emoji-id" {where}')
        self._open.append(_OpenTag(tag, self._units, attributes))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Telegram has no void tags, so ``<br/>`` and ``<b/>`` are errors."""
        if tag not in _ALLOWED_TAGS:
            self._fail(f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}')
        self._fail(f'Self-closing tag "{tag}" at byte offset {self._byte_offset()}')

    def handle_endtag(self, tag: str) -> None:
        """Closes the innermost entity; tags must nest properly."""
        if not self._open:
            self._fail(f"Unexpected end tag at byte offset {self._byte_offset()}")
        current = self._open[-1]
        if current.name != tag:
            self._fail(
                f"Unmatched end tag at byte offset {self._byte_offset()}, "
                f'expected "</{current.name}>", found "</{tag}>"'
            )
        self._open.pop()
        parent = self._open[-1] if self._open else None
        if tag == "code" and parent is not None and parent.name == "pre":
            css = current.attrs.get("class") or ""
            if css.startswith("language-"):
                parent.language = css.removeprefix("language-")
            return  # <pre><code> is one pre entity in Telegram
        self._add_entity(current)

    def _add_entity(self, tag: _OpenTag) -> None:
        length = self._units - tag.start
        if length <= 0:
            return
        entity: JSONDict = {"offset": tag.start, "length": length}
        if tag.name == "a":
            href = tag.attrs.get("href")
            if not href:
                return
            entity.update(type="text_link", url=href)
        elif tag.name == "blockquote":
            expandable = "expandable" in tag.attrs
            entity["type"] = "expandable_blockquote" if expandable else "blockquote"
        elif tag.name == "tg-emoji":
            entity.update(type="custom_emoji", custom_emoji_id=tag.attrs["emoji-id"])
        else:
            entity["type"] = _SIMPLE_TAGS[tag.name]
            if tag.name == "pre" and tag.language:
                entity["language"] = tag.language
        self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        """Plain text; a ``<`` or ``&`` here is markup Telegram could not parse."""
        for char, what in (("<", "<"), ("&", "&")):
            position = data.find(char)
            if position < 0:
                continue
            offset = self._byte_offset(self._index() + position)
            follower = data[position + 1 : position + 2]
            if char == "<" and follower.isalpha():
                self._fail(f"Unclosed start tag at byte offset {offset}")
            if char == "<" and follower == "/":
                self._fail(f"Unclosed end tag at byte offset {offset}")
            self._fail(f'Unescaped "{what}" at byte offset {offset}; escape it as an entity')
        self._append(data)

    def handle_entityref(self, name: str) -> None:
        """Only &lt; &gt; &amp; &quot; exist in Telegram HTML, and the ``;`` is mandatory."""
        index = self._index()
        if self._source[index + 1 + len(name) : index + 2 + len(name)] != ";":
            self._fail(f'Unterminated entity "&{name}" at byte offset {self._byte_offset()}')
        if name not in _NAMED_ENTITIES:
            self._fail(f'Unsupported HTML entity "&{name};" at byte offset {self._byte_offset()}')
        self._append(_NAMED_ENTITIES[name])

    def handle_charref(self, name: str) -> None:
        """Numeric references (``&#39;``, ``&#x27;``) are fine if they name a code point."""
        index = self._index()
        if self._source[index + 2 + len(name) : index + 3 + len(name)] != ";":
            self._fail(f'Unterminated entity "&#{name}" at byte offset {self._byte_offset()}')
        try:
            code = int(name[1:], 16) if name[:1] in ("x", "X") else int(name)
        except ValueError:
            code = -1
        if not (0 < code <= 0x10FFFF) or 0xD800 <= code <= 0xDFFF:
            self._fail(f'Invalid character reference "&#{name};" at {self._byte_offset()}')
        self._append(chr(code))

    def handle_comment(self, data: str) -> None:
        """Comments are not part of Telegram's HTML."""
        self._fail(f"Unsupported HTML comment at byte offset {self._byte_offset()}")

    def handle_decl(self, decl: str) -> None:
        """Declarations are not part of Telegram's HTML."""
        self._fail(f"Unsupported declaration at byte offset {self._byte_offset()}")

    def handle_pi(self, data: str) -> None:
        """Processing instructions are not part of Telegram's HTML."""
        self._fail(f"Unsupported processing instruction at byte offset {self._byte_offset()}")

    def unknown_decl(self, data: str) -> None:
        """CDATA and friends are not part of Telegram's HTML."""
        self._fail(f"Unsupported declaration at byte offset {self._byte_offset()}")


def _trim(text: str, entities: list[JSONDict]) -> tuple[str, list[JSONDict]]:
    """Telegram strips leading/trailing whitespace; entity offsets move with it."""
    stripped = text.strip(_WHITESPACE)
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip(_WHITESPACE))])
    total = utf16_len(stripped)
    moved: list[JSONDict] = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            moved.append({**entity, "offset": start, "length": end - start})
    return stripped, moved


def html_to_text(source: str) -> tuple[str, list[JSONDict]]:
    """Visible text and entities of an HTML-formatted message, as Telegram would store them.

    Raises EntityParseError with a Telegram-style reason if Telegram would reject it.
    """
    parser = _TelegramHTMLParser(source)
    parser.parse()
    entities = sorted(parser.entities, key=lambda e: (e["offset"], -e["length"]))
    return _trim(parser.text, entities)


def formatted(raw: object, parse_mode: object, entities: object) -> tuple[str, list[JSONDict]]:
    """Visible text and entities for text/caption, or a Telegram-style 400."""
    text = "" if raw is None else str(raw)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise bad_request("text must be encoded in UTF-8") from exc
    mode = str(parse_mode or "").lower()
    if mode == "html":
        try:
            return html_to_text(text)
        except EntityParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from exc
    if mode not in ("", "markdown", "markdownv2"):
        raise bad_request(f"unsupported parse_mode {parse_mode}")
    # Markdown modes are not validated by the double; the text is stored as sent.
    given = [dict(e) for e in entities] if isinstance(entities, list) else []
    return _trim(text, given)


def text_of(params: JSONDict) -> tuple[str, list[JSONDict]]:
    """The text of sendMessage/editMessageText: formatted, not empty, within the limit."""
    text, entities = formatted(params.get("text"), params.get("parse_mode"), params.get("entities"))
    if not text:
        raise bad_request("message text is empty")
    if utf16_len(text) > TEXT_LIMIT:
        raise bad_request("message is too long")
    return text, entities


def caption_of(params: JSONDict) -> tuple[str, list[JSONDict]]:
    """A photo's caption: formatted and within the caption limit (it may be empty)."""
    text, entities = formatted(
        params.get("caption"), params.get("parse_mode"), params.get("caption_entities")
    )
    if utf16_len(text) > CAPTION_LIMIT:
        raise bad_request("message caption is too long")
    return text, entities
