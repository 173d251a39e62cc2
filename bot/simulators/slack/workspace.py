"""The simulated workspace's state: users, channels and the messages in them.

Values are frozen; an edit replaces the stored message. Lookups that fail raise
:class:`MethodError` with the error code Slack answers, so the Web API layer stays thin.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.simulators.slack import defaults
from bot.simulators.slack.errors import MethodError
from bot.simulators.slack.records import TimestampClock

JsonDict = dict[str, Any]


@dataclass(frozen=True, slots=True)
class SimulatedUserGroup:
    id: str
    handle: str
    users: tuple[str, ...]

    def to_api(self) -> JsonDict:
        """A ``usergroup`` object of ``usergroups.list``, with the fields clients read."""
        return {
            "id": self.id,
            "team_id": defaults.TEAM_ID,
            "handle": self.handle,
            "name": self.handle,
            "user_count": len(self.users),
        }


@dataclass(frozen=True, slots=True)
class SimulatedUser:
    id: str
    name: str
    real_name: str
    display_name: str
    is_bot: bool = False
    tz: str = "Europe/Berlin"
    bot_id: str | None = None

    def to_api(self) -> JsonDict:
        """The ``user`` object of ``users.info``, with the fields clients read."""
        offset = ZoneInfo(self.tz).utcoffset(datetime.now(UTC))
        profile: JsonDict = {
            "real_name": self.real_name,
            "real_name_normalized": self.real_name,
            "display_name": self.display_name,
            "display_name_normalized": self.display_name,
            "team": defaults.TEAM_ID,
            "image_72": f"https://avatars.example.invalid/{self.id}_72.png",
        }
        if self.bot_id is not None:
            profile["bot_id"] = self.bot_id
        return {
            "id": self.id,
            "team_id": defaults.TEAM_ID,
            "name": self.name,
            "deleted": False,
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_label": self.tz,
            "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
            "profile": profile,
            "is_admin": False,
            "is_owner": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
        }


@dataclass(frozen=True, slots=True)
class SimulatedChannel:
    id: str
    name: str
    is_member: bool = True
    """Whether the bot is in the channel; posting elsewhere answers ``not_in_channel``."""
    is_private: bool = False

    def to_api(self) -> JsonDict:
        return {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": not self.is_private,
            "is_group": self.is_private,
            "is_im": False,
            "is_private": self.is_private,
            "is_archived": False,
            "is_general": False,
            "is_member": self.is_member,
            "created": 1_700_000_000,
            "creator": defaults.ALICE_ID,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }


@dataclass(frozen=True, slots=True)
class Reaction:
    name: str
    users: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Message:
    """A message as it stands now (after edits) in a channel or a thread."""

    channel: str
    ts: str
    text: str
    user: str
    bot_id: str | None = None
    blocks: list[JsonDict] | None = None
    attachments: list[JsonDict] | None = None
    thread_ts: str | None = None
    """Set on replies and on thread parents (equal to ``ts``), as in Slack."""
    broadcast: bool = False
    """A reply also shown in the channel (``reply_broadcast``)."""
    edited_ts: str | None = None
    reactions: tuple[Reaction, ...] = ()
    metadata: JsonDict | None = None
    files: list[JsonDict] | None = None
    """The files a share carries (files.completeUploadExternal with a channel)."""

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def to_api(self, *, with_metadata: bool = True) -> JsonDict:
        """The message object of ``chat.postMessage`` and ``conversations.replies``; those
        that read history show ``metadata`` only when asked (``include_all_metadata``)."""
        message: JsonDict = {"type": "message", "ts": self.ts, "text": self.text}
        message["user"] = self.user
        if self.bot_id is not None:
            message["bot_id"] = self.bot_id
            message["app_id"] = defaults.APP_ID
        message["team"] = defaults.TEAM_ID
        optional: JsonDict = {
            "blocks": self.blocks,
            "attachments": self.attachments,
            "thread_ts": self.thread_ts,
            "metadata": self.metadata if with_metadata else None,
            "files": self.files,
        }
        message.update({key: value for key, value in optional.items() if value is not None})
        if self.files is not None:
            message["upload"] = True
        if self.broadcast:
            message["subtype"] = "thread_broadcast"
        if self.edited_ts is not None:
            message["edited"] = {"user": self.user, "ts": self.edited_ts}
        if self.reactions:
            message["reactions"] = [
                {"name": r.name, "users": list(r.users), "count": len(r.users)}
                for r in self.reactions
            ]
        return message


class Workspace:
    """Users, channels and messages; the Web API methods read and change it."""

    def __init__(self, *, clock: TimestampClock) -> None:
        self._clock = clock
        self.users: dict[str, SimulatedUser] = {}
        self.channels: dict[str, SimulatedChannel] = {}
        self.usergroups: dict[str, SimulatedUserGroup] = {}
        # Keyed by (channel, ts); insertion order is ts order because the clock only increases.
        self._messages: dict[tuple[str, str], Message] = {}

    def next_ts(self) -> str:
        return self._clock.next()

    def add_defaults(self) -> None:
        """The bot user, agents Alice and Bob, and ``#support-agents`` with the bot in it."""
        self.users[defaults.BOT_USER_ID] = SimulatedUser(
            id=defaults.BOT_USER_ID,
            name=defaults.BOT_NAME,
            real_name="Tandem",
            display_name="Tandem",
            is_bot=True,
            tz="America/Los_Angeles",  # the zone Slack gives bot users
            bot_id=defaults.BOT_ID,
        )
        for user in (
            SimulatedUser(
                id=defaults.ALICE_ID, name="alice", real_name="Alice Agent", display_name="Alice"
            ),
            SimulatedUser(
                id=defaults.BOB_ID,
                name="bob",
                real_name="Bob Builder",
                display_name="Bob",
                tz="America/New_York",
            ),
        ):
            self.users[user.id] = user
        self.channels[defaults.AGENTS_CHANNEL_ID] = SimulatedChannel(
            id=defaults.AGENTS_CHANNEL_ID, name=defaults.AGENTS_CHANNEL_NAME
        )
        self.usergroups[defaults.LEADS_GROUP_ID] = SimulatedUserGroup(
            id=defaults.LEADS_GROUP_ID, handle=defaults.LEADS_GROUP_HANDLE, users=(defaults.BOB_ID,)
        )

    def usergroup(self, group_id: str) -> SimulatedUserGroup:
        try:
            return self.usergroups[group_id]
        except KeyError:
            raise MethodError("no_such_subteam") from None

    def user(self, user_id: str) -> SimulatedUser:
        try:
            return self.users[user_id]
        except KeyError:
            raise MethodError("user_not_found") from None

    def channel(self, ref: str) -> SimulatedChannel:
        """By ID, or by ``#name`` as ``chat.postMessage`` also accepts."""
        if ref.startswith("#"):
            for channel in self.channels.values():
                if channel.name == ref[1:]:
                    return channel
        elif ref in self.channels:
            return self.channels[ref]
        raise MethodError("channel_not_found")

    def join(self, channel_id: str) -> SimulatedChannel:
        joined = dataclasses.replace(self.channel(channel_id), is_member=True)
        self.channels[joined.id] = joined
        return joined

    def post(self, message: Message) -> Message:
        """Store a new message; a reply marks its parent as a thread parent, as Slack does."""
        if message.is_reply and message.thread_ts is not None:
            parent = self._messages.get((message.channel, message.thread_ts))
            if parent is not None and parent.thread_ts is None:
                self.replace(dataclasses.replace(parent, thread_ts=parent.ts))
        self._messages[(message.channel, message.ts)] = message
        return message

    def message(self, channel_id: str, ts: str) -> Message:
        try:
            return self._messages[(channel_id, ts)]
        except KeyError:
            raise MethodError("message_not_found") from None

    def replace(self, message: Message) -> None:
        self._messages[(message.channel, message.ts)] = message

    def delete(self, channel_id: str, ts: str) -> Message:
        message = self.message(channel_id, ts)
        del self._messages[(channel_id, ts)]
        return message

    def history(self, channel_id: str) -> list[Message]:
        """What the channel shows: top-level messages and broadcast replies, oldest first."""
        return [
            m
            for m in self._messages.values()
            if m.channel == channel_id and (not m.is_reply or m.broadcast)
        ]

    def messages_with_file(self, file_id: str) -> list[Message]:
        return [
            m for m in self._messages.values() if any(f.get("id") == file_id for f in m.files or [])
        ]

    def thread(self, channel_id: str, thread_ts: str) -> list[Message]:
        """The parent and its replies, oldest first, like ``conversations.replies``."""
        return [
            m
            for m in self._messages.values()
            if m.channel == channel_id and thread_ts in (m.ts, m.thread_ts)
        ]
