"""Fetching a file a customer sent: ``getFile`` for its path, then its bytes.

Bots may download files of up to 20 MB from the Bot API; larger ones are refused here
before anything is fetched, when the size is known in advance. The download URL contains
the bot token, so it is never named in an error (PTB's messages are masked by
:class:`~.delivery.Delivery`).
"""

from __future__ import annotations

from telegram import Bot

from handoff.errors import DeliveryError
from handoff.model import Attachment

from .delivery import Delivery

MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024


async def download(
    bot: Bot, delivery: Delivery, attachment: Attachment, *, limit: int = MAX_DOWNLOAD_BYTES
) -> bytes:
    """The bytes of ``attachment``; raises DeliveryError if it cannot be fetched."""
    what = f"file {attachment.file_id}"
    _check_size(attachment.size, what, limit)
    file = await delivery.call(f"the details of {what}", lambda: bot.get_file(attachment.file_id))
    _check_size(file.file_size, what, limit)  # the message may not have said
    if not file.file_path:
        raise DeliveryError(f"Telegram gave no path to download {what}")
    data = await delivery.call(f"the download of {what}", file.download_as_bytearray)
    _check_size(len(data), what, limit)
    return bytes(data)


def _check_size(size: int | None, what: str, limit: int) -> None:
    if size is not None and size > limit:
        raise DeliveryError(
            f"{what} is too large to fetch: {size:,} bytes, more than the {limit:,} bytes "
            "a bot may download"
        )
