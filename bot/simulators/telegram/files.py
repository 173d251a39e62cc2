"""Files customers send, kept so that the bot can fetch them as from Telegram: ``getFile``
gives a ``file_path``, and the bytes are served at ``/file/bot{token}/{file_path}``.

The bytes are deterministic stand-ins unless a test gives them: a tiny valid PNG for every
photo size (so that whatever shows it can decode it), a line naming the file otherwise.
``getFile`` reports the size the message declared, which the stand-in need not match.
"""

from __future__ import annotations

import itertools
import re
import struct
import zlib
from dataclasses import dataclass
from pathlib import PurePosixPath

from .records import JsonDict

MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024  # the largest file a bot may download (getFile refuses)


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A PNG of one colour, built by hand: the simulator needs no imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        checksum = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", checksum)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    rows = (b"\x00" + bytes(rgb) * width) * height  # each row: filter type 0, then pixels
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


PHOTO_CONTENT = _png(4, 3, (74, 144, 217))  # what every simulated photo downloads as

# Telegram's folder for each kind of file, and the extension it gives a file without a name.
_LAYOUT = {
    "photo": ("photos", ".jpg"),
    "document": ("documents", ""),
    "sticker": ("stickers", ".webp"),
    "voice": ("voice", ".oga"),
    "audio": ("music", ".mp3"),
    "video": ("videos", ".mp4"),
    "animation": ("animations", ".mp4"),
    "video_note": ("video_notes", ".mp4"),
}
_SAFE_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,8}")


@dataclass(frozen=True, slots=True)
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    size: int  # as the message declared it; what getFile reports
    content: bytes

    def described(self) -> JsonDict:
        """Telegram's ``File`` object, as getFile answers it."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
            "file_path": self.file_path,
        }


class FileStore:
    def __init__(self) -> None:
        self._by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._numbers = itertools.count(1)

    def by_id(self, file_id: str) -> StoredFile | None:
        return self._by_id.get(file_id)

    def content_at(self, file_path: str) -> bytes | None:
        stored = self._by_path.get(file_path)
        return None if stored is None else stored.content

    def keep(self, kind: str, media: JsonDict, content: bytes | None = None) -> None:
        """Keep the file ``media`` describes (a ``PhotoSize``, ``Document``, ...), once."""
        file_id = media.get("file_id")
        if not isinstance(file_id, str) or file_id in self._by_id:
            return
        folder, default_suffix = _LAYOUT[kind]
        if content is None:
            content = PHOTO_CONTENT if kind == "photo" else _stand_in(kind, media)
        suffix = PurePosixPath(str(media.get("file_name", ""))).suffix
        suffix = suffix if _SAFE_SUFFIX.fullmatch(suffix) else default_suffix
        declared = media.get("file_size")
        stored = StoredFile(
            file_id=file_id,
            file_unique_id=str(media.get("file_unique_id", file_id)),
            file_path=f"{folder}/file_{next(self._numbers)}{suffix}",
            size=declared if isinstance(declared, int) else len(content),
            content=content,
        )
        self._by_id[file_id] = stored
        self._by_path[stored.file_path] = stored

    def keep_all(self, message_content: JsonDict) -> None:
        """Keep every file in a message's content, so that each can be fetched."""
        for kind in _LAYOUT:
            value = message_content.get(kind)
            for media in value if isinstance(value, list) else [value]:
                if isinstance(media, dict):
                    self.keep(kind, media)


def _stand_in(kind: str, media: JsonDict) -> bytes:
    name = media.get("file_name") or media["file_id"]
    return f"Simulated Telegram {kind}: {name}\n".encode()
