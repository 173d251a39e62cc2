"""What a log line is about, for the log's formatter: the conversation being handled.

The intake sets it in each lane's worker, so every line logged while an event of that
conversation is handled (by the engine, the storage, the adapters) names it.
"""

from __future__ import annotations

from contextvars import ContextVar

conversation: ContextVar[str | None] = ContextVar("conversation", default=None)
