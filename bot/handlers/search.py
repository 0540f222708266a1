"""Search and sharing: /search, words in a private chat, the result list's buttons, inline mode
(`@newsbot words` in any chat) and /share.

Each handler reads the update, lets `bot.search.Finder` decide, and says what comes back in the
reader's language.

- /search answers in the chat it was asked in, group or private; a private chat's plain words
  are a search too. The list is one message; its buttons turn the page in place.
- An inline query is answered with articles (the newest when nothing is typed yet), each
  posting the article's card into the chat where it was chosen; Telegram keeps an answer for
  `INLINE_CACHE_SECONDS`, shared by everyone who types the same words. A reader typing fast
  sends a query per keystroke: past `INLINE_LIMIT` in ten seconds their queries go unanswered.
- A chosen result (`chosen_inline_result`, sent by Telegram once inline feedback is switched
  on with @BotFather) is logged with the post and the query.
- /share, in reply to a card, answers with a button that opens the inline query of that one
  article (`post:<id>`), so the reader picks a chat and posts the card there.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
    Message,
    Update,
)

from bot.calls import edit_in_place, reply
from bot.handlers.deps import Deps
from bot.handlers.updates import Context, where
from bot.i18n import texts_for
from bot.posts import Post, safe_url
from bot.render import render, share_query
from bot.search import Finder, ResultList, read_button, result_list
from bot.subscriptions import Button
from bot.throttle import ReaderThrottle, Verdict

log = logging.getLogger(__name__)

INLINE_CACHE_SECONDS = 30
INLINE_LIMIT = 30
#: Telegram's limits on an inline result's id, title and description.
_RESULT_ID_BYTES = 64
_TITLE = 200
_DESCRIPTION = 300


class SearchCommands:
    """Search and sharing for one running bot."""

    def __init__(self, deps: Deps) -> None:
        self.finder = Finder(deps.store, deps.library)
        self._library = deps.library
        self._zone = deps.settings.zone
        self._source = deps.settings.site_name
        self._inline_throttle = ReaderThrottle(limit=INLINE_LIMIT, window=10.0)

    async def search(self, update: Update, context: Context) -> None:
        """`/search words`: the best matches, a page at a time."""
        await self._answer(update, " ".join(context.args or []))

    async def words(self, update: Update, _: Context) -> None:
        """Words in a private chat: searched as `/search words` would be."""
        message = update.message
        if message is not None and message.text:
            await self._answer(update, message.text)

    async def _answer(self, update: Update, words: str) -> None:
        _chat, message, texts = where(update)
        if message is None:
            return
        results = await self.finder.find(words, _now())
        key = self.finder.keys.key(" ".join(results.terms))
        page = result_list(results, texts, key, zone=self._zone)
        await reply(message, page.html, parse_mode="HTML", **_shown(page))

    async def page(self, update: Update, _: Context) -> None:
        """A press on "Next" or "Previous": the same message shows the other page."""
        query = update.callback_query
        if query is None:
            return
        texts = texts_for(query.from_user.language_code)
        pressed = read_button(query.data or "")
        words = None if pressed is None else self.finder.keys.words(pressed[0])
        if pressed is None or words is None or query.message is None:
            await query.answer(texts("search.expired"), show_alert=True)
            return
        results = await self.finder.find(words, _now(), page=pressed[1])
        page = result_list(results, texts, pressed[0], zone=self._zone)
        await query.answer()
        await edit_in_place(query.edit_message_text(page.html, parse_mode="HTML", **_shown(page)))

    async def inline(self, update: Update, _: Context) -> None:
        """`@newsbot words` in any chat: matching articles, or the newest with no words."""
        query = update.inline_query
        if query is None or self._inline_throttle.check(query.from_user.id) is not Verdict.ANSWER:
            return
        offset = int(query.offset) if query.offset.isdigit() else 0
        posts, next_offset = await self.finder.inline(query.query, _now(), offset=offset)
        await query.answer(
            [self._article(post) for post in posts],
            cache_time=INLINE_CACHE_SECONDS,
            next_offset=str(next_offset) if next_offset else "",
        )

    async def chosen(self, update: Update, _: Context) -> None:
        """A reader posted one of the inline results: noted, for the newsroom's records."""
        chosen = update.chosen_inline_result
        if chosen is not None:
            log.info(
                "inline result chosen result=%s user=%s query_length=%d",
                chosen.result_id,
                chosen.from_user.id,
                len(chosen.query),
            )

    async def share(self, update: Update, _: Context) -> None:
        """`/share` in reply to a card: a button that offers that article in any chat."""
        _chat, message, texts = where(update)
        if message is None:
            return
        card = message.reply_to_message
        if card is None or card.from_user is None or not card.from_user.is_bot:
            await reply(message, texts("search.share_how"))
            return
        post = self._card_post(card)
        query = None if post is None else share_query(post)
        if post is None or query is None:
            await reply(message, texts("search.share_unknown"))
            return
        button = InlineKeyboardButton(texts("search.share_button"), switch_inline_query=query)
        await reply(
            message,
            texts("search.share_prompt", headline=post.title),
            reply_markup=InlineKeyboardMarkup([[button]]),
        )

    # --- helpers --------------------------------------------------------------------------------

    def _card_post(self, card: Message) -> Post | None:
        """The live post a card of ours shows: by its "Read more" link, else its headline."""
        links = [
            button.url
            for row in (card.reply_markup.inline_keyboard if card.reply_markup else ())
            for button in row
            if button.url
        ]
        lines = (card.text or card.caption or "").split("\n")
        headline = lines[1] if len(lines) > 1 else None
        return self.finder.card_post(_now(), links=links, headline=headline)

    def _article(self, post: Post) -> InlineQueryResultArticle:
        """One inline result: the article's card, ready to post, with its lead image."""
        card = render(post, zone=self._zone, source_name=self._source, with_image=False)
        image = safe_url(post.image)
        preview = LinkPreviewOptions(
            url=image or post.url,
            is_disabled=not (image or post.url),
            prefer_large_media=True,
            show_above_text=image is not None,
        )
        markup = card.params.get("reply_markup")
        return InlineQueryResultArticle(
            id=_result_id(post.id),
            title=post.title[:_TITLE],
            description=post.summary_text[:_DESCRIPTION] or None,
            url=post.url,
            thumbnail_url=image,
            input_message_content=InputTextMessageContent(
                card.params["text"], parse_mode="HTML", link_preview_options=preview
            ),
            reply_markup=InlineKeyboardMarkup.de_json(markup, None) if markup else None,
        )


def _result_id(post_id: str) -> str:
    """The post id when it fits Telegram's 64 bytes, else a digest of it."""
    if len(post_id.encode()) <= _RESULT_ID_BYTES:
        return post_id
    return hashlib.sha256(post_id.encode()).hexdigest()


def _shown(page: ResultList) -> dict[str, Any]:
    """A result list's options: no link preview, and its buttons if it has any."""
    return {
        "link_preview_options": LinkPreviewOptions(is_disabled=True),
        "reply_markup": _markup(page.buttons) if page.buttons else None,
    }


def _markup(buttons: tuple[Button, ...]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in buttons]]
    )


def _now() -> datetime:
    return datetime.now(UTC)
