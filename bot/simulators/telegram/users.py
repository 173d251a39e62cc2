"""Telegram ``User`` and ``Chat`` objects for the customers and chats tests invent."""

from __future__ import annotations

from .records import JsonDict


def telegram_user(
    user_id: int,
    *,
    first_name: str = "Ada",
    last_name: str | None = "Lovelace",
    username: str | None = None,
    language_code: str | None = "en",
) -> JsonDict:
    """A Telegram ``User`` object for a customer (``username`` defaults to ``customer<id>``)."""
    user: JsonDict = {
        "id": user_id,
        "is_bot": False,
        "first_name": first_name,
        "last_name": last_name,
        "username": username if username is not None else f"customer{user_id}",
        "language_code": language_code,
    }
    return {k: v for k, v in user.items() if v is not None}


def private_chat(user: JsonDict) -> JsonDict:
    """The private ``Chat`` between the bot and ``user`` (its id is the user's id)."""
    chat = {"id": user["id"], "type": "private"}
    chat.update({k: user[k] for k in ("first_name", "last_name", "username") if k in user})
    return chat


def group_chat(chat_id: int, *, title: str = "Support group", chat_type: str = "group") -> JsonDict:
    """A ``Chat`` of type group, supergroup or channel (Telegram's ids for these are negative)."""
    if chat_type not in ("group", "supergroup", "channel"):
        raise ValueError(f"not a group chat type: {chat_type!r}")
    return {"id": chat_id, "type": chat_type, "title": title}
