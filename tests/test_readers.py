"""The readers' core with plain values: a real database and post folder, and no Telegram at all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.i18n import catalogue
from bot.posts import Category, PostLibrary
from bot.readers import (
    FIXED_COMMANDS,
    MAX_MENU,
    Change,
    ChatRef,
    Keyboard,
    Latest,
    ReaderDesk,
    channel_reference,
    menu,
)
from bot.store import ALL, Chat, NewPost, Store
from bot.subscriptions import BUTTON_ALL, BUTTON_NONE, Choice
from tests.helpers import WritePost

EN = catalogue("en")
PRIVATE = ChatRef(1, "private", "Reader")
CHANNEL = ChatRef(-1009999, "channel", "Newsdesk channel")
NOW = datetime.now(UTC)


def ago(minutes: int) -> str:
    return (NOW - timedelta(minutes=minutes)).isoformat()


@pytest.fixture
def library(content: Path, write_post: WritePost) -> PostLibrary:
    """World, business and Thai posts; newest first: w2 t1 b1 w1."""
    write_post("w1.md", title="World one", category="WORLD", date=ago(40), language="en")
    write_post("b1.md", title="Business one", category="BUSINESS", date=ago(30), language="en")
    write_post("t1.md", title="Thai one", category="THAILAND", date=ago(20), language="th")
    write_post("w2.md", title="World two", category="WORLD", date=ago(10), language="en")
    found = PostLibrary(content)
    found.scan()
    return found


class Desk:
    """A desk over the test's store and library, counting how often it woke the sender."""

    def __init__(self, store: Store, library: PostLibrary, backlog: int = 1) -> None:
        self.wakes = 0
        self.desk = ReaderDesk(store, library, backlog=backlog, wake=self.wake)

    def wake(self) -> None:
        self.wakes += 1


async def record(store: Store, library: PostLibrary) -> None:
    """Record every post as the archive of a first start (the backlog may still offer them)."""
    await store.add_posts(
        [
            NewPost(p.id, p.card_digest, tuple(c.key for c in p.categories), archived=True)
            for p in library.posts
        ]
    )


# --- subscribing ---------------------------------------------------------------------------------


async def test_a_plain_start_keeps_the_earlier_choice_and_a_deep_link_adds_to_it(
    store: Store, library: PostLibrary
) -> None:
    desk = Desk(store, library).desk
    first = await desk.start(PRIVATE, ["world"], EN)
    assert first.wanted == {"world"} and first.text.startswith("Subscribed: this chat receives")
    again = await desk.start(PRIVATE, [], EN)
    assert again.wanted == {"world"} and "already subscribed" in again.text
    more = await desk.start(PRIVATE, ["business-nosuch"], EN)
    assert more.wanted == {"world", "business"}
    known = "/business /thailand /world"
    assert more.text.startswith(EN("categories.unknown", names="nosuch", known=known))
    assert (await store.chat(1)) == Chat(1, "private", "Reader", True, frozenset(more.wanted))


async def test_a_chat_that_chose_nothing_or_left_starts_with_everything(
    store: Store, library: PostLibrary
) -> None:
    desk = Desk(store, library).desk
    await desk.start(PRIVATE, ["world"], EN)
    press = await desk.press(PRIVATE, BUTTON_NONE, EN)
    assert press.change is not None and press.change.wanted == frozenset()
    anew = await desk.start(PRIVATE, [], EN)
    assert anew.wanted == {ALL} and anew.text.startswith("Subscribed:")  # not "already"
    assert await desk.stop(1, EN) == EN("stop.done")
    assert await desk.stop(1, EN) == EN("stop.not_subscribed")
    back = await desk.start(PRIVATE, [], EN)
    assert back.wanted == {ALL} and back.text.startswith("Welcome back")


async def test_categories_are_added_and_dropped_by_name(store: Store, library: PostLibrary) -> None:
    desk = Desk(store, library).desk
    dropped = await desk.change(PRIVATE, ["world"], EN, subscribe=False)
    assert dropped == Change(EN("stop.not_subscribed"))  # nothing written
    unknown = await desk.change(PRIVATE, ["sport"], EN, subscribe=True)
    assert unknown.wanted is None and "I do not know sport" in unknown.text
    assert await store.chat(1) is None
    added = await desk.change(PRIVATE, ["#World", "business"], EN, subscribe=True)
    assert added.text == "This chat now receives BUSINESS, WORLD." and added.begins
    everything = await desk.change(PRIVATE, ["all"], EN, subscribe=True)
    assert everything.wanted == {ALL} and not everything.begins
    fewer = await desk.change(PRIVATE, ["thailand"], EN, subscribe=False)
    assert fewer.wanted == {"world", "business"}


async def test_welcome_queues_the_newest_for_a_chat_that_begins_only(
    store: Store, library: PostLibrary
) -> None:
    await record(store, library)
    counted = Desk(store, library, backlog=2)
    desk = counted.desk
    change = await desk.start(PRIVATE, ["world"], EN)
    assert await desk.welcome(change) == 2 and counted.wakes == 1
    assert await store.queue_depth() == 2
    assert await desk.welcome(await desk.start(PRIVATE, ["business"], EN)) == 0
    assert await desk.welcome(Change("no change")) == 0
    assert counted.wakes == 1 and await store.queue_depth() == 2
    none = Desk(store, library, backlog=0).desk
    assert await none.welcome(await none.start(ChatRef(2, "private"), [], EN)) == 0


def test_a_chat_begins_when_it_had_nothing_and_now_has_something() -> None:
    active = Chat(1, "private", None, True, frozenset({"world"}))
    left = Chat(1, "private", None, False, frozenset({"world"}))
    chose_none = Chat(1, "private", None, True, frozenset())
    assert Change("", 1, None, frozenset({ALL})).begins
    assert Change("", 1, left, frozenset({"world"})).begins
    assert Change("", 1, chose_none, frozenset({"world"})).begins
    assert not Change("", 1, active, frozenset({"world", "business"})).begins
    assert not Change("", 1, None, frozenset()).begins
    assert not Change("nothing written").begins


# --- the keyboard --------------------------------------------------------------------------------


async def test_the_keyboard_ticks_what_the_chat_receives(
    store: Store, library: PostLibrary, tmp_path: Path
) -> None:
    desk = Desk(store, library).desk
    keyboard = await desk.keyboard(1, EN)
    assert keyboard.text == EN("categories.prompt") and keyboard.rows is not None
    assert not any(b.label.startswith("✅") for row in keyboard.rows for b in row[:-1])
    empty = PostLibrary(tmp_path / "empty")
    assert await Desk(store, empty).desk.keyboard(1, EN) == Keyboard(EN("categories.none_yet"))


async def test_a_press_changes_what_the_chat_receives_or_says_why_not(
    store: Store, library: PostLibrary
) -> None:
    desk = Desk(store, library).desk
    stale = await desk.press(PRIVATE, "cat:sport", EN)
    assert stale.notice == EN("button.stale") and stale.change is None
    press = await desk.press(PRIVATE, "cat:world", EN)
    assert press.notice is None and press.change is not None and press.rows is not None
    assert press.change.wanted == {"world"} and press.change.begins
    ticked = {b.data for row in press.rows for b in row if b.label.startswith("✅")}
    assert ticked == {"cat:world"}
    await desk.press(PRIVATE, BUTTON_ALL, EN)
    unchanged = await desk.press(PRIVATE, BUTTON_ALL, EN)
    assert unchanged.change is None and unchanged.notice is None


# --- languages and posts -------------------------------------------------------------------------


async def test_languages_are_shown_to_anyone_and_chosen_by_a_subscribed_chat(
    store: Store, library: PostLibrary
) -> None:
    desk = Desk(store, library).desk
    shown = await desk.language(1, [], EN)
    assert shown == EN("language.current", languages="every language", available="en, th")
    assert await desk.language(1, ["th"], EN) == EN("language.not_subscribed")
    assert await desk.language(1, ["klingon!"], EN) == EN("language.invalid", codes="klingon!")
    await desk.start(PRIVATE, [], EN)
    assert await desk.language(1, ["th", "en"], EN) == EN("language.set", languages="en, th")
    chat = await store.chat(1)
    assert chat is not None and chat.languages == {"en", "th"}
    assert await desk.language(1, ["all"], EN) == EN("language.set", languages="every language")


async def test_latest_is_the_newest_in_the_chats_languages(
    store: Store, library: PostLibrary, tmp_path: Path
) -> None:
    desk = Desk(store, library).desk
    latest = await desk.latest(1, ["3"], EN)
    assert [p.id for p in latest.posts] == ["w2", "t1", "b1"] and latest.text is None
    assert [p.id for p in (await desk.latest(1, [], EN, category="world")).posts] == ["w2", "w1"]
    await desk.start(PRIVATE, [], EN)
    await desk.language(1, ["th"], EN)
    assert [p.id for p in (await desk.latest(1, [], EN)).posts] == ["t1"]
    none_in = await desk.latest(1, ["world"], EN)
    assert none_in == Latest(text=EN("latest.none_in", category="WORLD"))
    assert "I do not know sport" in str((await desk.latest(1, ["sport"], EN)).text)
    empty = Desk(store, PostLibrary(tmp_path / "empty")).desk
    assert (await empty.latest(1, [], EN)).text == EN("latest.none")


# --- channels ------------------------------------------------------------------------------------


async def test_channels_follow_the_start_rule_and_can_be_unsubscribed(
    store: Store, library: PostLibrary
) -> None:
    desk = Desk(store, library).desk
    name = "@newsdesk"
    gone = await desk.channel(CHANNEL, name, Choice(), EN, subscribe=False)
    assert gone == Change(EN("channel.not_subscribed", channel=name))
    assert await desk.channels(EN) == EN("channel.none")
    world = await desk.channel(CHANNEL, name, desk.choose(["world"]), EN, subscribe=True)
    assert world.text == "@newsdesk now receives WORLD." and world.begins
    kept = await desk.channel(CHANNEL, name, Choice(), EN, subscribe=True)
    assert kept.wanted == {"world"} and not kept.begins  # a plain subscribe keeps the choice
    listing = await desk.channels(EN)
    assert "Newsdesk channel (-1009999): WORLD" in listing
    some = await desk.channel(CHANNEL, name, desk.choose(["world"]), EN, subscribe=False)
    assert some.wanted == frozenset()
    ended = await desk.channel(CHANNEL, name, Choice(), EN, subscribe=False)
    assert ended.text == EN("channel.unsubscribed", channel=name) and ended.wanted is None
    chat = await store.chat(CHANNEL.id)
    assert chat is not None and not chat.active and chat.type == "channel"


def test_channel_references_are_a_name_or_a_channel_id() -> None:
    assert channel_reference("@newsdesk") == "@newsdesk"
    assert channel_reference("-1009999") == -1009999
    assert channel_reference("@") is None
    assert channel_reference("-12") is None  # too short for a channel
    assert channel_reference("world") is None


# --- wording -------------------------------------------------------------------------------------


async def test_help_names_the_category_commands_and_who_may_do_more(
    store: Store, library: PostLibrary
) -> None:
    desk = Desk(store, library).desk
    private = desk.help(EN, private=True, editor=False)
    assert "/business /thailand /world" in private and EN("help.groups") not in private
    assert desk.help(EN, private=True, editor=True).endswith(EN("help.admin"))
    assert desk.help(EN, private=False, editor=True).endswith(EN("help.groups"))
    assert desk.describe(EN, frozenset({ALL})) == "all categories"
    assert desk.describe(EN, frozenset({"world", "gone"})) == "WORLD, gone"
    assert desk.describe(EN, frozenset()) == "no category"


def test_the_menu_skips_categories_named_like_commands_and_stops_at_telegrams_limit() -> None:
    categories = {key: Category(key.title(), key) for key in ("help", "world")}
    entries = menu(EN, categories)
    assert [name for name, _ in entries][-2:] == ["stop", "world"]
    assert "channels" in dict(menu(EN, categories, editor=True))
    assert "help" in FIXED_COMMANDS
    many = {f"c{n}": Category(f"C{n}", f"c{n}") for n in range(200)}
    assert len(menu(EN, many)) == MAX_MENU
