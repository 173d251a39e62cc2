"""SQL storage of customers, conversations, messages and handoffs (SQLite or PostgreSQL).

The conversation engine uses :class:`Repository` over a :class:`Database`; everything it
gets back is a frozen record from :mod:`handoff.records`, and everything that goes
wrong is a :class:`~handoff.errors.StorageError` from :mod:`handoff.errors`.
"""

from handoff.clock import Clock, utc_now
from handoff.errors import (
    Conflict,
    ConversationAlreadyOpen,
    ConversationClosed,
    ConversationNotFound,
    CustomerNotFound,
    HandoffAlreadyClaimed,
    HandoffAlreadyOpen,
    HandoffNotFound,
    HandoffNotOpen,
    InvalidRating,
    InvalidValue,
    MessageNotFound,
    MigrationError,
    NotFound,
    StorageError,
    StorageUnavailable,
    ThreadAlreadyLinked,
    UnsupportedDatabase,
)
from handoff.model import MessageKind
from handoff.records import (
    UNSET,
    ActiveConversation,
    Conversation,
    Customer,
    Delivery,
    Handoff,
    HandoffEvent,
    HandoffEventKind,
    HandoffOutcome,
    JsonObject,
    NewMessage,
    Platform,
    StoredMessage,
    Unset,
)
from handoff.storage.database import Database
from handoff.storage.migrate import head_revision
from handoff.storage.repository import Repository

__all__ = [
    "UNSET",
    "ActiveConversation",
    "Clock",
    "Conflict",
    "Conversation",
    "ConversationAlreadyOpen",
    "ConversationClosed",
    "ConversationNotFound",
    "Customer",
    "CustomerNotFound",
    "Database",
    "Delivery",
    "Handoff",
    "HandoffAlreadyClaimed",
    "HandoffAlreadyOpen",
    "HandoffEvent",
    "HandoffEventKind",
    "HandoffNotFound",
    "HandoffNotOpen",
    "HandoffOutcome",
    "InvalidRating",
    "InvalidValue",
    "JsonObject",
    "MessageKind",
    "MessageNotFound",
    "MigrationError",
    "NewMessage",
    "NotFound",
    "Platform",
    "Repository",
    "StorageError",
    "StorageUnavailable",
    "StoredMessage",
    "ThreadAlreadyLinked",
    "Unset",
    "UnsupportedDatabase",
    "head_revision",
    "utc_now",
]
