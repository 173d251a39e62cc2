"""Errors raised by the handoff core. Callers catch :class:`HandoffError` or a subclass."""

from enum import StrEnum


class HandoffError(Exception):
    """Base of every error raised by the :mod:`handoff` package."""


class StorageError(HandoffError):
    """The SQL store failed or could not be reached."""


class StateError(HandoffError):
    """The live state store (in-process or Redis) failed or could not be reached."""


class LockTimeout(StateError):
    """A per-conversation lock could not be acquired in time."""


class FailureCause(StrEnum):
    """Why a platform refused a message for good, as the agent is told it."""

    BLOCKED = "blocked"  # the customer blocked the bot: sending works again if they unblock
    CHAT_GONE = "chat_gone"  # the chat or the account no longer exists
    REFUSED = "refused"  # the platform refused this message (too long, malformed, ...)
    UNREACHABLE = "unreachable"  # it could not be reached within the retries: try again

    @property
    def retryable(self) -> bool:
        """Whether sending the same message again later can succeed."""
        return self in {FailureCause.BLOCKED, FailureCause.UNREACHABLE}


class DeliveryError(HandoffError):
    """A platform refused a message for good (after retries): e.g. the customer blocked the bot."""

    def __init__(self, message: str, *, cause: FailureCause = FailureCause.REFUSED) -> None:
        super().__init__(message)
        self.cause = cause


class DeliveryDeferred(HandoffError):
    """A platform asked to wait longer than the retry budget allows ("429, retry after 90 s").

    Nothing was sent: this is waiting, not failing. The message stays pending and is sent
    once ``retry_after`` seconds have passed; the sender may be told it is delayed.
    """

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class IntakeUnavailable(HandoffError):
    """An inbound event could not be recorded durably: the adapter must not acknowledge it
    to the platform, so that the platform sends it again."""


# --- what the conversation store raises (every one a StorageError) -----------------------


class StorageUnavailable(StorageError):
    """The database could not be reached, or was too busy to answer; retrying may help."""


class UnsupportedDatabase(StorageError):
    """The database URL is malformed or names a backend other than SQLite or PostgreSQL."""


class MigrationError(StorageError):
    """Upgrading the schema failed; the database was left at its previous revision."""


class InvalidValue(StorageError, ValueError):
    """A value passed to the store is out of range or inconsistent; nothing was written."""


class InvalidRating(InvalidValue):
    """A satisfaction rating outside 1..5."""


class NotFound(StorageError, LookupError):
    """The row an operation refers to does not exist."""


class CustomerNotFound(NotFound):
    """No customer has this id."""


class ConversationNotFound(NotFound):
    """No conversation has this id."""


class MessageNotFound(NotFound):
    """No message has that id."""


class HandoffNotFound(NotFound):
    """No handoff has this id."""


class Conflict(StorageError):
    """The operation lost against the current state of the row (often a concurrent writer).

    Each state transition happens at most once; the caller that loses gets this error and
    can re-read the row to see what happened instead.
    """


class ConversationAlreadyOpen(Conflict):
    """The chat already has a conversation that is not closed."""


class ConversationClosed(Conflict):
    """The conversation is closed; it can no longer change mode or be closed again."""


class HandoffAlreadyOpen(Conflict):
    """The conversation already has a handoff that has not been closed or returned."""


class HandoffNotOpen(Conflict):
    """The handoff has already been closed or returned to the bot."""


class HandoffAlreadyClaimed(Conflict):
    """Another agent (or the same one, earlier) has already claimed the handoff."""

    def __init__(self, message: str, *, agent_id: str | None, agent_name: str | None) -> None:
        super().__init__(message)
        self.agent_id = agent_id
        self.agent_name = agent_name


class ThreadAlreadyLinked(Conflict):
    """The agent thread is already linked to another handoff."""
