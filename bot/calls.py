"""Rendered parameters (plain Bot API JSON) as the objects python-telegram-bot's methods take."""

from __future__ import annotations

from typing import Any

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions


def keyboard(params: dict[str, Any], bot: Bot) -> InlineKeyboardMarkup | None:
    """The message's inline keyboard, if it has one."""
    markup = params.get("reply_markup")
    return InlineKeyboardMarkup.de_json(markup, bot) if markup else None


def link_preview(params: dict[str, Any]) -> LinkPreviewOptions | None:
    """The message's link preview options, if it has them."""
    options = params.get("link_preview_options")
    return LinkPreviewOptions(**options) if options else None
