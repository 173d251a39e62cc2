"""Small pure helpers of the conversation engine: button data, reply placeholders, the
records stored with a message, and the agent's handoff ticket."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from handoff.model import (
    Author,
    ConversationKey,
    Customer,
    HandoffTicket,
    Inbound,
    NluSnapshot,
    TranscriptLine,
)
from handoff.policy import Decision, IntentGuess
from handoff.records import Analysis, Handoff, StoredMessage
from nlu.parsing import Entity, ParseResult


@dataclass(frozen=True, slots=True)
class ButtonIntent:
    """A button that stands for an intent ("intent:reset_password")."""

    intent: str


def parse_button(data: str | None) -> Literal["human"] | ButtonIntent | None:
    """What a pressed button means; None for data this version does not know (stale)."""
    if data == "human":
        return "human"
    if data and data.startswith("intent:") and len(data) > len("intent:"):
        return ButtonIntent(data.removeprefix("intent:"))
    return None


def placeholder_values(inbound: Inbound, entities: Iterable[Entity]) -> dict[str, str]:
    """Values for a reply's placeholders: the customer's first name and the entities found."""
    values = {entity.entity: entity.value for entity in entities}
    first_name = inbound.customer.display_name.split()[0] if inbound.customer.display_name else ""
    if first_name:
        values["name"] = first_name
    return values


def nlu_record(
    ranking: Sequence[IntentGuess] | None, parse: ParseResult | None
) -> dict[str, Any] | None:
    """What the NLU saw, as stored with the customer's message."""
    if ranking is None:
        return {"available": False}
    record: dict[str, Any] = {
        "ranking": [{"intent": g.name, "confidence": round(g.confidence, 4)} for g in ranking[:5]]
    }
    if parse is not None and parse.similarity is not None:
        # The nearest training example of the top intent, as the embedding model sees it.
        record["similarity"] = round(parse.similarity, 4)
    if parse is not None and parse.entities:
        record["entities"] = [{"entity": e.entity, "value": e.value} for e in parse.entities]
    return record


def ticket_detail(decision: Decision, transcript: Sequence[StoredMessage]) -> dict[str, Any]:
    """What a handoff row keeps about its request, so the card can be drawn again later."""
    failed = [
        {"text": m.text or "", "intents": [[name, confidence] for name, confidence in _intents(m)]}
        for m in transcript
        if m.author is Author.CUSTOMER and _failed(m)
    ]
    return {
        "decision": decision.to_record(),
        "explanation": "; ".join(r.explanation for r in decision.reasons) or "requested",
        "frustration": round(decision.frustration.score, 4),
        "failed_turns": failed,
    }


def card_record(customer: Customer, transcript: Sequence[StoredMessage]) -> dict[str, Any]:
    """What a handoff keeps for its card besides the state: captured once, when it opens."""
    return {
        "customer": {
            "user_id": customer.user_id,
            "display_name": customer.display_name,
            "username": customer.username,
            "language_code": customer.language_code,
        },
        "transcript": [
            {
                "author": m.author.value,
                "text": m.text or f"[{m.kind.value}]",
                "at": m.created_at.isoformat(),
                "intent": m.intent,
                "confidence": m.confidence,
            }
            for m in transcript
        ],
    }


def _out_of_hours(card: Mapping[str, Any]) -> tuple[bool, datetime | None]:
    """Whether the handoff was requested out of business hours (handoff.hours), and when
    people were to be back."""
    closed = card.get("out_of_hours")
    if not isinstance(closed, Mapping):
        return False, None
    back = closed.get("back_at")
    return True, datetime.fromisoformat(str(back)) if back else None


def ticket_from_handoff(*, handoff: Handoff, key: ConversationKey) -> HandoffTicket:
    """The agent's context: who, why, what the NLU saw on failed turns, the transcript; all
    as stored on the handoff when it opened."""
    detail = handoff.reason_detail or {}
    card = handoff.card or {}
    failed = tuple(
        NluSnapshot(
            text=str(turn.get("text", "")),
            intents=tuple((str(name), float(conf)) for name, conf in turn.get("intents", [])),
        )
        for turn in detail.get("failed_turns", [])
    )
    who = card.get("customer") or {}
    closed, back_at = _out_of_hours(card)
    return HandoffTicket(
        handoff_id=handoff.id,
        conversation_id=handoff.conversation_id,
        key=key,
        customer=Customer(
            user_id=str(who.get("user_id", "?")),
            display_name=str(who.get("display_name", "unknown customer")),
            username=who.get("username"),
            language_code=who.get("language_code"),
        ),
        reason=handoff.reason,
        explanation=str(detail.get("explanation", "")),
        failed_turns=failed,
        frustration=float(detail.get("frustration", 0.0)),
        transcript=tuple(_line(line) for line in card.get("transcript", [])),
        requested_at=handoff.requested_at,
        out_of_hours=closed,
        back_at=back_at,
    )


def _line(line: Mapping[str, Any]) -> TranscriptLine:
    at = datetime.fromisoformat(str(line["at"]))
    confidence = line.get("confidence")
    return TranscriptLine(
        author=Author(line["author"]),
        text=str(line.get("text", "")),
        at=at if at.tzinfo else at.replace(tzinfo=UTC),  # as an SQLite migration wrote it
        intent=line.get("intent"),
        confidence=None if confidence is None else float(confidence),
    )


def _failed(message: StoredMessage) -> bool:
    action = (message.decision or {}).get("action")
    return action in {"clarify", "handoff"} and bool(message.nlu)


def _intents(message: StoredMessage) -> tuple[tuple[str, float], ...]:
    ranking = (message.nlu or {}).get("ranking") or []
    return tuple((str(item["intent"]), float(item["confidence"])) for item in ranking[:3])


def analysis_of(
    ranking: tuple[IntentGuess, ...] | None, parse: ParseResult | None, decision: Decision
) -> Analysis:
    top = ranking[0] if ranking else None
    return Analysis(
        intent=top.name if top else None,
        confidence=top.confidence if top else None,
        nlu=nlu_record(ranking, parse),
        decision=decision.to_record(),
    )


def analysis_fields(analysis: Analysis) -> dict[str, Any]:
    return {
        "intent": analysis.intent,
        "confidence": analysis.confidence,
        "nlu": analysis.nlu,
        "decision": analysis.decision,
    }
