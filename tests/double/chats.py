"""Who is who: the bot itself, the chats it talks to and their members.

Chat kinds follow Telegram's id conventions (positive: a private chat; -100...: a supergroup;
other negative ids: a basic group) unless a test says otherwise in `chat_types`. A chat
can be made to refuse the bot the way Telegram does: blocked or kicked (`forbidden_chats`, 403),
gone (`missing_chats`, "chat not found") or upgraded to a supergroup (`migrations`, with
`migrate_to_chat_id`). Every method addressed to a chat checks these first, in Telegram's order.
"""

from __future__ import annotations

from tests.double.state import DoubleState
from tests.double.wire import ApiError, Call, JSONDict, bad_request


class ChatsMixin(DoubleState):
    """Chats, users and members; configuration attributes apply to the next request."""

    def __init__(self) -> None:
        """Nothing known yet: every chat is what its id says, every user a plain member."""
        super().__init__()
        self.chat_types: dict[int, str] = {}
        self.chat_titles: dict[int, str] = {}
        self.chat_usernames: dict[str, int] = {}
        self.forbidden_chats: set[int] = set()
        self.missing_chats: set[int] = set()
        self.migrations: dict[int, int] = {}
        self.forum_chats: set[int] = set()
        """Supergroups with topics (`is_forum`); see `tests.double.topics`."""
        self.member_statuses: dict[tuple[int, int], str] = {}
        self._users: dict[int, JSONDict] = {}

    def chat_type(self, chat_id: int) -> str:
        """Chat type by Telegram's id conventions, unless overridden in ``chat_types``."""
        if chat_id in self.chat_types:
            return self.chat_types[chat_id]
        if chat_id > 0:
            return "private"
        return "supergroup" if str(chat_id).startswith("-100") else "group"

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """Sets what getChatMember answers for (chat, user)."""
        known = {"creator", "administrator", "member", "restricted", "left", "kicked"}
        if status not in known:
            raise ValueError(f"unknown chat member status {status!r}; use one of {known}")
        self.member_statuses[(chat_id, user_id)] = status

    def _chat_object(self, chat_id: int) -> JSONDict:
        kind = self.chat_type(chat_id)
        chat: JSONDict = {"id": chat_id, "type": kind}
        if kind == "private":
            user = self._users.get(chat_id, {})
            chat["first_name"] = user.get("first_name", "Test")
            if "username" in user:
                chat["username"] = user["username"]
        else:
            chat["title"] = self.chat_titles.get(chat_id, f"Test {kind} {chat_id}")
            if chat_id in self.forum_chats:
                chat["is_forum"] = True
            for username, known_id in self.chat_usernames.items():
                if known_id == chat_id:
                    chat["username"] = username
                    break
        return chat

    def _target_chat(self, params: JSONDict) -> int:
        """Resolves chat_id and applies the configured chat faults, in Telegram's order."""
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        if isinstance(raw, str):
            resolved = self.chat_usernames.get(raw.removeprefix("@").lower())
            if resolved is None:
                raise bad_request("chat not found")
            raw = resolved
        chat_id = int(raw)
        if chat_id in self.migrations:
            raise bad_request(
                "group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self.migrations[chat_id]},
            )
        if chat_id in self.missing_chats:
            raise bad_request("chat not found")
        if chat_id in self.forbidden_chats:
            raise ApiError(403, self._forbidden_description(chat_id))
        return chat_id

    def _forbidden_description(self, chat_id: int) -> str:
        kind = self.chat_type(chat_id)
        if kind == "private":
            return "Forbidden: bot was blocked by the user"
        if kind == "channel":
            return "Forbidden: bot is not a member of the channel chat"
        return f"Forbidden: bot was kicked from the {kind} chat"

    async def _get_me(self, call: Call) -> JSONDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_chat(self, call: Call) -> JSONDict:
        chat_id = self._target_chat(call.params)
        return {
            **self._chat_object(chat_id),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    async def _get_chat_member(self, call: Call) -> JSONDict:
        chat_id = self._target_chat(call.params)
        user_id = call.params.get("user_id")
        if not isinstance(user_id, int):
            raise bad_request("invalid user_id specified")
        if user_id == self.bot_user["id"]:
            user: JSONDict = dict(self.bot_user)
        else:
            user = self._users.get(user_id) or {
                "id": user_id,
                "is_bot": False,
                "first_name": "Test",
            }
        return _chat_member(self.member_statuses.get((chat_id, user_id), "member"), user)


def _chat_member(status: str, user: JSONDict) -> JSONDict:
    """A ChatMember dict with every field PTB 22.8 requires for that status."""
    member: JSONDict = {"status": status, "user": user}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        member.update(
            can_be_edited=False,
            is_anonymous=False,
            can_manage_chat=True,
            can_delete_messages=True,
            can_manage_video_chats=True,
            can_restrict_members=True,
            can_promote_members=False,
            can_change_info=True,
            can_invite_users=True,
            can_post_stories=False,
            can_edit_stories=False,
            can_delete_stories=False,
        )
    elif status == "kicked":
        member["until_date"] = 0
    elif status == "restricted":
        member.update(
            is_member=True,
            until_date=0,
            can_edit_tag=False,
            **dict.fromkeys(
                (
                    "can_change_info",
                    "can_invite_users",
                    "can_pin_messages",
                    "can_send_messages",
                    "can_send_polls",
                    "can_send_other_messages",
                    "can_add_web_page_previews",
                    "can_manage_topics",
                    "can_send_audios",
                    "can_send_documents",
                    "can_send_photos",
                    "can_send_videos",
                    "can_send_video_notes",
                    "can_send_voice_notes",
                    "can_react_to_messages",  # PTB 22.8 raises TypeError without it
                ),
                False,
            ),
        )
    return member
