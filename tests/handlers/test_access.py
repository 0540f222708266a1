"""Who may do what: group admins, anonymous admins, editors, and the bot itself in channels.

End to end against the Bot API double, then the rule and the admin cache on their own.
"""

from __future__ import annotations

from pathlib import Path

from telegram import (
    Bot,
    ChatMemberAdministrator,
    ChatMemberMember,
    ChatMemberOwner,
    Update,
    User,
)

from bot.handlers.access import Access, Asker, Need, Ruling, asker_of, may_post, rule
from tests.conftest import StartBot
from tests.double import TelegramDouble
from tests.handlers.chat import (
    ADMIN,
    BOT,
    BOT_ADMIN,
    CHANNEL,
    EDITOR,
    GROUP,
    MEMBER,
    STRANGER,
    SUBSCRIBER,
    ask,
    cards,
    categories_of,
    confirmation,
    editors_bot,
    finish,
    handled,
    keyboard,
    make_channel,
    newsroom,
    received,
    reply,
    settled,
    ticked,
)
from tests.helpers import TOKEN, WritePost, eventually


async def test_anyone_in_a_group_may_read(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await newsroom(start_bot, write_post)
    double.send_command(GROUP, "/latest 2", user_id=MEMBER)
    await eventually(lambda: cards(double, GROUP) == ["World three", "Business two"])
    double.send_command(GROUP, f"/world@{BOT} 1", user_id=MEMBER)
    await eventually(lambda: cards(double, GROUP)[2:] == ["World three"])
    double.send_command(GROUP, f"/help@{BOT}", user_id=MEMBER)
    await reply(double, GROUP, "only administrators can change")
    double.send_command(GROUP, f"/frobnicate@{BOT}", user_id=MEMBER)
    await reply(double, GROUP, "I do not know /frobnicate")
    before = len(double.texts_to(GROUP))
    double.send_command(GROUP, "/frobnicate", user_id=MEMBER)  # perhaps another bot's
    double.send_command(GROUP, "/latest@OtherBot", user_id=MEMBER)
    double.send_text(GROUP, "hello everyone", user_id=MEMBER)
    await finish(bot, double)
    assert len(double.texts_to(GROUP)) == before


async def test_only_group_admins_change_what_the_group_receives(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await newsroom(start_bot, write_post, subscribe_backlog=0)

    def refusals() -> int:
        return sum("Only this group's administrators" in t for t in double.texts_to(GROUP))

    for count, command in enumerate(
        ("/start", "/stop", "/subscribe world", "/unsubscribe world", "/language th"), start=1
    ):
        double.send_command(GROUP, command, user_id=MEMBER)
        await eventually(lambda c=count: refusals() == c)
    assert await bot.store.chat(GROUP) is None

    double.set_member_status(GROUP, ADMIN, "administrator")
    double.send_command(GROUP, f"/start@{BOT}", user_id=ADMIN)
    await reply(double, GROUP, "Subscribed")
    double.send_command(GROUP, "/unsubscribe thailand", user_id=ADMIN)
    await reply(double, GROUP, "now receives")
    assert await categories_of(bot, GROUP) == {"world", "business", "asia_pacific"}
    checks = len(double.calls("getChatMember"))
    double.send_command(GROUP, "/subscribe thailand", user_id=ADMIN)
    await eventually(lambda: sum("now receives" in t for t in double.texts_to(GROUP)) == 2)
    assert len(double.calls("getChatMember")) == checks  # the admin check is remembered
    every = {"world", "business", "asia_pacific", "thailand"}
    assert await categories_of(bot, GROUP) == every

    double.send_command(GROUP, "/categories", user_id=MEMBER)  # anyone may look
    await reply(double, GROUP, "Choose what this chat receives")
    message_id, _ = keyboard(double, GROUP)
    double.press_button(GROUP, message_id, "cat:world", user_id=MEMBER)
    await eventually(lambda: any(a.get("show_alert") for a in double.callback_answers))
    assert "administrators" in double.callback_answers[-1]["text"]
    assert await categories_of(bot, GROUP) == every
    double.press_button(GROUP, message_id, "cat:world", user_id=ADMIN)
    await eventually(lambda: "cat:world" not in ticked(keyboard(double, GROUP)[1]))
    assert await categories_of(bot, GROUP) == every - {"world"}

    double.send_command(GROUP, "/stop", user_id=ADMIN)
    await reply(double, GROUP, "Unsubscribed")
    assert await categories_of(bot, GROUP) is None


async def test_an_anonymous_group_admin_may_change_it(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    bot = await newsroom(start_bot, write_post, subscribe_backlog=0)
    update = double.send_command(GROUP, "/subscribe world", user_id=1087968824)
    assert update["message"]["chat"]["id"] == GROUP
    # Telegram shows an anonymous administrator's message as sent by the group itself.
    double._pending[-1]["message"]["sender_chat"] = double._pending[-1]["message"]["chat"]
    await reply(double, GROUP, "now receives WORLD")
    assert await categories_of(bot, GROUP) == {"world"}


async def test_nobody_else_can_publish_or_confirm(
    double: TelegramDouble, start_bot: StartBot, content: Path
) -> None:
    bot = await editors_bot(start_bot)
    double.send_command(STRANGER, "/breaking Fake news")
    await eventually(lambda: "editors" in " ".join(double.texts_to(STRANGER)))
    for command in ("/push A", "/retract A", "/stats", "/reload"):
        double.send_command(STRANGER, command)
    await eventually(lambda: len(double.texts_to(STRANGER)) == 5)
    assert all("editors" in text for text in double.texts_to(STRANGER))

    await ask(double, "/breaking Real news")
    message_id, buttons = confirmation(double, EDITOR)
    # A forwarded keyboard: someone else presses the editor's Send button.
    double.press_button(EDITOR, message_id, buttons["Send"], STRANGER)
    await eventually(lambda: double.callback_answers)
    await handled(double, STRANGER, "/stats")  # the press before it has been handled
    await settled(bot)
    assert not (content / "breaking").exists()
    assert received(double, SUBSCRIBER, "news") == 0
    double.press_button(EDITOR, message_id, buttons["Cancel"], EDITOR)
    await eventually(lambda: "Cancelled" in double.texts_to(EDITOR)[-1])
    await settled(bot)
    assert received(double, SUBSCRIBER, "news") == 0


async def test_editors_commands_stay_out_of_groups(
    double: TelegramDouble, start_bot: StartBot
) -> None:
    await editors_bot(start_bot)
    double.send_command(-1001, "/stats", user_id=EDITOR)
    await eventually(lambda: any("private chat" in t for t in double.texts_to(-1001)))


async def test_channels_are_subscribed_only_from_a_private_chat(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    await newsroom(start_bot, write_post, admin_ids=frozenset({BOT_ADMIN}))
    make_channel(double, CHANNEL, "newsdesk", bot_status="administrator")
    double.send_command(GROUP, "/subscribe @newsdesk", user_id=BOT_ADMIN)
    await reply(double, GROUP, "from a private chat")


# --- the rule, with plain values -----------------------------------------------------------------

EDITORS = frozenset({EDITOR})


def test_a_private_chat_changes_itself_a_group_asks_telegram_a_channel_nobody() -> None:
    def ruling(chat_type: str | None, *, as_the_chat: bool = False) -> Ruling:
        asker = Asker(MEMBER, None if chat_type is None else -5, chat_type, as_the_chat)
        return rule(Need.CHAT_ADMIN, asker, EDITORS)

    assert ruling("private") is Ruling.ALLOWED
    assert ruling("supergroup") is Ruling.ASK_TELEGRAM
    assert ruling("group") is Ruling.ASK_TELEGRAM
    assert ruling("supergroup", as_the_chat=True) is Ruling.ALLOWED  # an anonymous admin
    assert ruling("channel") is Ruling.NOT_CHAT_ADMIN
    assert ruling(None) is Ruling.NOT_CHAT_ADMIN


def test_editors_are_the_configured_users_and_some_commands_want_a_private_chat() -> None:
    private, group = Asker(EDITOR, EDITOR, "private"), Asker(EDITOR, GROUP, "supergroup")
    assert rule(Need.EDITOR_IN_PRIVATE, private, EDITORS) is Ruling.ALLOWED
    assert rule(Need.EDITOR_IN_PRIVATE, group, EDITORS) is Ruling.NOT_PRIVATE
    assert rule(Need.EDITOR, group, EDITORS) is Ruling.ALLOWED  # a press on their button
    stranger = Asker(STRANGER, STRANGER, "private")
    assert rule(Need.EDITOR_IN_PRIVATE, stranger, EDITORS) is Ruling.NOT_EDITOR
    assert rule(Need.EDITOR, stranger, EDITORS) is Ruling.NOT_EDITOR
    assert rule(Need.EDITOR, private, frozenset()) is Ruling.NOT_EDITOR  # no editors at all


def test_an_anonymous_admin_is_the_group_writing_as_itself() -> None:
    group = {"id": GROUP, "type": "supergroup", "title": "Team"}
    message = {
        "message_id": 1,
        "date": 0,
        "chat": group,
        "from": {"id": 1087968824, "is_bot": True, "first_name": "Group"},
        "text": "/start",
    }
    anonymous = Update.de_json({"update_id": 1, "message": {**message, "sender_chat": group}})
    assert asker_of(anonymous) == Asker(1087968824, GROUP, "supergroup", as_the_chat=True)
    other = {"id": -100777, "type": "channel", "title": "A linked channel"}
    linked = Update.de_json({"update_id": 2, "message": {**message, "sender_chat": other}})
    assert asker_of(linked) == Asker(1087968824, GROUP, "supergroup", as_the_chat=False)
    assert asker_of(Update.de_json({"update_id": 3})) is None


def test_the_bot_posts_in_a_channel_as_an_administrator_allowed_to_post() -> None:
    bot = User(1, "newsbot", is_bot=True)
    assert may_post(ChatMemberAdministrator(bot, *[True] * 12, can_post_messages=True))
    assert may_post(ChatMemberAdministrator(bot, *[True] * 12))  # unstated: allowed
    assert not may_post(ChatMemberAdministrator(bot, *[True] * 12, can_post_messages=False))
    assert may_post(ChatMemberOwner(bot, is_anonymous=False))
    assert not may_post(ChatMemberMember(bot))
    assert not may_post(None)


async def test_a_group_admin_check_is_remembered_for_a_minute(double: TelegramDouble) -> None:
    now = [1000.0]
    access = Access(EDITORS, clock=lambda: now[0])
    double.set_member_status(GROUP, ADMIN, "administrator")

    def asking(user_id: int) -> Update:
        message = {
            "message_id": 1,
            "date": 0,
            "chat": {"id": GROUP, "type": "supergroup", "title": "Team"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Ann"},
            "text": "/start",
        }
        return Update.de_json({"update_id": 1, "message": message})

    async with Bot(TOKEN, base_url=double.base_url) as bot:
        assert await access.check(asking(ADMIN), bot, Need.CHAT_ADMIN) is Ruling.ALLOWED
        assert await access.check(asking(MEMBER), bot, Need.CHAT_ADMIN) is Ruling.NOT_CHAT_ADMIN
        double.set_member_status(GROUP, ADMIN, "member")  # demoted: not known for a minute
        assert await access.check(asking(ADMIN), bot, Need.CHAT_ADMIN) is Ruling.ALLOWED
        assert len(double.calls("getChatMember")) == 2
        now[0] += 61
        assert await access.check(asking(ADMIN), bot, Need.CHAT_ADMIN) is Ruling.NOT_CHAT_ADMIN
        double.fail_next("getChatMember", status=400, description="Bad Request: chat not found")
        now[0] += 61
        assert await access.check(asking(MEMBER), bot, Need.CHAT_ADMIN) is Ruling.NOT_CHAT_ADMIN
        double.set_member_status(GROUP, MEMBER, "creator")
        assert await access.check(asking(MEMBER), bot, Need.CHAT_ADMIN) is Ruling.ALLOWED
        assert len(double.calls("getChatMember")) == 5  # a failed check is not remembered
