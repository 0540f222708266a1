"""Every card as a Telegram client shows it, in one HTML page (`newsbot preview --html`).

A newsroom setting newsbot up looks at its whole archive the way readers will: the photo with
its caption, or the text with its link preview; the bold headline, italics, links and the
hashtag; the "Read more" button; the category and date. A card with a problem carries a badge
that says what (no link, no image, summary or headline cut, not published, a warning from the
reading rules), and every file that was not loaded is shown with the reason.

Guarantees:
- One self-contained file: CSS and JavaScript inline, no font, script or style from the
  network. Lead images are `<img>` elements pointing at their addresses, loaded lazily; a page
  opened offline still shows every card, with a note where an image did not load.
- Nothing from a post runs or styles the page: the card's HTML is Telegram's HTML subset,
  re-emitted tag by tag from an allow-list (`b`, `i`, `u`, `s`, `code`, `pre`, `a`,
  `blockquote`, `tg-spoiler`); every other tag is dropped, every text and attribute escaped,
  and only http(s) links are kept.
- Thousands of cards stay fast: the page is rendered once; filtering by category and searching
  headlines only toggle a class on each card (a few milliseconds for 5,000), and the browser
  lays out only the cards on screen (`content-visibility`). A filter can be given in the
  address too (`page.html#c=world&q=flood&flagged`), to bookmark or share.
- Readable on a phone: one column as wide as the screen allows.

Nothing here knows Telegram's types or reads files: it is given posts, their cards and the
rejected files, and returns text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from html.parser import HTMLParser

from bot.posts import Post, Rejection, safe_url
from bot.render import READ_MORE, Card, site_name

#: Telegram's HTML tags, as the page writes them.
_TAGS = {
    "b": "b",
    "strong": "b",
    "i": "i",
    "em": "i",
    "u": "u",
    "ins": "u",
    "s": "s",
    "strike": "s",
    "del": "s",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-spoiler": "span",
    "a": "a",
}
_HASHTAG = re.compile(r"(?<![\w#])#\w+")


@dataclass(frozen=True, slots=True)
class Badge:
    """A problem shown on a card: a short name and, when there is one, why."""

    name: str
    detail: str = ""
    severe: bool = False


def badges(post: Post, card: Card, now: datetime) -> list[Badge]:
    """What a newsroom should look at in this card."""
    found: list[Badge] = []
    if not post.is_live(now):
        if post.retracted:
            why = "retracted"
        elif not post.published:
            why = "published: false"
        else:
            why = f"dated in the future ({post.date.isoformat()})"
        found.append(Badge("not published", why, severe=True))
    if post.url is None:
        found.append(Badge("no link", "no Read more button, no link preview"))
    if not (post.image or post.photo_id):
        found.append(Badge("no image"))
    if post.title not in card.text:
        found.append(Badge("headline cut"))
    summary = post.summary_text.strip()
    if summary and summary not in card.text:
        found.append(Badge("summary cut"))
    found.extend(Badge("warning", warning) for warning in post.warnings)
    return found


def build_page(
    posts: Sequence[Post],
    rejected: Sequence[Rejection],
    *,
    card_of: Callable[[Post], Card],
    now: datetime,
    zone: tzinfo,
    title: str = "newsbot preview",
) -> str:
    """The page: every post's card (newest first, as given), then every rejected file."""
    articles: list[str] = []
    categories: dict[str, tuple[str, int]] = {}
    problems = 0
    for post in posts:
        card = card_of(post)
        found = badges(post, card, now)
        problems += bool(found)
        for category in post.categories:
            name, count = categories.get(category.key, (category.name, 0))
            categories[category.key] = (name, count + 1)
        articles.append(_article(post, card, found, zone))
    for rejection in rejected:
        articles.append(_rejected(rejection))
    options = "".join(
        f'<option value="{_attr(key)}">{_text(name)} ({count})</option>'
        for key, (name, count) in sorted(categories.items(), key=lambda item: item[1][0].lower())
    )
    if rejected:
        options += f'<option value="!rejected">Rejected files ({len(rejected)})</option>'
    summary = (
        f"{len(posts)} cards · {problems} with a badge · {len(rejected)} files rejected · "
        f"made {now.astimezone(zone):%d %b %Y, %H:%M %Z}"
    )
    return _PAGE.format(
        title=_text(title),
        summary=_text(summary),
        options=options,
        total=len(articles),
        cards="\n".join(articles),
        style=_STYLE,
        script=_SCRIPT,
    )


def telegram_html(markup: str) -> str:
    """A card's Telegram HTML as safe HTML for the page (see the module's guarantees)."""
    converter = _TelegramHtml()
    converter.feed(markup)
    converter.close()
    return converter.result()


class _TelegramHtml(HTMLParser):
    """Re-emits Telegram's HTML subset; drops every other tag and escapes all text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._out: list[str] = []
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        name = _TAGS.get(tag)
        if name is None:
            return
        if name == "a":
            href = safe_url(dict(attrs).get("href"))
            if href is None:
                self._open.append("")  # a link nobody may follow: its text only
                return
            self._out.append(f'<a href="{_attr(href)}" target="_blank" rel="noopener noreferrer">')
        elif tag == "tg-spoiler" or (tag == "span" and ("class", "tg-spoiler") in attrs):
            self._out.append('<span class="spoiler">')
        else:
            self._out.append(f"<{name}>")
        self._open.append(name)

    def handle_endtag(self, tag: str) -> None:
        name = _TAGS.get(tag)
        if name is None or not self._open:
            return
        # Close up to the matching tag, so a stray end tag cannot unbalance the page.
        if name not in self._open and not (name == "a" and "" in self._open):
            return
        while self._open:
            top = self._open.pop()
            if top:
                self._out.append(f"</{top}>")
            if top == name or (name == "a" and top == ""):
                break

    def handle_data(self, data: str) -> None:
        text = _text(data)
        if not ({"a", "code", "pre"} & set(self._open)):
            text = _HASHTAG.sub(lambda m: f'<span class="hashtag">{m.group(0)}</span>', text)
        self._out.append(text)

    def result(self) -> str:
        return "".join(self._out) + "".join(f"</{t}>" for t in reversed(self._open) if t)


def _article(post: Post, card: Card, found: list[Badge], zone: tzinfo) -> str:
    """One card as a Telegram client shows it, with its facts and badges below."""
    body = telegram_html(str(card.params.get("caption") or card.params.get("text") or ""))
    parts = ['<div class="bubble">']
    if card.has_photo:
        photo = str(card.params.get("photo", ""))
        image = safe_url(photo)
        if image is not None:
            parts.append(
                f'<div class="photo"><img src="{_attr(image)}" alt="" loading="lazy" '
                f'decoding="async" onerror="this.parentNode.classList.add(\'failed\')">'
                f'<span class="note">image not loaded: {_text(image)}</span></div>'
            )
        else:
            parts.append(
                f'<div class="photo held"><span class="note">photo held by Telegram '
                f"(file_id {_text(photo[:24])}…)</span></div>"
            )
    parts.append(f'<div class="text">{body}</div>')
    if not card.has_photo and post.url:
        parts.append(
            f'<a class="preview" href="{_attr(post.url)}" target="_blank" '
            f'rel="noopener noreferrer"><span class="site">{_text(site_name(post.url))}</span>'
            f'<span class="headline">{_text(post.title)}</span></a>'
        )
    moment = post.date_in(zone)
    parts.append(f'<span class="time">{moment:%H:%M}</span></div>' if post.has_time else "</div>")
    if post.url:
        parts.append(
            f'<a class="button" href="{_attr(post.url)}" target="_blank" '
            f'rel="noopener noreferrer">{READ_MORE}</a>'
        )
    names = " · ".join(c.name for c in post.categories) or "no category"
    when = f"{moment:%d %b %Y, %H:%M %Z}" if post.has_time else f"{moment:%d %b %Y}"
    parts.append(
        f'<p class="facts"><span class="category">{_text(names)}</span> · '
        f'<time datetime="{_attr(post.date.isoformat())}">{_text(when)}</time> · '
        f"<code>{_text(post.id)}</code> · {card.method}</p>"
    )
    parts.append(_badges(found))
    keys = " ".join(c.key for c in post.categories)
    return (
        f'<article class="card{" flagged" if found else ""}" data-c=" {_attr(keys)} " '
        f'data-h="{_attr(post.title.lower())}" data-p="{int(bool(found))}">'
        + "".join(parts)
        + "</article>"
    )


def _rejected(rejection: Rejection) -> str:
    """A file that was not loaded: where it is, and why."""
    badge = _badges([Badge("rejected", rejection.reason, severe=True)])
    return (
        f'<article class="card rejected flagged" data-c=" !rejected " '
        f'data-h="{_attr(str(rejection.path).lower())}" data-p="1">'
        f'<div class="bubble"><div class="text"><b>{_text(str(rejection.path))}</b>'
        f"</div></div>{badge}</article>"
    )


def _badges(found: list[Badge]) -> str:
    if not found:
        return ""
    items = "".join(
        f'<li class="badge{" severe" if badge.severe else ""}"><b>{_text(badge.name)}</b>'
        + (f": {_text(badge.detail)}" if badge.detail else "")
        + "</li>"
        for badge in found
    )
    return f'<ul class="badges">{items}</ul>'


def _text(value: str) -> str:
    return html.escape(value, quote=False)


def _attr(value: str) -> str:
    return html.escape(value, quote=True)


_STYLE = """
:root{--bg:#8fb28a;--bubble:#fff;--ink:#000;--muted:#6d7883;--link:#2a6fb0;--bar:#fff;
--badge:#fff3cd;--badge-ink:#6b4e00;--severe:#fde2e1;--severe-ink:#8a1c13}
@media (prefers-color-scheme:dark){:root{--bg:#0e1621;--bubble:#182533;--ink:#f5f5f5;
--muted:#8a9aa9;--link:#6ab3f3;--bar:#17212b;--badge:#4a3b0b;--badge-ink:#ffe08a;
--severe:#4f1d1a;--severe-ink:#ffb4ab}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);
font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans Thai",sans-serif}
header{position:sticky;top:0;z-index:1;background:var(--bar);padding:10px 12px;
box-shadow:0 1px 3px rgba(0,0,0,.2)}
header h1{font-size:17px;margin:0 0 2px}
header p{margin:0 0 8px;color:var(--muted);font-size:13px}
.controls{display:flex;flex-wrap:wrap;gap:8px;align-items:center}
.controls input[type=search],.controls select{font:inherit;padding:6px 8px;border-radius:8px;
border:1px solid var(--muted);background:var(--bubble);color:var(--ink);flex:1 1 12em;min-width:0}
.controls label{font-size:14px;white-space:nowrap}
main{max-width:560px;margin:0 auto;padding:12px 8px 40px}
.card{margin:0 0 18px;content-visibility:auto;contain-intrinsic-size:auto 360px}
.card.hidden{display:none}
.bubble{background:var(--bubble);border-radius:12px 12px 12px 4px;overflow:hidden;
box-shadow:0 1px 1px rgba(0,0,0,.15);position:relative}
.photo img{display:block;width:100%;max-height:420px;object-fit:cover;background:#ccd}
.photo .note{display:none}
.photo.failed img{display:none}
.photo.failed .note,.photo.held .note{display:block;padding:24px 12px;background:#d7dde3;
color:#333;font-size:13px;text-align:center;word-break:break-all}
.text{padding:8px 12px 6px;white-space:pre-wrap;overflow-wrap:anywhere}
.text a,.preview .site{color:var(--link)}
.hashtag{color:var(--link)}
.spoiler{background:var(--muted);color:transparent;border-radius:3px}
.spoiler:hover{color:inherit;background:none}
code,pre{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:13px}
blockquote{margin:4px 0;padding-left:8px;border-left:3px solid var(--link)}
.preview{display:block;margin:0 12px 6px;padding:4px 8px;border-left:3px solid var(--link);
border-radius:4px;background:rgba(42,111,176,.08);text-decoration:none;color:var(--ink)}
.preview .site{display:block;font-weight:600;font-size:13px}
.preview .headline{display:block;font-size:13px}
.time{display:block;text-align:right;color:var(--muted);font-size:12px;padding:0 10px 6px}
.button{display:block;margin-top:4px;padding:8px;border-radius:8px;text-align:center;
background:rgba(0,0,0,.25);color:#fff;text-decoration:none;font-weight:600}
.facts{margin:6px 4px 4px;font-size:12px;color:#1b2a1b}
@media (prefers-color-scheme:dark){.facts{color:var(--muted)}}
.badges{list-style:none;margin:4px 0 0;padding:0;display:flex;flex-wrap:wrap;gap:6px}
.badge{background:var(--badge);color:var(--badge-ink);border-radius:10px;padding:2px 8px;
font-size:12px;overflow-wrap:anywhere}
.badge.severe{background:var(--severe);color:var(--severe-ink)}
.empty{display:none;text-align:center;color:#fff;font-weight:600}
.empty.shown{display:block}
"""

_SCRIPT = """
(function () {
  var cards = Array.prototype.slice.call(document.querySelectorAll("article.card"));
  var search = document.getElementById("search");
  var category = document.getElementById("category");
  var flagged = document.getElementById("flagged");
  var shown = document.getElementById("shown");
  var empty = document.getElementById("empty");
  var facts = cards.map(function (card) {
    return {card: card, c: card.getAttribute("data-c"), h: card.getAttribute("data-h"),
            p: card.getAttribute("data-p") === "1"};
  });
  var timer = null;
  function apply() {
    var started = performance.now();
    var words = search.value.trim().toLowerCase(), key = category.value;
    var onlyFlagged = flagged.checked, count = 0;
    for (var i = 0; i < facts.length; i++) {
      var f = facts[i];
      var visible = (!key || f.c.indexOf(" " + key + " ") >= 0) &&
        (!words || f.h.indexOf(words) >= 0) && (!onlyFlagged || f.p);
      if (f.card.classList.contains("hidden") === visible) {
        f.card.classList.toggle("hidden", !visible);
      }
      if (visible) { count++; }
    }
    shown.textContent = String(count);
    shown.setAttribute("data-ms", (performance.now() - started).toFixed(1));
    empty.classList.toggle("shown", count === 0);
  }
  // #q=words&c=category&flagged: a filtered view to bookmark or send to a colleague.
  function fromAddress() {
    var wanted = new URLSearchParams(location.hash.slice(1));
    search.value = wanted.get("q") || "";
    category.value = wanted.get("c") || "";
    flagged.checked = wanted.has("flagged");
  }
  search.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(apply, 60);
  });
  category.addEventListener("change", apply);
  flagged.addEventListener("change", apply);
  window.addEventListener("hashchange", function () { fromAddress(); apply(); });
  fromAddress();
  apply();
})();
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<header>
<h1>{title}</h1>
<p>{summary}</p>
<div class="controls">
<input id="search" type="search" placeholder="Search headlines" aria-label="Search headlines">
<select id="category" aria-label="Category">
<option value="">All categories</option>{options}</select>
<label><input id="flagged" type="checkbox"> only with a badge</label>
<span><span id="shown">{total}</span> shown</span>
</div>
</header>
<main>
{cards}
<p id="empty" class="empty">No card matches.</p>
</main>
<script>{script}</script>
</body>
</html>
"""
