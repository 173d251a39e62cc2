"""Replaying labelled conversations through the policy, and scoring its decisions.

Each conversation is walked as the engine walks it (:class:`PolicyMemory` carries
``failed_turns``, the last answered intent and the recent texts from turn to turn), and
stops at its first handoff. The NLU's output is fixed in the file, so the numbers measure
the policy, not the model.

Scores are per turn:

- action accuracy: the share of replayed turns whose action (answer/clarify/handoff) is the
  expected one;
- handoff, any reason: was this turn handed off? Precision, recall and F1;
- per handoff reason: was this turn handed off for this reason?
- a turn never replayed because an earlier turn was handed off counts as a missed handoff
  when it expected one: the right handoff did not happen. It is otherwise left out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from handoff.policy.config import PolicyConfig
from handoff.policy.decision import decide
from handoff.policy.eval_file import load_labelled_set
from handoff.policy.frustration import FrustrationDetector
from handoff.policy.labelled import LabelledSet, LabelledTurn
from handoff.policy.memory import PolicyMemory
from handoff.policy.metrics import BinaryScore, ratio
from handoff.policy.model import HANDOFF_PRIORITY, Action, Decision, ReasonCode

SHIPPED_CONVERSATIONS = Path(__file__).resolve().parent / "eval" / "conversations.yml"


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnOutcome:
    conversation: str
    number: int  # 1-based within its conversation
    turn: LabelledTurn
    decision: Decision | None  # None: not replayed (an earlier turn was handed off)

    @property
    def reached(self) -> bool:
        return self.decision is not None

    @property
    def correct(self) -> bool:
        expected, decision = self.turn.expected, self.decision
        return (
            decision is not None
            and decision.action is expected.action
            and decision.handoff_reason == expected.reason
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class EvaluationReport:
    source: str
    conversations: int
    outcomes: tuple[TurnOutcome, ...]

    @property
    def reached(self) -> tuple[TurnOutcome, ...]:
        return tuple(outcome for outcome in self.outcomes if outcome.reached)

    @property
    def action_accuracy(self) -> float | None:
        reached = self.reached
        if not reached:
            return None
        right = sum(
            1 for o in reached if o.decision and o.decision.action is o.turn.expected.action
        )
        return right / len(reached)

    @property
    def handoff(self) -> BinaryScore:
        """Handed off or not, whatever the reason."""
        return BinaryScore.of(
            [(o.turn.expected.action is Action.HANDOFF, _handed_off(o)) for o in self._scored()]
        )

    def reason(self, code: ReasonCode) -> BinaryScore:
        """Handed off for ``code`` or not."""
        return BinaryScore.of(
            [
                (o.turn.expected.reason is code, o.decision is not None and _primary(o) is code)
                for o in self._scored()
            ]
        )

    def confusion(self, expected: Action, actual: Action) -> int:
        return sum(
            1
            for o in self.reached
            if o.turn.expected.action is expected and o.decision and o.decision.action is actual
        )

    @property
    def mismatches(self) -> tuple[TurnOutcome, ...]:
        return tuple(o for o in self._scored() if not o.correct)

    def _scored(self) -> Iterator[TurnOutcome]:
        """Replayed turns, and unreplayed ones that expected a handoff."""
        for outcome in self.outcomes:
            if outcome.reached or outcome.turn.expected.action is Action.HANDOFF:
                yield outcome


def evaluate(
    labelled: LabelledSet, *, config: PolicyConfig, detector: FrustrationDetector
) -> EvaluationReport:
    """Replay every conversation of ``labelled`` through :func:`decide`."""
    outcomes: list[TurnOutcome] = []
    for conversation in labelled.conversations:
        memory = PolicyMemory()
        handed_off = False
        for number, turn in enumerate(conversation.turns, start=1):
            decision = None
            if not handed_off:
                decision = decide(
                    memory.turn(
                        turn.text,
                        ranking=turn.ranking,
                        person_requested=turn.person_requested,
                        example_similarity=turn.similarity,
                    ),
                    config=config,
                    detector=detector,
                )
                memory = memory.after(turn.text, decision)
                handed_off = decision.action is Action.HANDOFF
            outcomes.append(
                TurnOutcome(
                    conversation=conversation.id, number=number, turn=turn, decision=decision
                )
            )
    return EvaluationReport(
        source=labelled.source, conversations=len(labelled.conversations), outcomes=tuple(outcomes)
    )


def evaluate_file(
    path: Path = SHIPPED_CONVERSATIONS,
    *,
    config: PolicyConfig | None = None,
    detector: FrustrationDetector | None = None,
) -> EvaluationReport:
    """Load ``path`` and evaluate it (default: the shipped conversations, default policy)."""
    config = config or PolicyConfig()
    return evaluate(
        load_labelled_set(path),
        config=config,
        detector=detector or FrustrationDetector(config.frustration),
    )


def format_report(report: EvaluationReport) -> list[str]:
    """The lines ``tandem policy eval`` prints."""
    reached = report.reached
    right = round((report.action_accuracy or 0) * len(reached))
    lines = [
        f"{report.source}: {report.conversations} conversations, {len(report.outcomes)} turns "
        f"({len(reached)} replayed; each conversation stops at its first handoff)",
        f"action accuracy: {ratio(report.action_accuracy)} ({right}/{len(reached)})",
        "",
        f"{'handoff reason':<20} {'support':>7} {'TP':>4} {'FP':>4} {'FN':>4} "
        f"{'precision':>9} {'recall':>7} {'F1':>6}",
    ]
    rows = [(code.value, report.reason(code)) for code in HANDOFF_PRIORITY]
    rows.append(("overall (any)", report.handoff))
    for name, score in rows:
        lines.append(
            f"{name:<20} {score.support:>7} {score.tp:>4} {score.fp:>4} {score.fn:>4} "
            f"{ratio(score.precision):>9} {ratio(score.recall):>7} {ratio(score.f1):>6}"
        )
    lines += ["", "actions (rows: expected, columns: decided)"]
    lines.append(f"{'':<10}" + "".join(f"{action.value:>9}" for action in Action))
    for expected in Action:
        counts = "".join(f"{report.confusion(expected, actual):>9}" for actual in Action)
        lines.append(f"{expected.value:<10}{counts}")
    mismatches = report.mismatches
    lines += ["", f"mismatches: {len(mismatches)}"]
    for outcome in mismatches:
        lines += _mismatch(outcome)
    return lines


def _mismatch(outcome: TurnOutcome) -> list[str]:
    turn, decision = outcome.turn, outcome.decision
    where = f"{outcome.conversation} turn {outcome.number} (line {turn.line})"
    said = f'"{turn.text}"' + (" [person button]" if turn.person_requested else "")
    if decision is None:
        return [
            f"  {where} {said}: expected {_label(turn.expected.action, turn.expected.reason)}, "
            "not reached: an earlier turn was handed off"
        ]
    lines = [
        f"  {where} {said}: expected {_label(turn.expected.action, turn.expected.reason)}, "
        f"decided {_label(decision.action, decision.handoff_reason)}"
    ]
    lines += [f"      - {reason.code.value}: {reason.explanation}" for reason in decision.reasons]
    frustration = decision.frustration
    if frustration.cues and not frustration.frustrated:  # a near miss: show what fired
        cues = ", ".join(frustration.cues)
        lines.append(f"      frustration {frustration.score:.2f} (not frustrated): {cues}")
    return lines


def _label(action: Action, reason: ReasonCode | None) -> str:
    return f"{action.value} ({reason.value})" if reason else action.value


def _handed_off(outcome: TurnOutcome) -> bool:
    return outcome.decision is not None and outcome.decision.action is Action.HANDOFF


def _primary(outcome: TurnOutcome) -> ReasonCode | None:
    return outcome.decision.handoff_reason if outcome.decision else None
