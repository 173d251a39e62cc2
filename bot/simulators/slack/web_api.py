"""The Web API methods: each reads the request's parameters, changes the workspace, and
returns the fields of Slack's ``ok: true`` answer, or raises :class:`MethodError`.

Only what Tandem uses is here, answered with the fields Slack documents for it; anything else
answers ``unknown_method``. HTTP, tokens and fault injection are the server's business.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass

from bot.simulators.slack import defaults
from bot.simulators.slack.errors import MethodError
from bot.simulators.slack.records import EphemeralMessage, RecordLog, UploadedFile
from bot.simulators.slack.workspace import JsonDict, Message, Reaction, Workspace


@dataclass(frozen=True, slots=True)
class MethodRequest:
    params: JsonDict
    uploads: dict[str, tuple[str, int]]
    """Multipart file parts by field name: (file name, size in bytes)."""
    origin: str
    """The simulator's own ``http://host:port``, for URLs it hands out."""


Method = Callable[[MethodRequest], JsonDict]


def _text(params: JsonDict, name: str, *, error: str) -> str:
    """A required string parameter; Slack names the missing one in a method-specific error."""
    value = params.get(name)
    if not isinstance(value, str) or not value:
        raise MethodError(error)
    return value


def _optional(params: JsonDict, name: str) -> str | None:
    value = params.get(name)
    return str(value) if value not in (None, "") else None


def _flag(params: JsonDict, name: str) -> bool:
    """Booleans arrive as JSON ``true``, or as ``"1"``/``"true"`` in query strings and forms."""
    return params.get(name) in (True, 1, "1", "true")


# conversations.replies: Slack's default and largest page.
PAGE_LIMIT = 1000
CURSOR_PREFIX = "next_"


def _page(params: JsonDict, items: list[JsonDict]) -> JsonDict:
    """One page of ``items`` as ``limit`` and ``cursor`` ask, with the cursor to the next."""
    try:
        limit = min(max(int(params.get("limit") or PAGE_LIMIT), 1), PAGE_LIMIT)
    except (TypeError, ValueError):
        raise MethodError("invalid_limit") from None
    cursor = str(params.get("cursor") or "")
    start = 0
    if cursor:
        offset = cursor.removeprefix(CURSOR_PREFIX)
        if not cursor.startswith(CURSOR_PREFIX) or not offset.isdigit():
            raise MethodError("invalid_cursor")
        start = int(offset)
    end = start + limit
    more = end < len(items)
    return {
        "messages": items[start:end],
        "has_more": more,
        "response_metadata": {"next_cursor": f"{CURSOR_PREFIX}{end}" if more else ""},
    }


def _metadata(params: JsonDict) -> JsonDict | None:
    """A message's ``metadata``: an ``event_type`` and an ``event_payload`` object."""
    metadata = params.get("metadata")
    if metadata is None:
        return None
    if (
        not isinstance(metadata, dict)
        or not isinstance(metadata.get("event_type"), str)
        or not isinstance(metadata.get("event_payload"), dict)
    ):
        raise MethodError("invalid_metadata_format")
    return metadata


@dataclass(slots=True)
class _PendingUpload:
    name: str
    size: int


class WebApi:
    def __init__(
        self,
        *,
        workspace: Workspace,
        ephemerals: RecordLog[EphemeralMessage],
        files: RecordLog[UploadedFile],
    ) -> None:
        self._ws = workspace
        self._ephemerals = ephemerals
        self._files = files
        self._deleted_files: set[str] = set()
        self._file_ids = (f"F{n:07d}" for n in itertools.count(1))
        self._pending: dict[str, _PendingUpload] = {}
        self._view_ids = itertools.count(1)
        self._methods: dict[str, Method] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "users.info": self._users_info,
            "usergroups.list": self._usergroups_list,
            "usergroups.users.list": self._usergroups_users_list,
            "conversations.info": self._conversations_info,
            "conversations.join": self._conversations_join,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "reactions.add": self._reactions_add,
            "files.upload": self._files_upload,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "files.completeUploadExternal": self._files_complete_upload_external,
            "files.delete": self._files_delete,
            "views.open": self._views_open,
        }

    def knows(self, method: str) -> bool:
        return method in self._methods

    def call(self, method: str, request: MethodRequest) -> JsonDict:
        """The answer's fields after ``ok: true``; raises ``MethodError`` for ``ok: false``."""
        handler = self._methods.get(method)
        if handler is None:
            raise MethodError("unknown_method")
        return handler(request)

    def receive_upload(self, file_id: str, data: bytes) -> bool:
        """Step 2 of ``files_upload_v2``: the bytes POSTed to the URL we handed out."""
        pending = self._pending.get(file_id)
        if pending is None:
            return False
        pending.size = len(data)
        return True

    # -- auth, users, conversations

    def _auth_test(self, request: MethodRequest) -> JsonDict:
        return {
            "url": defaults.TEAM_URL,
            "team": defaults.TEAM_NAME,
            "user": defaults.BOT_NAME,
            "team_id": defaults.TEAM_ID,
            "user_id": defaults.BOT_USER_ID,
            "bot_id": defaults.BOT_ID,
            "is_enterprise_install": False,
        }

    def _users_info(self, request: MethodRequest) -> JsonDict:
        user_id = _text(request.params, "user", error="user_not_found")
        return {"user": self._ws.user(user_id).to_api()}

    def _usergroups_list(self, request: MethodRequest) -> JsonDict:
        return {"usergroups": [group.to_api() for group in self._ws.usergroups.values()]}

    def _usergroups_users_list(self, request: MethodRequest) -> JsonDict:
        group_id = _text(request.params, "usergroup", error="no_such_subteam")
        return {"users": list(self._ws.usergroup(group_id).users)}

    def _conversations_info(self, request: MethodRequest) -> JsonDict:
        channel_id = _text(request.params, "channel", error="channel_not_found")
        return {"channel": self._ws.channel(channel_id).to_api()}

    def _conversations_join(self, request: MethodRequest) -> JsonDict:
        channel_id = _text(request.params, "channel", error="channel_not_found")
        already = self._ws.channel(channel_id).is_member
        answer: JsonDict = {"channel": self._ws.join(channel_id).to_api()}
        if already:
            answer["warning"] = "already_in_channel"
        return answer

    def _conversations_history(self, request: MethodRequest) -> JsonDict:
        params = request.params
        channel = self._ws.channel(_text(params, "channel", error="channel_not_found"))
        shown = _flag(params, "include_all_metadata")
        messages = [self._with_replies(m, shown) for m in reversed(self._ws.history(channel.id))]
        return {"messages": messages, "has_more": False, "response_metadata": {"next_cursor": ""}}

    def _conversations_replies(self, request: MethodRequest) -> JsonDict:
        params = request.params
        channel = self._ws.channel(_text(params, "channel", error="channel_not_found"))
        ts = _text(params, "ts", error="thread_not_found")
        thread = self._ws.thread(channel.id, ts)
        if not thread:
            raise MethodError("thread_not_found")
        shown = _flag(params, "include_all_metadata")
        return _page(params, [self._with_replies(m, shown) for m in thread])

    def _with_replies(self, message: Message, with_metadata: bool) -> JsonDict:
        """A thread parent carries counts of its replies, computed as Slack shows them."""
        api = message.to_api(with_metadata=with_metadata)
        if message.thread_ts == message.ts:
            replies = self._ws.thread(message.channel, message.ts)[1:]
            api["reply_count"] = len(replies)
            api["reply_users"] = sorted({r.user for r in replies})
            api["reply_users_count"] = len(api["reply_users"])
            api["latest_reply"] = replies[-1].ts if replies else message.ts
        return api

    # -- chat

    def _member_channel(self, params: JsonDict) -> str:
        channel = self._ws.channel(_text(params, "channel", error="channel_not_found"))
        if not channel.is_member:
            raise MethodError("not_in_channel")
        return channel.id

    def _chat_post_message(self, request: MethodRequest) -> JsonDict:
        params = request.params
        channel_id = self._member_channel(params)
        text = _optional(params, "text") or ""
        if not (text or params.get("blocks") or params.get("attachments")):
            raise MethodError("no_text")
        thread_ts = _optional(params, "thread_ts")
        message = self._ws.post(
            Message(
                channel=channel_id,
                ts=self._ws.next_ts(),
                text=text,
                user=defaults.BOT_USER_ID,
                bot_id=defaults.BOT_ID,
                blocks=params.get("blocks"),
                attachments=params.get("attachments"),
                thread_ts=thread_ts,
                broadcast=thread_ts is not None and _flag(params, "reply_broadcast"),
                metadata=_metadata(params),
            )
        )
        return {"channel": channel_id, "ts": message.ts, "message": message.to_api()}

    def _chat_update(self, request: MethodRequest) -> JsonDict:
        params = request.params
        channel_id = self._ws.channel(_text(params, "channel", error="channel_not_found")).id
        old = self._ws.message(channel_id, _text(params, "ts", error="message_not_found"))
        if old.user != defaults.BOT_USER_ID:
            raise MethodError("cant_update_message")
        # Slack keeps the previous blocks and attachments when the update leaves them out.
        new = dataclasses.replace(
            old,
            text=str(params["text"]) if "text" in params else old.text,
            blocks=params.get("blocks", old.blocks),
            attachments=params.get("attachments", old.attachments),
            edited_ts=self._ws.next_ts(),
        )
        self._ws.replace(new)
        return {"channel": channel_id, "ts": new.ts, "text": new.text, "message": new.to_api()}

    def _chat_post_ephemeral(self, request: MethodRequest) -> JsonDict:
        params = request.params
        channel_id = self._member_channel(params)
        user = self._ws.user(_text(params, "user", error="user_not_in_channel"))
        ephemeral = EphemeralMessage(
            channel=channel_id,
            user=user.id,
            ts=self._ws.next_ts(),
            text=_optional(params, "text") or "",
            blocks=params.get("blocks"),
            thread_ts=_optional(params, "thread_ts"),
        )
        self._ephemerals.append(ephemeral)
        return {"message_ts": ephemeral.ts}

    def _chat_delete(self, request: MethodRequest) -> JsonDict:
        params = request.params
        channel_id = self._ws.channel(_text(params, "channel", error="channel_not_found")).id
        ts = _text(params, "ts", error="message_not_found")
        if self._ws.message(channel_id, ts).user != defaults.BOT_USER_ID:
            raise MethodError("cant_delete_message")
        self._ws.delete(channel_id, ts)
        return {"channel": channel_id, "ts": ts}

    def _chat_get_permalink(self, request: MethodRequest) -> JsonDict:
        params = request.params
        channel_id = self._ws.channel(_text(params, "channel", error="channel_not_found")).id
        message = self._ws.message(
            channel_id, _text(params, "message_ts", error="message_not_found")
        )
        permalink = f"{defaults.TEAM_URL}archives/{channel_id}/p{message.ts.replace('.', '')}"
        if message.is_reply:
            permalink += f"?thread_ts={message.thread_ts}&cid={channel_id}"
        return {"channel": channel_id, "permalink": permalink}

    def _views_open(self, request: MethodRequest) -> JsonDict:
        """A modal opened for a trigger (a click or a shortcut); tests read it from the
        recorded call, and answer it with :meth:`SlackEventSender.view_submission`."""
        params = request.params
        _text(params, "trigger_id", error="invalid_trigger_id")
        view = params.get("view")
        if isinstance(view, str):
            try:
                view = json.loads(view)
            except ValueError:
                raise MethodError("invalid_arguments") from None
        if not isinstance(view, dict) or view.get("type") != "modal" or not view.get("title"):
            raise MethodError("invalid_arguments")
        return {"view": {**view, "id": f"V{next(self._view_ids):09d}", "state": {"values": {}}}}

    def _reactions_add(self, request: MethodRequest) -> JsonDict:
        params = request.params
        channel_id = self._ws.channel(_text(params, "channel", error="channel_not_found")).id
        message = self._ws.message(
            channel_id, _text(params, "timestamp", error="message_not_found")
        )
        name = _text(params, "name", error="invalid_name").strip(":")
        reactions = {r.name: r for r in message.reactions}
        users = reactions[name].users if name in reactions else ()
        if defaults.BOT_USER_ID in users:
            raise MethodError("already_reacted")
        reactions[name] = Reaction(name=name, users=(*users, defaults.BOT_USER_ID))
        self._ws.replace(dataclasses.replace(message, reactions=tuple(reactions.values())))
        return {}

    # -- files: accepted and recorded by name and title; the bytes are only counted

    def _files_upload(self, request: MethodRequest) -> JsonDict:
        params = request.params
        name, size = request.uploads.get("file", ("", len(str(params.get("content", "")))))
        name = _optional(params, "filename") or name or "file"
        channels = tuple(c for c in str(params.get("channels", "")).split(",") if c)
        for channel_id in channels:
            self._ws.channel(channel_id)
        uploaded = UploadedFile(
            id=next(self._file_ids),
            name=name,
            title=_optional(params, "title") or name,
            channels=channels,
            thread_ts=_optional(params, "thread_ts"),
            size=size,
        )
        self._files.append(uploaded)
        return {"file": _file_api(uploaded)}

    def _files_get_upload_url_external(self, request: MethodRequest) -> JsonDict:
        name = _text(request.params, "filename", error="invalid_arguments")
        file_id = next(self._file_ids)
        self._pending[file_id] = _PendingUpload(name=name, size=0)
        return {"upload_url": f"{request.origin}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload_external(self, request: MethodRequest) -> JsonDict:
        params = request.params
        channel_id = _optional(params, "channel_id")
        channels = (channel_id,) if channel_id else ()
        if channel_id is not None:
            self._ws.channel(channel_id)
        entries = params.get("files")
        if not isinstance(entries, list) or not entries:
            raise MethodError("invalid_arguments")
        completed = []
        for entry in entries:
            pending = self._pending.pop(str(entry.get("id")), None)
            if pending is None:
                raise MethodError("file_not_found")
            uploaded = UploadedFile(
                id=str(entry["id"]),
                name=pending.name,
                title=str(entry.get("title") or pending.name),
                channels=channels,
                thread_ts=_optional(params, "thread_ts"),
                size=pending.size,
            )
            self._files.append(uploaded)
            completed.append(_file_api(uploaded))
        if channel_id is not None:
            # Slack shares the files in one message of the channel (or the thread), its
            # text the initial comment; message metadata cannot be given to it.
            self._ws.post(
                Message(
                    channel=channel_id,
                    ts=self._ws.next_ts(),
                    text=_optional(params, "initial_comment") or "",
                    user=defaults.BOT_USER_ID,
                    bot_id=defaults.BOT_ID,
                    blocks=None if params.get("initial_comment") else params.get("blocks"),
                    thread_ts=_optional(params, "thread_ts"),
                    files=completed,
                )
            )
        return {"files": completed}

    def _files_delete(self, request: MethodRequest) -> JsonDict:
        # The record of uploads stays (it is the simulator's history); a deleted file is
        # gone for the API: deleting it again is file_not_found, as in Slack.
        file_id = _text(request.params, "file", error="file_not_found")
        known = {uploaded.id for uploaded in self._files.items}
        if file_id not in known or file_id in self._deleted_files:
            raise MethodError("file_not_found")
        self._deleted_files.add(file_id)
        # The message that shared it stays, the file shown there as deleted.
        for message in self._ws.messages_with_file(file_id):
            files = [
                {"id": file_id, "mode": "tombstone"} if f.get("id") == file_id else f
                for f in message.files or []
            ]
            self._ws.replace(dataclasses.replace(message, files=files))
        return {}


def _file_api(uploaded: UploadedFile) -> JsonDict:
    return {
        "id": uploaded.id,
        "name": uploaded.name,
        "title": uploaded.title,
        "size": uploaded.size,
        "user": defaults.BOT_USER_ID,
        "channels": list(uploaded.channels),
        "url_private": f"https://files.slack.com/files-pri/{defaults.TEAM_ID}-{uploaded.id}/x",
    }
