"""The NLU sees masked text: a decorator of the :class:`~nlu.parsing.NluParser` port.

Rasa gets "my card [card] was charged twice", which it classifies as well as the original.
The result handed back to the engine is about the original: its text, and entities over a
placeholder with the value the customer wrote; a masked value the NLU did not report
becomes an entity of its kind (so ``{email}`` in a reply still has the customer's email).
"""

from __future__ import annotations

from dataclasses import replace

from handoff.privacy.masking import Masked, Masker
from nlu.parsing import Entity, NluParser, ParseResult

EXTRACTOR = "tandem.privacy"


class MaskingNlu:
    """Implements :class:`~nlu.parsing.NluParser` around ``inner``."""

    def __init__(self, *, inner: NluParser, masker: Masker) -> None:
        self._inner = inner
        self._masker = masker

    async def parse(self, text: str) -> ParseResult:
        masked = self._masker.mask(text)
        if not masked.changed:
            return await self._inner.parse(text)
        result = await self._inner.parse(masked.text)
        return replace(result, text=text, entities=restored_entities(result.entities, masked))


def restored_entities(entities: tuple[Entity, ...], masked: Masked) -> tuple[Entity, ...]:
    restored = []
    covered: set[int] = set()  # findings some entity of the NLU is over
    for entity in entities:
        if entity.start is None or entity.end is None:
            restored.append(entity)
            continue
        over = [n for n, f in enumerate(masked.findings) if _covers(masked, n, entity)]
        covered.update(over)
        if not over:
            restored.append(entity)
            continue
        value = masked.restore(entity.start, entity.end)
        start, end = masked.to_original(entity.start), masked.to_original(entity.end)
        restored.append(replace(entity, value=value, start=start, end=end))
    for number, finding in enumerate(masked.findings):
        if number not in covered:
            value = masked.original[finding.start : finding.end]
            restored.append(
                Entity(
                    entity=str(finding.kind),
                    value=value,
                    start=finding.start,
                    end=finding.end,
                    extractor=EXTRACTOR,
                )
            )
    return tuple(restored)


def _covers(masked: Masked, number: int, entity: Entity) -> bool:
    start, end = masked.placeholder_span(number)
    assert entity.start is not None
    assert entity.end is not None
    return entity.start < end and start < entity.end
