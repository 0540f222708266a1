"""Who may do what: group admins, anonymous admins, editors, and the bot itself in channels."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import StartBot
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
from tests.helpers import WritePost, eventually
from tests.telegram_double import TelegramDouble


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
    await finish(bot)
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
