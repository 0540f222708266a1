"""A Jekyll site as the content folder, end to end: the real bot, the Bot API double, and cards
whose link is the post's permalink and whose photo is its front matter image, resolved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from bot.store import Status
from tests.conftest import StartBot
from tests.delivery.helpers import JPEG, counts_are, subscribed_bot
from tests.double import TelegramDouble
from tests.helpers import eventually


async def test_cards_of_a_jekyll_site_link_to_the_permalink_with_the_resolved_image(
    double: TelegramDouble, start_bot: StartBot, content: Path
) -> None:
    # The site lives on the double's file server, so the image its path names can be fetched.
    (content / "_config.yml").write_text(
        f"url: {double.url}\nbaseurl: /files/blog\npermalink: pretty\ntimezone: Asia/Bangkok\n"
    )
    image = double.serve_file("blog/assets/2026/ferry.jpg", JPEG, "image/jpeg")
    bot = await subscribed_bot(start_bot, 1)
    assert bot.library.posts == []

    when = datetime.now(UTC) - timedelta(hours=1)
    name = f"{when:%Y-%m-%d}-ferries-return.md"
    (content / "news" / "_posts").mkdir(parents=True)
    (content / "news" / "_posts" / name).write_text(
        "---\n"
        "title: Ferries return to the islands\n"
        f"date: {when:%Y-%m-%d %H:%M:%S} +0000\n"
        "image: /assets/2026/ferry.jpg\n"
        "---\n"
        "{% assign who = 'Andaman Lines' %}\n\n"
        '{{ who }} runs [two crossings]({{ site.baseurl }}/timetable/){:target="_blank"} '
        "a day again.\n\n"
        "![Another picture](/assets/2026/other.jpg)\n"
    )
    # A new folder is listed once its time has settled (two seconds): allow for a busy machine.
    await eventually(
        lambda: [m for m in double.messages_to(1) if "Ferries return" in str(m)], timeout=15
    )
    await eventually(counts_are(bot, {Status.SENT: 1}))

    day = when.astimezone(timezone(timedelta(hours=7)))  # the permalink's date is Bangkok's
    permalink = f"{double.url}/files/blog/news/{day:%Y/%m/%d}/ferries-return/"
    [post] = bot.library.posts
    assert (post.id, post.url, post.image) == (f"news/_posts/{name[:-3]}", permalink, image)
    [sent] = [record for record in double.sent if record.chat_id == 1]
    assert sent.method == "sendPhoto"
    caption = sent.params["caption"]
    assert "Andaman Lines runs" in caption and "{" not in caption and "target" not in caption
    assert f'href="{double.url}/files/blog/timetable/"' in caption
    assert f'href="{permalink}"' in caption
    button = sent.params["reply_markup"]["inline_keyboard"][0][0]
    assert button["url"] == permalink
    assert double.served_hits.get("blog/assets/2026/ferry.jpg", 0) >= 1
    assert "blog/assets/2026/other.jpg" not in double.served_hits
