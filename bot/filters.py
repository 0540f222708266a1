"""A chat's word filters: `/mute word ...` keeps posts out, `/only word ...` lets only them in.

Matching is on whole words, case-insensitive (casefolded), against a post's headline, summary
and front matter `tags`; readers give plain words, never patterns, so no reader can make the
bot slow (the worry that keeps regular expressions out of other feed bots). The cost is linear
in the post's length: the post is read once into a set of words (`PostWords`), and each of at
most `MOST_WORDS` filter words is then one set look-up, or one substring search:

- a word is a run of Unicode letters, digits and marks (`\\w`), so "Covid-19" is the words
  "covid" and "19", and a filter word of several parts ("covid-19") matches them side by side;
- Thai, Lao, Khmer, Burmese, Chinese and Japanese write words without spaces between them, so
  no tokeniser without a dictionary finds their word boundaries. For a filter word in those
  scripts a substring of the casefolded text is the whole-word match newsbot can defend: the
  word as the reader typed it appears in the text. It may match inside a longer compound, which
  for these scripts is usually the same topic.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.posts import Post

#: Filter words per chat, muted and only together.
MOST_WORDS = 50
#: The longest filter word kept, in characters.
LONGEST_WORD = 64

_WORD = re.compile(r"\w+")
#: Scripts written without spaces between words (Thai, Lao, Myanmar, Khmer, CJK, kana).
_UNSPACED = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]"
)


@dataclass(frozen=True, slots=True)
class WordFilter:
    """What a chat muted and what alone it lets in; both empty lets everything in."""

    muted: tuple[str, ...] = ()
    only: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """Whether it lets every post in."""
        return not self.muted and not self.only

    def admits(self, post: Post) -> bool:
        """Whether a post reaches the chat: no muted word in it and, when there are `only`
        words, at least one of them."""
        if self.empty:
            return True
        words = PostWords.of(post)
        if any(words.has(word) for word in self.muted):
            return False
        return not self.only or any(words.has(word) for word in self.only)


class PostWords:
    """A post's text read once: its words as a set, as a spaced sequence, and casefolded."""

    __slots__ = ("_folded", "_joined", "_set")

    def __init__(self, text: str) -> None:
        self._folded = text.casefold()
        tokens = _WORD.findall(self._folded)
        self._set = frozenset(tokens)
        self._joined = f" {' '.join(tokens)} "

    @classmethod
    def of(cls, post: Post) -> PostWords:
        """The words of a post's headline, summary and tags, read once for all the chats a
        broadcast checks them for (`Post` is a frozen value: a changed post is another key)."""
        return _words_of(post)

    def has(self, word: str) -> bool:
        """Whether the (normalised) filter word is in the text as a whole word."""
        if _UNSPACED.search(word):
            return word in self._folded
        parts = _WORD.findall(word)
        if len(parts) == 1:
            return parts[0] in self._set
        return bool(parts) and f" {' '.join(parts)} " in self._joined


@functools.lru_cache(maxsize=256)
def _words_of(post: Post) -> PostWords:
    return PostWords("\n".join((post.title, post.summary_text, *post.tags)))


def normalise(word: str) -> str | None:
    """A reader's filter word as it is kept: casefolded, without a leading `#`; None for one
    with no letter or digit in it."""
    word = word.strip().lstrip("#").casefold()[:LONGEST_WORD]
    return word if _WORD.search(word) else None


@dataclass(frozen=True, slots=True)
class Added:
    """Filter words after adding some: the new list, and what did not fit or was no word."""

    words: tuple[str, ...]
    refused: tuple[str, ...] = ()
    full: bool = False
    """Whether words were left out because the chat has `MOST_WORDS` already."""


def add_words(current: Sequence[str], other: Sequence[str], new: Iterable[str]) -> Added:
    """`current` with the `new` words, keeping the chat's words (`current` and `other`, the
    other list) to `MOST_WORDS` in all."""
    words = list(current)
    refused: list[str] = []
    full = False
    for raw in new:
        word = normalise(raw)
        if word is None:
            refused.append(raw)
            continue
        if word in words:
            continue
        if len(words) + len(other) >= MOST_WORDS:
            full = True
            break
        words.append(word)
    return Added(tuple(words), tuple(refused), full)
