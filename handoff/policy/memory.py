"""What the engine carries from one turn to the next for the policy.

The engine keeps ``failed_turns`` and ``last_answered_intent`` in the live state and the
customer's recent messages in storage; :class:`PolicyMemory` is the rule for updating them,
shared by the engine and the evaluation's replay so both walk a conversation alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from handoff.policy.model import Action, Decision, IntentGuess, Turn

# How many of the customer's earlier messages the "same message again" cue looks back on.
RECENT_TEXTS = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyMemory:
    failed_turns: int = 0
    last_answered_intent: str | None = None
    previous_texts: tuple[str, ...] = ()  # newest last, at most RECENT_TEXTS

    def turn(
        self,
        text: str,
        *,
        ranking: tuple[IntentGuess, ...] | None,
        person_requested: bool,
        example_similarity: float | None = None,
    ) -> Turn:
        """The next turn, as :func:`~handoff.policy.decision.decide` takes it."""
        return Turn(
            text=text,
            ranking=ranking,
            person_requested=person_requested,
            failed_turns=self.failed_turns,
            last_answered_intent=self.last_answered_intent,
            previous_texts=self.previous_texts,
            example_similarity=example_similarity,
        )

    def after(self, text: str, decision: Decision) -> PolicyMemory:
        """The memory once ``decision`` was taken on ``text``."""
        # A button press has no text; it is not a message that could be sent "again".
        texts = (*self.previous_texts, text) if text.strip() else self.previous_texts
        return PolicyMemory(
            failed_turns=decision.failed_turns,
            # Only an answer can be judged by the next turn ("no", the same question again).
            last_answered_intent=decision.intent if decision.action is Action.ANSWER else None,
            previous_texts=texts[-RECENT_TEXTS:],
        )
