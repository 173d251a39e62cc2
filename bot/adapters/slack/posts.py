"""Messages in a handoff thread: what the customer sent, and Tandem's own notes.

A customer's words go in ``plain_text`` sections (verbatim, nothing to escape, nothing
inserted); the notification text is escaped mrkdwn. Long text is split over several
sections, and over several posts if need be; nothing is dropped. A file the customer sent
whose bytes were fetched is uploaded instead, with the words as its escaped comment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from handoff.model import Attachment, Customer, CustomerRelay, MessageKind

from .blocks import Block, SlackMessage, context, plain_section
from .cards import RETRY_ACTION, telegram_handle
from .escape import clean, escape_mrkdwn, plain_text
from .sizing import (
    BUTTON_TEXT_LIMIT,
    MAX_BLOCKS,
    SECTION_TEXT_LIMIT,
    TEXT_LIMIT,
    clip,
    split_text,
)

# 10 sections of 3,000: 30,000 characters per post, under Slack's 40,000 for a message.
SECTIONS_PER_POST = 10
FALLBACK_LIMIT = 2_000  # of a notification text, before escaping
NOTE_LIMIT = SECTION_TEXT_LIMIT
# Escaping at most quintuples a character, so an escaped comment stays within a message's
# text. Telegram's captions (4,096 characters at most) are never cut.
COMMENT_LIMIT = TEXT_LIMIT // 5
FILE_NAME_LIMIT = 255
# Telegram sends every photo as a JPEG without a name.
DEFAULT_FILE_NAMES = {MessageKind.PHOTO: "photo.jpg"}

# Files the customer sent; those not uploaded (not fetched) are described by kind.
FILE_KINDS = {
    MessageKind.PHOTO: "Photo",
    MessageKind.DOCUMENT: "Document",
    MessageKind.VIDEO: "Video",
    MessageKind.ANIMATION: "GIF",
    MessageKind.AUDIO: "Audio file",
    MessageKind.VOICE: "Voice message",
    MessageKind.VIDEO_NOTE: "Video message",
}
OTHER_KINDS = {
    MessageKind.STICKER: "[sticker]",
    MessageKind.LOCATION: "[location]",
    MessageKind.CONTACT: "[contact]",
    MessageKind.COMMAND: "[command]",
    MessageKind.BUTTON: "[pressed a button]",
    MessageKind.OTHER: "[a kind of message Tandem cannot show]",
}


def relay_posts(message: CustomerRelay, *, customer: Customer) -> list[SlackMessage]:
    """The posts that show ``message`` in the thread: one, unless the text is very long."""
    label = f"{'(edited) ' if message.edited else ''}👤 {_who(customer)}"
    note = _kind_note(message)
    text = message.text or ""
    pieces = split_text(text, SECTION_TEXT_LIMIT) if text.strip() else []
    if not pieces and note is None:
        note = "[an empty message]"
    groups = [pieces[i : i + SECTIONS_PER_POST] for i in range(0, len(pieces), SECTIONS_PER_POST)]
    groups = groups or [[]]
    posts = []
    for number, group in enumerate(groups, start=1):
        heading = label if number == 1 else f"{label} (continued, part {number} of {len(groups)})"
        blocks = [context(plain_text(heading))]
        if note is not None and number == 1:
            blocks.append(context(plain_text(note)))
        blocks += [plain_section(piece) for piece in group]
        shown = " ".join(part for part in (note if number == 1 else None, *group) if part)
        fallback = escape_mrkdwn(clip(f"{heading}: {shown}", FALLBACK_LIMIT))
        posts.append(SlackMessage(text=fallback, blocks=blocks))
    return posts


def merged_post(
    messages: Sequence[CustomerRelay], *, customer: Customer
) -> tuple[SlackMessage, int]:
    """One post showing as many of ``messages`` as fit, in order, and how many it shows
    (at least one, unless the first needs a post of its own: 0). Each message keeps its
    own sections, and a line saying what it was when it was not plain text."""
    heading = f"👤 {_who(customer)}"
    blocks = [context(plain_text(heading))]
    shown: list[str] = []
    count = 0
    for message in messages:
        if message.content is not None or message.replaces is not None:
            break  # a file is uploaded on its own; an edit shows in its earlier post
        own = _merged_blocks(message)
        text = message.text or ""
        if len(blocks) + len(own) > MAX_BLOCKS or sum(map(len, shown)) + len(text) > COMMENT_LIMIT:
            break
        blocks += own
        shown.append(text)
        count += 1
    fallback = escape_mrkdwn(clip(f"{heading}: {' / '.join(shown)}", FALLBACK_LIMIT))
    return SlackMessage(text=fallback, blocks=blocks), count


def _merged_blocks(message: CustomerRelay) -> list[Block]:
    notes = [note for note in ("(edited)" if message.edited else None, _kind_note(message)) if note]
    text = message.text or ""
    pieces = split_text(text, SECTION_TEXT_LIMIT) if text.strip() else []
    if not pieces and not notes:
        notes.append("[an empty message]")
    blocks = [context(plain_text(" ".join(notes)))] if notes else []
    return blocks + [plain_section(piece) for piece in pieces]


@dataclass(frozen=True, slots=True)
class FileUpload:
    """What ``files_upload_v2`` gets besides the bytes: the comment is escaped mrkdwn."""

    filename: str
    title: str
    comment: str


def relay_upload(message: CustomerRelay, *, customer: Customer) -> FileUpload:
    """The upload that shows a customer's file, with who sent it and their caption."""
    label = f"{'(edited) ' if message.edited else ''}👤 {_who(customer)}"
    kind = FILE_KINDS.get(message.kind, "File")
    caption = message.text if message.text and message.text.strip() else f"📎 {kind}"
    # The name is the customer's too: cleaned, because a bidi override can disguise
    # "invoice\u202efdp.exe" as "invoiceexe.pdf".
    given = message.attachment.file_name if message.attachment else None
    name = clip(clean(given or "").strip(), FILE_NAME_LIMIT)
    return FileUpload(
        filename=name or DEFAULT_FILE_NAMES.get(message.kind, "file"),
        title=name or f"{kind} from the customer",
        comment=escape_mrkdwn(clip(f"{label}: {caption}", COMMENT_LIMIT)),
    )


def retry_post(text: str, button: str, message_id: int) -> SlackMessage:
    """A note of Tandem's with a button that sends a failed reply again."""
    note = note_post(text)
    retry = {
        "type": "button",
        "text": plain_text(clip(button, BUTTON_TEXT_LIMIT), emoji=True),
        "action_id": RETRY_ACTION,
        "value": str(message_id),
    }
    return SlackMessage(
        text=note.text, blocks=[*note.blocks, {"type": "actions", "elements": [retry]}]
    )


def note_post(text: str) -> SlackMessage:
    """A line from Tandem: small grey text, so that it reads apart from people's messages."""
    shown = clip(text.strip(), NOTE_LIMIT)
    return SlackMessage(
        text=escape_mrkdwn(clip(shown, FALLBACK_LIMIT)), blocks=[context(plain_text(shown))]
    )


def _who(customer: Customer) -> str:
    name = customer.display_name.strip() or "The customer"
    return clip(f"{name} ({telegram_handle(customer)})", 300)


def _kind_note(message: CustomerRelay) -> str | None:
    if message.kind is MessageKind.TEXT:
        return None
    if message.kind in FILE_KINDS:
        details = _file_details(message.attachment)
        return f"📎 {FILE_KINDS[message.kind]} from the customer{details} — not shown here"
    return OTHER_KINDS.get(message.kind, OTHER_KINDS[MessageKind.OTHER])


def _file_details(attachment: Attachment | None) -> str:
    if attachment is None:
        return ""
    parts = [clip(attachment.file_name, 200)] if attachment.file_name else []
    if attachment.size is not None:
        parts.append(_size(attachment.size))
    return f" ({', '.join(parts)})" if parts else ""


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"
