"""Errors raised by the handoff core. Callers catch :class:`HandoffError` or a subclass."""


class HandoffError(Exception):
    """Base of every error raised by the :mod:`handoff` package."""


class StorageError(HandoffError):
    """The SQL store failed or could not be reached."""


class StateError(HandoffError):
    """The live state store (in-process or Redis) failed or could not be reached."""


class LockTimeout(StateError):
    """A per-conversation lock could not be acquired in time."""


class DeliveryError(HandoffError):
    """A platform refused a message for good (after retries): e.g. the customer blocked the bot."""


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
