"""Calling the Bot API for a chat: pacing, retries, and PTB's errors translated once.

429 waits as long as Telegram asks, within the retry budget; network errors, timeouts and
5xx answers are retried with exponential back-off; refusals that will not change (the
customer blocked the bot, the chat does not exist, a bad request) become
:class:`~handoff.errors.DeliveryError`. A request that timed out may have reached
Telegram: retrying it can deliver a message twice, which is preferred to losing it.

Waiting is not failing: a *deferrable* call (the first part of a message) that Telegram
asks to wait longer than the budget allows raises :class:`~handoff.errors.DeliveryDeferred`
instead, with the seconds to wait; nothing was sent, and the caller sends it again later.
So does such a call while its chat is still held back by an earlier long 429, without
asking Telegram. A call that is not deferrable gives up with ``DeliveryError`` as before.
A deferrable call given ``defer_after`` (an agent's reply: the outbox tells the agent it
is late) defers once a 429 would have it wait longer than that in all, not the budget.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TypeVar
from urllib.parse import quote

from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.warnings import PTBDeprecationWarning

from handoff.errors import DeliveryDeferred, DeliveryError, FailureCause

from .limiter import SendLimiter

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long to keep trying: at most ``attempts`` calls and ``budget`` seconds of waiting.

    ``finish_budget`` is the hard cap on waiting for the rest of a message split in parts
    once its first part is out (see :meth:`TelegramAdapter.send`). ``defer_after`` is how
    long a message whose sender is told when it is late waits for a 429 in silence.
    """

    attempts: int = 8
    first_delay: float = 0.5
    max_delay: float = 15.0
    budget: float = 60.0
    finish_budget: float = 900.0
    defer_after: float = 10.0

    def backoff(self, failures: int) -> float:
        return float(min(self.max_delay, self.first_delay * 2 ** (failures - 1)))

    def finishing(self) -> RetryPolicy:
        """This policy with ``finish_budget`` as its budget."""
        return replace(self, budget=max(self.budget, self.finish_budget))


class Delivery:
    """Runs one Bot API call for a chat until it succeeds or is refused for good."""

    def __init__(self, *, limiter: SendLimiter, policy: RetryPolicy, token: str) -> None:
        self._limiter = limiter
        self._policy = policy
        # Masked in messages: some network errors quote the request URL, and a download
        # URL carries the token percent-encoded (PTB quotes the file's path, ":" and all).
        self._token_forms = (token, quote(token))

    async def call(
        self,
        what: str,
        request: Callable[[], Awaitable[T]],
        *,
        chat_id: int | None = None,
        policy: RetryPolicy | None = None,
        deferrable: bool = False,
        defer_after: float | None = None,
    ) -> T:
        """``request()``'s result; ``what`` names the call in errors ("the message to ...").

        Calls for a ``chat_id`` (messages) wait for their turn under the flood limits. A
        ``deferrable`` call raises ``DeliveryDeferred`` rather than wait past the budget,
        or past ``defer_after`` seconds in all when a 429 asks it to wait.
        """
        policy = policy or self._policy
        # Only a 429's wait is cut short: network errors keep the budget, because giving up
        # on them fails the message for good, which deferring never does.
        patience = policy.budget if defer_after is None else min(defer_after, policy.budget)
        tries = 0
        waited = 0.0
        error: TelegramError
        if deferrable and chat_id is not None:
            self._refuse_if_held(what, chat_id, patience)
        while True:
            tries += 1
            if chat_id is not None:
                await self._limiter.wait_turn(chat_id)
            try:
                return await request()
            except RetryAfter as exc:
                delay, error = retry_after_seconds(exc), exc
            except (Forbidden, BadRequest, InvalidToken, ChatMigrated) as exc:
                # BadRequest first: PTB makes it a NetworkError, but it will not go away.
                raise DeliveryError(
                    f"Telegram refused {what}: {self._text(exc)}", cause=failure_cause(exc)
                ) from exc
            except NetworkError as exc:  # also TimedOut and 5xx answers
                delay, error = policy.backoff(tries), exc
            except TelegramError as exc:
                raise DeliveryError(f"Telegram refused {what}: {self._text(exc)}") from exc
            if deferrable and isinstance(error, RetryAfter) and waited + delay > patience:
                raise self._deferred(what, chat_id, delay) from error
            if tries >= policy.attempts or waited + delay > policy.budget:
                if deferrable and isinstance(error, RetryAfter):
                    raise self._deferred(what, chat_id, delay) from error
                raise DeliveryError(
                    f"gave up on {what} after {tries} attempts: {self._text(error)}",
                    cause=FailureCause.UNREACHABLE,
                ) from error
            logger.warning("retrying %s in %.1fs: %s", what, delay, self._text(error))
            waited += delay
            if chat_id is not None:
                # Holding the whole chat back keeps its later messages behind this one;
                # the next wait_turn sleeps it out.
                self._limiter.defer(chat_id, delay)
            else:
                await asyncio.sleep(delay)

    def _refuse_if_held(self, what: str, chat_id: int, patience: float) -> None:
        """Defers the call at once while an earlier 429 holds the chat past its patience: it
        would be refused too, and waiting here would let it overtake the deferred one."""
        held = self._limiter.held_for(chat_id)
        if held > patience:
            raise DeliveryDeferred(
                f"{what} waits {held:.0f}s: Telegram asked to pause this chat", retry_after=held
            )

    def _deferred(self, what: str, chat_id: int | None, delay: float) -> DeliveryDeferred:
        if chat_id is not None:
            self._limiter.defer(chat_id, delay)  # the chat's next messages wait too
        logger.info("deferring %s by %.0fs, as Telegram asked", what, delay)
        return DeliveryDeferred(
            f"Telegram asked to wait {delay:.0f}s before {what}", retry_after=delay
        )

    def _text(self, exc: TelegramError) -> str:
        text = exc.message
        for form in self._token_forms:
            text = text.replace(form, "***")
        return text


# What Telegram says when the chat is gone for good, lower case (Bot API error texts).
_CHAT_GONE = ("chat not found", "user is deactivated", "bot was kicked", "group chat was")


def failure_cause(exc: TelegramError) -> FailureCause:
    """Why Telegram refused: the customer blocked the bot, the chat is gone, or this message."""
    text = exc.message.lower()
    if isinstance(exc, ChatMigrated) or any(gone in text for gone in _CHAT_GONE):
        return FailureCause.CHAT_GONE
    if isinstance(exc, Forbidden) and "blocked" in text:
        return FailureCause.BLOCKED
    return FailureCause.REFUSED


def retry_after_seconds(exc: RetryAfter) -> float:
    # PTB 22 warns that retry_after will become a timedelta; accept either shape.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
