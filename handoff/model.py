"""The platform-neutral model shared by the engine, the policy, the state and the storage."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Mode(StrEnum):
    """Who is answering a conversation right now."""

    BOT = "bot"  # the bot answers
    WAITING = "waiting"  # handed off; no person has claimed it yet, the bot stays quiet
    HUMAN = "human"  # a person owns it
    CLOSED = "closed"  # resolved; the next customer message opens a new conversation


class Author(StrEnum):
    """Who wrote a stored message."""

    CUSTOMER = "customer"
    BOT = "bot"
    AGENT = "agent"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class ConversationKey:
    """Identifies a customer's chat on one channel, e.g. ``telegram:123456``."""

    channel: str
    chat_id: str

    def __str__(self) -> str:
        return f"{self.channel}:{self.chat_id}"


@dataclass(frozen=True, slots=True)
class LiveConversation:
    """What every worker must agree on about a conversation while it is active.

    SQL is the record; this is the fast, shared copy the engine reads on every message.
    """

    conversation_id: int
    mode: Mode = Mode.BOT
    failed_turns: int = 0
    last_answered_intent: str | None = None
    handoff_id: int | None = None
    # The customer's last few texts to the bot, newest last: the policy compares a message
    # with them (a repeat, a rephrasing), without reading the transcript on every turn.
    recent_texts: tuple[str, ...] = ()


class MessageKind(StrEnum):
    """What a customer's message carried; anything an adapter does not recognise is OTHER."""

    TEXT = "text"
    COMMAND = "command"
    BUTTON = "button"  # an inline button pressed
    PHOTO = "photo"
    STICKER = "sticker"
    VOICE = "voice"
    AUDIO = "audio"
    VIDEO = "video"
    VIDEO_NOTE = "video_note"
    ANIMATION = "animation"
    DOCUMENT = "document"
    LOCATION = "location"
    CONTACT = "contact"
    OTHER = "other"


class ChatType(StrEnum):
    PRIVATE = "private"
    GROUP = "group"  # groups, supergroups and channels: the bot serves private chats only


@dataclass(frozen=True, slots=True)
class Customer:
    """Who wrote, as the channel describes them."""

    user_id: str
    display_name: str
    username: str | None = None
    language_code: str | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file the customer sent: the channel's id for it, and what we know of it."""

    file_id: str
    file_name: str | None = None
    mime_type: str | None = None
    size: int | None = None


@dataclass(frozen=True, slots=True)
class Inbound:
    """One thing a customer did in a chat: a message, a command, or a button press.

    ``message_id`` is unique within the chat for messages; for a button press it is the
    channel's id of that press, so repeats of one update are recognised.
    """

    key: ConversationKey
    customer: Customer
    message_id: str
    kind: MessageKind
    sent_at: datetime
    text: str | None = None  # the text, a caption, or a command's arguments
    command: str | None = None  # "start", "human", ... without the slash
    button: str | None = None  # the pressed button's data
    button_message_id: str | None = None  # the message the pressed button belongs to
    chat_type: ChatType = ChatType.PRIVATE
    edited: bool = False
    attachment: Attachment | None = None


@dataclass(frozen=True, slots=True)
class Button:
    """An inline button: pressing it sends ``data`` back as an :class:`Inbound` BUTTON."""

    label: str
    data: str


@dataclass(frozen=True, slots=True)
class Outbound:
    """A message to a customer. Plain text: the adapter never interprets markup in it."""

    key: ConversationKey
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()  # rows of buttons
    # Its sender is told when it is late (an agent's reply, see handoff.outbox): rather than
    # wait long in silence for the platform, the channel may defer it after a short wait.
    told_if_late: bool = False


@dataclass(frozen=True, slots=True)
class ButtonAnswer:
    """The acknowledgement of a button press (Telegram shows it as a small toast)."""

    press_id: str
    text: str | None = None


@dataclass(frozen=True, slots=True)
class TranscriptLine:
    """One line of a conversation, for the agent's context card."""

    author: Author
    text: str
    at: datetime
    intent: str | None = None
    confidence: float | None = None


@dataclass(frozen=True, slots=True)
class NluSnapshot:
    """What the NLU saw in one customer message: the text and its top intents."""

    text: str
    intents: tuple[tuple[str, float], ...]


@dataclass(frozen=True, slots=True)
class RouteChoice:
    """The route a handoff took (see :mod:`handoff.routing`): its channel, and why."""

    name: str
    channel: str
    why: str  # e.g. "intent billing_question"
    ping: tuple[str, ...] = ()  # Slack user or user-group ids


@dataclass(frozen=True, slots=True)
class HandoffTicket:
    """Everything an agent needs to take over: who, why, what the NLU saw, the transcript."""

    handoff_id: int
    conversation_id: int
    key: ConversationKey
    customer: Customer
    reason: str  # a policy reason code, e.g. "frustrated"
    explanation: str  # the reason in words
    failed_turns: tuple[NluSnapshot, ...]
    frustration: float
    transcript: tuple[TranscriptLine, ...]
    requested_at: datetime
    route: RouteChoice | None = None  # None: the default agent channel
    # Requested out of business hours (handoff.hours): when people are back, if known.
    out_of_hours: bool = False
    back_at: datetime | None = None


# --- agents ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeskThread:
    """Where a handoff lives in the agents' tool: a Slack channel and thread parent ``ts``."""

    channel: str
    thread_ts: str


@dataclass(frozen=True, slots=True)
class Agent:
    """A person answering customers."""

    user_id: str
    display_name: str


class Receipt(StrEnum):
    """What became of an agent's reply, shown on it where the agent wrote it."""

    DELIVERED = "delivered"  # the customer's platform accepted it
    FAILED = "failed"  # refused for good (the thread says why)


class CardStatus(StrEnum):
    WAITING = "waiting"  # nobody has claimed it yet
    CLAIMED = "claimed"  # an agent owns it
    RETURNED = "returned"  # given back to the bot
    CLOSED = "closed"  # resolved by the agent


@dataclass(frozen=True, slots=True)
class CardState:
    """What the handoff card's parent message shows: always the current state."""

    ticket: HandoffTicket
    status: CardStatus
    owner: Agent | None = None
    rating: int | None = None
    changed_by: Agent | None = None
    changed_at: datetime | None = None
    escalated: bool = False  # the SLA ladder escalated it (handoff.sla)
    taught: tuple[str, ...] = ()  # what agents taught the bot in its thread (handoff.teaching)


@dataclass(frozen=True, slots=True)
class CustomerRelay:
    """A customer's message shown to agents in the handoff thread."""

    kind: MessageKind
    text: str | None  # text or caption, exactly as the customer wrote it (never markup)
    attachment: Attachment | None = None
    edited: bool = False
    # The attachment's bytes when the customer's channel could fetch them (photos and
    # documents); None otherwise, and agents are told what the customer sent instead.
    # Left out of the repr: up to 20 MB has no place in a log line.
    content: bytes | None = field(default=None, repr=False)
    # The stored message's id (the outbox id): the desk tags the post with it, so that after
    # a time-out it can look in the thread before posting again, never posting twice.
    outbox_id: int | None = None
    # For a customer's edit: the post that showed the message before, to show the edit in
    # its place (the record keeps both texts).
    replaces: str | None = None
    # It may be in the thread already though not recorded delivered (a worker that had it
    # died between the platform's answer and the record): the desk looks before posting.
    # Never so for a message's first try in the process that stored it.
    in_doubt: bool = False


class AgentCommand(StrEnum):
    CLAIM = "claim"  # take ownership (from nobody, or from another agent: a transfer)
    RELEASE = "release"  # give up ownership; the conversation waits for another agent
    RETURN = "return"  # give the conversation back to the bot
    CLOSE = "close"  # resolved: thank the customer and ask for a rating
    STATUS = "status"  # tell the asking agent where the conversation stands
    RETRY = "retry"  # send a reply again that could not be delivered (the message_id)
    RETRACT = "retract"  # delete the bot's last answer in the customer's chat


@dataclass(frozen=True, slots=True)
class AgentReply:
    """An agent's message in a handoff thread (to be relayed to the customer), or, with
    ``revises``, the agent's edit (``text``) or deletion of an earlier one."""

    thread: DeskThread
    agent: Agent
    text: str
    message_ts: str  # this event's own id: for an edit or a deletion, not the message's
    revises: str | None = None  # the earlier message edited or deleted
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class AgentAction:
    """A button press on the card, or a slash command naming a thread."""

    thread: DeskThread
    agent: Agent
    command: AgentCommand
    message_id: int | None = None  # RETRY: the stored reply to send again
