"""End to end: the command menus, for readers in each language and for editors."""

from __future__ import annotations

from tests.conftest import StartBot
from tests.double import TelegramDouble
from tests.handlers.chat import (
    newsroom,
)
from tests.helpers import WritePost, eventually


async def test_menus_for_readers_in_two_languages_and_for_admins(
    double: TelegramDouble, start_bot: StartBot, write_post: WritePost
) -> None:
    await newsroom(start_bot, write_post, admin_ids=frozenset({77}))
    # English is set first, then Thai: wait for both before comparing them.
    await eventually(lambda: len(double.commands_for()) == 20)
    await eventually(lambda: len(double.commands_for(language_code="th")) == 20)
    reader = [c["command"] for c in double.commands_for()]
    assert reader[:16] == [
        "start",
        "latest",
        "search",
        "categories",
        "subscribe",
        "unsubscribe",
        "language",
        "settings",
        "digest",
        "quiet",
        "timezone",
        "mute",
        "only",
        "filters",
        "help",
        "stop",
    ]
    assert reader[16:] == ["asia_pacific", "business", "thailand", "world"]
    english = {c["command"]: c["description"] for c in double.commands_for()}
    thai = {c["command"]: c["description"] for c in double.commands_for(language_code="th")}
    assert english.keys() == thai.keys() and english["world"] == "Newest in WORLD"
    assert thai["help"] != english["help"]
    admin_scope = {"type": "chat", "chat_id": 77}
    await eventually(lambda: len(double.commands_for(admin_scope)) == 27)
    await eventually(lambda: len(double.commands_for(admin_scope, "th")) == 27)
    assert "channels" in [c["command"] for c in double.commands_for(admin_scope)]
    assert "progress" in [c["command"] for c in double.commands_for(admin_scope)]
    assert "channels" in [c["command"] for c in double.commands_for(admin_scope, "th")]
    assert "channels" not in english
