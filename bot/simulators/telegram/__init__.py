"""A local Telegram Bot API server for tests and the offline sandbox.

It speaks the real HTTP protocol (``{api_url}/bot{token}/{method}``, JSON or form bodies,
``{"ok": ..., "result": ...}`` answers with Telegram's error codes and descriptions) closely
enough that python-telegram-bot runs against it unmodified. Tests drive it through plain
Python methods of :class:`TelegramSimulator`: inject what a customer does (``send_text``,
``press_button``, ...), read what the bot did (``calls``, ``messages_to``), await it
instead of sleeping (``wait_for_call``, ``wait_for_messages``), make the next calls
fail (``fail_next``) or answer 429 for a while (``flood``), and queue updates a client may
not decode (``send_malformed``, ``send_raw_update``).

Deliberate simplifications: files customers send download as stand-ins unless a test gives
their bytes (see :mod:`.files`), and files the bot sends are not stored; message lengths are
counted in UTF-16 code units (as Telegram does for entities, so never looser than the real
limit); ``parse_mode`` is recorded but not parsed; webhooks may be plain ``http://``;
updates are delivered to a webhook one at a time, in order, unless ``webhook_connections``
allows more at once (as Telegram does up to ``max_connections``, 40 by default: different
chats' updates at once, one chat's one after another).

- :mod:`.server`: :class:`TelegramSimulator`, its HTTP routes and the test API
- :mod:`.methods`: the Bot API methods; :mod:`.params`, :mod:`.validation` their input
- :mod:`.inject`: what customers do; :mod:`.users`: the users and chats they do it in
- :mod:`.chats`, :mod:`.updates`, :mod:`.webhook`: messages, the update queue, webhook mode
- :mod:`.files`: the files customers sent, for getFile and downloads
- :mod:`.records`, :mod:`.faults`: what tests read and await, and injected failures

Run ``python -m bot.simulators.telegram --port 8081`` to serve it on its own.
"""

from .files import MAX_DOWNLOAD_SIZE, PHOTO_CONTENT
from .methods import ApiMethod
from .records import Call, Injected, JsonDict, SentMessage
from .server import DEFAULT_TOKEN, FILE_DOWNLOAD, TelegramSimulator
from .users import group_chat, private_chat, telegram_user
from .validation import MAX_CALLBACK_DATA_BYTES, MAX_MESSAGE_LENGTH
from .webhook import SECRET_HEADER, WebhookDelivery

__all__ = [
    "DEFAULT_TOKEN",
    "FILE_DOWNLOAD",
    "MAX_CALLBACK_DATA_BYTES",
    "MAX_DOWNLOAD_SIZE",
    "MAX_MESSAGE_LENGTH",
    "PHOTO_CONTENT",
    "SECRET_HEADER",
    "ApiMethod",
    "Call",
    "Injected",
    "JsonDict",
    "SentMessage",
    "TelegramSimulator",
    "WebhookDelivery",
    "group_chat",
    "private_chat",
    "telegram_user",
]
