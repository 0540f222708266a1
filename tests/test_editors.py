"""The editors' core with plain values: requests, confirmations, and what each kind does."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.editors import (
    PENDING_SECONDS,
    EditorDesk,
    Kind,
    Pending,
    Proposal,
    Request,
)
from bot.i18n import catalogue
from bot.posts import Post, PostLibrary, ScanReport
from bot.queue import QueueReport
from bot.store import NewPost, Store
from tests.helpers import WritePost

EN = catalogue("en")
EDITOR = 777
WHEN = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
LATER = (datetime.now(UTC) + timedelta(days=1)).isoformat()


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).timestamp()

    def __call__(self) -> float:
        return self.now


class Newsroom:
    """An editors' desk over a real folder and database; it counts wakes and rescans."""

    def __init__(self, store: Store, content: Path, clock: Clock) -> None:
        self.store = store
        self.library = PostLibrary(content)
        self.library.scan()
        self.wakes = 0
        self.refreshes: list[bool] = []
        self.desk = EditorDesk(
            store,
            self.library,
            editors_dir=content,
            newsroom=None,
            publishing=asyncio.Lock(),
            refresh=self.refresh,
            wake=self.wake,
            clock=clock,
        )

    def wake(self) -> None:
        self.wakes += 1

    async def refresh(self, *, queue: bool = False) -> tuple[ScanReport, QueueReport | None]:
        """What `Newsbot.refresh` does first: rescan the folder."""
        self.refreshes.append(queue)
        return self.library.scan(), None

    async def record(self) -> None:
        """Record the folder's posts as already pushed, as a scan would have."""
        posts = [
            NewPost(p.id, p.card_digest, tuple(c.key for c in p.categories))
            for p in self.library.posts
        ]
        await self.store.add_posts(posts)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def newsroom(store: Store, content: Path, write_post: WritePost, clock: Clock) -> Newsroom:
    write_post("w.md", "Text.", title="World story", code="W1", category="World", date=WHEN)
    write_post("f.md", "Text.", title="Tomorrow", code="F1", category="World", date=LATER)
    return Newsroom(store, content, clock)


def request(kind: Kind, created: float = 0.0) -> Request:
    post = Post(id="W1", path=Path("w.md"), title="World story", summary=(), date=datetime.now(UTC))
    return Request(kind, EDITOR, post, created)


# --- kinds and pending requests ------------------------------------------------------------------


def test_every_kind_has_its_button_and_only_retractions_skip_the_preview() -> None:
    assert {kind.value for kind in Kind} == {"breaking", "push", "retract"}
    assert Kind.RETRACT.confirm == "admin.button_retract"
    assert Kind.PUSH.confirm == Kind.BREAKING.confirm == "admin.button_send"
    assert Proposal("asked", request(Kind.PUSH)).preview
    assert not Proposal("asked", request(Kind.RETRACT)).preview
    assert not Proposal("no such post").preview
    with pytest.raises(ValueError):
        Kind("unpublish")  # no other kind exists, so none is mistaken for a retraction


def test_a_request_is_confirmed_once_and_not_after_half_an_hour(clock: Clock) -> None:
    pending = Pending(clock=clock)
    first = request(Kind.PUSH, clock.now)
    token = pending.add(first)
    assert pending.take("nosuch") is None
    assert pending.take(token) is first
    assert pending.take(token) is None  # a second press finds nothing
    late = pending.add(request(Kind.RETRACT, clock.now))
    clock.now += PENDING_SECONDS
    assert pending.take(late) is None
    assert len({pending.add(first) for _ in range(20)}) == 20  # tokens nobody can guess


# --- proposals -----------------------------------------------------------------------------------


async def test_a_push_names_a_live_post_and_a_known_category(newsroom: Newsroom) -> None:
    desk = newsroom.desk
    assert await desk.push([], EDITOR, EN) == Proposal(EN("admin.push_usage"))
    assert await desk.push(["X9"], EDITOR, EN) == Proposal(EN("admin.unknown_post", post="X9"))
    assert await desk.push(["F1"], EDITOR, EN) == Proposal(EN("admin.not_live", post="F1"))
    unknown = await desk.push(["W1", "Sport"], EDITOR, EN)
    assert unknown == Proposal(EN("admin.unknown_category", category="Sport"))
    await newsroom.record()
    assert await desk.push(["W1"], EDITOR, EN) == Proposal(EN("admin.nobody", post="W1"))
    await newsroom.store.subscribe(42, "private", None, ["sport"])
    asked = await desk.push(["W1", "all"], EDITOR, EN)
    assert asked.text == EN("admin.confirm_push", post="W1", count=1) and asked.preview
    assert asked.request is not None and asked.request.kind is Kind.PUSH
    assert (await desk.push(["W1", "World"], EDITOR, EN)).request is None  # 42 reads sport


async def test_a_breaking_item_needs_a_headline(newsroom: Newsroom, content: Path) -> None:
    desk = newsroom.desk
    empty = await desk.breaking("/breaking", None, EDITOR, EN)
    problem = "a breaking item needs a headline after /breaking"
    assert empty == Proposal(EN("admin.breaking_usage", problem=problem))
    asked = await desk.breaking("/breaking world: Quake\nTowns cut off.", "PHOTO", EDITOR, EN)
    assert asked.request is not None and asked.request.kind is Kind.BREAKING
    assert asked.request.post.title == "Quake" and asked.preview
    assert asked.request.file_text is not None and "telegram_photo" in asked.request.file_text
    assert not (content / "breaking").exists()  # nothing is written before it is confirmed


# --- carrying out --------------------------------------------------------------------------------


async def test_a_cancelled_request_does_nothing(newsroom: Newsroom, content: Path) -> None:
    asked = await newsroom.desk.breaking("/breaking Quake", None, EDITOR, EN)
    assert asked.request is not None
    said = await newsroom.desk.answer(asked.request, confirmed=False, editor=EDITOR, texts=EN)
    assert said.text == EN("admin.cancelled") and said.report is None
    assert not (content / "breaking").exists() and newsroom.wakes == 0


async def test_breaking_news_is_written_and_queued_for_everyone(newsroom: Newsroom) -> None:
    await newsroom.store.subscribe(42, "private", None, ["sport"])
    asked = await newsroom.desk.breaking("/breaking Quake", None, EDITOR, EN)
    assert asked.request is not None
    said = await newsroom.desk.answer(asked.request, confirmed=True, editor=EDITOR, texts=EN)
    post = asked.request.post.id
    assert said.text == EN("admin.sent_breaking", post=post, count=1)
    assert post in (await newsroom.store.seen_posts())
    assert newsroom.library.get(post) is not None
    assert newsroom.wakes == 1 and newsroom.refreshes == [True]


async def test_a_confirmed_push_queues_and_wakes_the_sender(newsroom: Newsroom) -> None:
    await newsroom.record()
    await newsroom.store.subscribe(42, "private", None, ["sport"])
    asked = await newsroom.desk.push(["W1"], EDITOR, EN)
    assert asked.request is not None
    said = await newsroom.desk.carry_out(asked.request, EN)
    assert said.text == EN("admin.sent_push", post="W1", count=1)
    assert newsroom.wakes == 1 and await newsroom.store.queue_depth() == 1


async def test_a_retraction_is_written_into_the_post(newsroom: Newsroom, content: Path) -> None:
    asked = await newsroom.desk.retract(["W1"], EDITOR, EN)
    assert asked.text == EN("admin.confirm_retract", post="W1", count=0) and not asked.preview
    assert asked.request is not None and asked.request.kind is Kind.RETRACT
    said = await newsroom.desk.carry_out(asked.request, EN)
    assert said.text == EN("admin.retracted", post="W1")
    assert "retracted: true" in (content / "w.md").read_text()
    assert newsroom.refreshes == [False]
    (content / "w.md").unlink()
    failed = await newsroom.desk.carry_out(asked.request, EN)
    assert failed.text.startswith("W1 could not be retracted: cannot read w.md")
    assert newsroom.refreshes == [False]


async def test_a_post_of_a_jekyll_site_is_retracted_by_the_sites_rules(
    store: Store, content: Path, clock: Clock
) -> None:
    # A date only Jekyll reads, and no title: the plain folder's rules would refuse this file.
    (content / "_config.yml").write_text("url: https://news.example.org\n", encoding="utf-8")
    (content / "_posts").mkdir()
    post_file = content / "_posts" / "2014-09-08-river-levels.md"
    post_file.write_text("---\ndate: September 8, 2014\n---\nThe river rose.\n", encoding="utf-8")
    desk = Newsroom(store, content, clock)
    [post] = desk.library.posts
    asked = await desk.desk.retract([post.id], EDITOR, EN)
    assert asked.request is not None
    said = await desk.desk.carry_out(asked.request, EN)
    assert said.text == EN("admin.retracted", post=post.id)
    assert "retracted: true" in post_file.read_text(encoding="utf-8")
    retracted = desk.library.get(post.id)
    assert retracted is not None and retracted.retracted


# --- oversight -----------------------------------------------------------------------------------


async def test_stats_and_reload_say_what_there_is(newsroom: Newsroom, content: Path) -> None:
    await newsroom.record()
    await newsroom.store.subscribe(42, "private", None, ["world"])
    stats = await newsroom.desk.stats(EN)
    assert stats.startswith(EN("admin.stats_title"))
    assert "Chats (private): 1 active, 0 inactive" in stats
    assert EN("admin.stats_posts", loaded=2, seen=2) in stats
    (content / "broken.md").write_text("---\ntitle: [\n---\nx\n", encoding="utf-8")
    reloaded = await newsroom.desk.reload(EN)
    assert "1 rejected" in reloaded and "broken.md" in reloaded
    assert newsroom.refreshes == [True]
