"""The NLU port and its values: what the conversation engine asks and gets back.

No HTTP here: :class:`nlu.client.RasaClient` and :class:`nlu.server.ManagedRasaServer`
implement :class:`NluParser`; the core imports only this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class IntentScore:
    name: str
    confidence: float


@dataclass(frozen=True, slots=True)
class Entity:
    entity: str
    value: str
    start: int | None = None
    end: int | None = None
    confidence: float | None = None
    extractor: str | None = None


@dataclass(frozen=True, slots=True)
class ParseResult:
    """What the NLU saw in one message."""

    text: str
    intent: IntentScore | None
    ranking: tuple[IntentScore, ...]
    entities: tuple[Entity, ...]
    # Cosine similarity of the message's embedding to the nearest training example of the
    # top intent (nlu.semantic); None when nothing measured it.
    similarity: float | None = None

    @property
    def confidence(self) -> float:
        return self.intent.confidence if self.intent else 0.0

    @property
    def margin(self) -> float:
        """How far the top intent is ahead of the runner-up (1.0 when there is none)."""
        if len(self.ranking) < 2:
            return 1.0
        return self.ranking[0].confidence - self.ranking[1].confidence


@dataclass(frozen=True, slots=True)
class ModelStatus:
    model_file: str | None
    model_id: str | None


class NluParser(Protocol):
    """The port the conversation engine uses."""

    async def parse(self, text: str) -> ParseResult: ...
