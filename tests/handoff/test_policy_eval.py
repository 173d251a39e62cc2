"""The policy evaluation: the labelled-file loader, the replay, the metrics and the command."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent, indent

import pytest
from click.testing import CliRunner

from bot.commands.policy import policy
from bot.meaning import required_encoder
from handoff.policy import Action, FrustrationDetector, IntentGuess, PolicyConfig, ReasonCode
from handoff.policy.errors import EvaluationFileError
from handoff.policy.eval_file import load_labelled_set, parse_labelled_set
from handoff.policy.evaluation import (
    SHIPPED_CONVERSATIONS,
    EvaluationReport,
    evaluate_file,
    format_report,
)
from handoff.policy.metrics import BinaryScore


def write(folder: Path, text: str, name: str = "set.yml") -> Path:
    """Write a snippet; its first line (right after the opening quotes) is line 1."""
    path = folder / name
    path.write_text(dedent(text), encoding="utf-8")
    return path


def errors(text: str) -> list[str]:
    with pytest.raises(EvaluationFileError) as caught:
        parse_labelled_set(dedent(text), source="set.yml")
    return caught.value.lines


def one_turn(turn: str) -> str:
    """A file with one conversation whose only turn is ``turn`` (turn starts on line 6)."""
    head = "version: 1\nconversations:\n  - id: a\n    about: b\n    turns:\n"
    return head + indent(dedent(turn), "      ")


# --- loading --------------------------------------------------------------------------------


def test_a_valid_file_loads() -> None:
    labelled = parse_labelled_set(
        one_turn(
            """\
              - text: no
                nlu: {thanks: 0.1, deny: 0.85}
                expect: answer
              - text: 42
                nlu: down
                expect: handoff
                reason: nlu_unavailable
            """
        ),
        source="set.yml",
    )

    (conversation,) = labelled.conversations
    first, second = conversation.turns
    assert first.text == "no"  # not YAML's False
    assert first.line == 6
    assert first.ranking == (IntentGuess("deny", 0.85), IntentGuess("thanks", 0.1))  # ranked
    assert first.expected.action is Action.ANSWER
    assert first.expected.reason is None
    assert second.text == "42"
    assert second.ranking is None
    assert second.expected.reason is ReasonCode.NLU_UNAVAILABLE


def test_defaults_for_a_button_press() -> None:
    labelled = parse_labelled_set(
        one_turn(
            """\
              - text: ""
                person_requested: true
                expect: handoff
                reason: person_requested
            """
        ),
        source="set.yml",
    )

    (turn,) = labelled.conversations[0].turns
    assert turn.ranking == ()
    assert turn.person_requested


def test_bad_yaml_names_its_line() -> None:
    lines = errors(
        """\
        version: 1
        conversations:
          - id: a
            about: [unclosed
            turns: []
        """
    )

    assert len(lines) == 1
    assert lines[0].startswith("set.yml:5: not valid YAML: ")


@pytest.mark.parametrize(
    ("turn", "message"),
    [
        (
            "  - text: hi\n    expect: handof\n",
            "set.yml:7: conversation 'a' turn 1: expect: unknown action 'handof' (did you mean "
            "handoff?) (expected answer, clarify or handoff)",
        ),
        ("  - text: hi\n", "set.yml:6: conversation 'a' turn 1: missing `expect:`"),
        ("  - expect: answer\n", "set.yml:6: conversation 'a' turn 1: missing `text:`"),
        (
            "  - text: hi\n    expect: handoff\n",
            "set.yml:7: conversation 'a' turn 1: a handoff needs a `reason:` (person_requested, "
            "human_only_topic, frustrated, nlu_unavailable or failed_turns)",
        ),
        (
            "  - text: hi\n    expect: answer\n    reason: frustrated\n",
            "set.yml:8: conversation 'a' turn 1: reason: only a handoff has a reason",
        ),
        (
            "  - text: hi\n    expect: handoff\n    reason: frustation\n",
            "set.yml:8: conversation 'a' turn 1: reason: unknown handoff reason 'frustation' "
            "(did you mean frustrated?) (expected person_requested, human_only_topic, "
            "frustrated, nlu_unavailable or failed_turns)",
        ),
        (
            "  - text: hi\n    nlu: {greet: 1.5}\n    expect: answer\n",
            "set.yml:7: conversation 'a' turn 1: nlu: greet: expected a confidence from 0 to 1",
        ),
        (
            "  - text: hi\n    nlu: {greet: high}\n    expect: answer\n",
            "set.yml:7: conversation 'a' turn 1: nlu: greet: expected a confidence from 0 to 1",
        ),
        (
            "  - text: hi\n    nlu: broken\n    expect: answer\n",
            "set.yml:7: conversation 'a' turn 1: nlu: expected `down` or a mapping of intent: "
            "confidence, e.g. {greet: 0.93, thanks: 0.04}",
        ),
        (
            "  - text: hi\n    nlu: {greet: 0.5, greet: 0.4}\n    expect: answer\n",
            "set.yml:7: conversation 'a' turn 1: nlu: intent 'greet' given twice",
        ),
        (
            "  - text: hi\n    text: ho\n    expect: answer\n",
            "set.yml:7: conversation 'a' turn 1: text given twice",
        ),
        (
            "  - text: hi\n    similarity: -0.2\n    expect: answer\n",
            "set.yml:7: conversation 'a' turn 1: similarity: expected a similarity from 0 to 1",
        ),
        (
            "  - text: hi\n    person_requested: maybe\n    expect: answer\n",
            "set.yml:7: conversation 'a' turn 1: person_requested: expected true or false",
        ),
        (
            "  - text: [hi]\n    expect: answer\n",
            "set.yml:6: conversation 'a' turn 1: text: expected text",
        ),
        (
            "  - hi\n",
            "set.yml:6: conversation 'a' turn 1: expected a mapping with expect, nlu, "
            "person_requested, reason, similarity or text",
        ),
    ],
)
def test_turn_mistakes_are_one_clear_line(turn: str, message: str) -> None:
    assert errors(one_turn(turn)) == [message]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "set.yml:1: the file is empty; expected `conversations:`"),
        ("- a\n- b\n", "set.yml:1: the file: expected a mapping with conversations or version"),
        ("version: 1\n", "set.yml:1: the file: missing `conversations:`"),
        ("version: 2\nconversations: []\n", "set.yml:1: version: expected 1"),
        ("conversations: []\n", "set.yml:1: conversations: expected at least one"),
        ("conversations: {a: 1}\n", "set.yml:1: conversations: expected a list"),
        (
            "conversations:\n  - id: a\n    turns: []\n",
            "set.yml:2: conversation 1: missing `about:`",
        ),
        (
            "conversations:\n  - id: ''\n    about: b\n    turns: []\n",
            "set.yml:2: conversation 1: id: must not be empty",
        ),
    ],
)
def test_file_mistakes_are_one_clear_line(text: str, message: str) -> None:
    assert message in errors(text)


def test_a_misspelt_key_is_unknown_and_leaves_one_missing() -> None:
    assert errors(one_turn("  - text: hi\n    expct: answer\n")) == [
        "set.yml:7: conversation 'a' turn 1: unknown key 'expct' (did you mean expect?) "
        "(expected expect, nlu, person_requested, reason, similarity or text)",
        "set.yml:6: conversation 'a' turn 1: missing `expect:`",
    ]


def test_duplicate_ids_and_turns_after_a_handoff() -> None:
    lines = errors(
        """\
        conversations:
          - id: a
            about: first
            turns:
              - text: I want a human
                expect: handoff
                reason: person_requested
              - text: hello?
                expect: answer
          - id: a
            about: second
            turns:
              - text: hi
                expect: answer
        """
    )

    assert lines == [
        "set.yml:8: conversation 'a' turn 2: comes after the expected handoff at turn 1; "
        "a conversation ends at its handoff",
        "set.yml:10: conversation 'a': id already used on line 2",
    ]


def test_every_mistake_is_reported_at_once() -> None:
    lines = errors(
        one_turn(
            """\
              - text: hi
                expect: answr
              - text: ho
                nlu: {greet: 2}
                expect: answer
              - expect: clarify
            """
        )
    )

    assert [line.split(":")[1] for line in lines] == ["7", "9", "11"]


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(EvaluationFileError, match=r"nope.yml: cannot read the file"):
        load_labelled_set(tmp_path / "nope.yml")


# --- metrics --------------------------------------------------------------------------------

# Six conversations whose outcomes were worked out by hand:
#   a: a person request, handed off as expected                          (TP person_requested)
#   b: labelled frustrated, but calm: answered                          (FN frustrated)
#   c: labelled answer, but a refund: handed off                        (FP human_only_topic)
#   d: labelled frustrated, handed off for the refund (higher priority) (TP overall, wrong reason)
#   e: turn 1 handed off too early (FP), so turn 2's handoff is never reached (FN failed_turns)
#   f: two answers, as expected                                         (TN, TN)
TINY = """\
version: 1
conversations:
  - id: a
    about: asks for a person
    turns:
      - text: I want a human
        nlu: {human_request: 0.95}
        expect: handoff
        reason: person_requested
  - id: b
    about: mislabelled as frustrated
    turns:
      - text: where is my order
        nlu: {order_status: 0.9}
        expect: handoff
        reason: frustrated
  - id: c
    about: mislabelled as an answer
    turns:
      - text: I want a refund
        nlu: {refund_request: 0.9}
        expect: answer
  - id: d
    about: frustrated about a refund
    turns:
      - text: this is ridiculous, refund me
        nlu: {refund_request: 0.9}
        expect: handoff
        reason: frustrated
  - id: e
    about: handed off one turn early
    turns:
      - text: refund please
        nlu: {refund_request: 0.9}
        expect: clarify
      - text: the thing
        nlu: {bug_report: 0.2}
        expect: handoff
        reason: failed_turns
  - id: f
    about: answered twice
    turns:
      - text: hi
        nlu: {greet: 0.95}
        expect: answer
      - text: thanks
        nlu: {thanks: 0.95}
        expect: answer
"""


@pytest.fixture
def tiny(tmp_path: Path) -> EvaluationReport:
    return evaluate_file(write(tmp_path, TINY))


def counts(score: BinaryScore) -> tuple[int, int, int, int]:
    return (score.tp, score.fp, score.fn, score.tn)


def test_replay_stops_at_the_first_handoff(tiny: EvaluationReport) -> None:
    assert tiny.conversations == 6
    assert len(tiny.outcomes) == 8
    assert len(tiny.reached) == 7
    (unreached,) = [o for o in tiny.outcomes if not o.reached]
    assert (unreached.conversation, unreached.number) == ("e", 2)


def test_action_accuracy(tiny: EvaluationReport) -> None:
    # right: a, d (a handoff, if for another reason), f twice; wrong: b, c, e turn 1
    assert tiny.action_accuracy == pytest.approx(4 / 7)
    assert tiny.confusion(Action.HANDOFF, Action.ANSWER) == 1  # b
    assert tiny.confusion(Action.ANSWER, Action.HANDOFF) == 1  # c
    assert tiny.confusion(Action.CLARIFY, Action.HANDOFF) == 1  # e


def test_overall_handoff_scores(tiny: EvaluationReport) -> None:
    overall = tiny.handoff

    assert counts(overall) == (2, 2, 2, 2)  # TP a, d; FP c, e1; FN b, e2 (unreached); TN f, f
    assert overall.precision == 0.5
    assert overall.recall == 0.5
    assert overall.f1 == 0.5


def test_per_reason_scores(tiny: EvaluationReport) -> None:
    person = tiny.reason(ReasonCode.PERSON_REQUESTED)
    human_only = tiny.reason(ReasonCode.HUMAN_ONLY_TOPIC)
    frustrated = tiny.reason(ReasonCode.FRUSTRATED)
    failed = tiny.reason(ReasonCode.FAILED_TURNS)
    nlu = tiny.reason(ReasonCode.NLU_UNAVAILABLE)

    assert (person.precision, person.recall, person.f1) == (1.0, 1.0, 1.0)
    assert counts(human_only)[:3] == (0, 3, 0)  # c, d, e1
    assert (human_only.precision, human_only.recall, human_only.f1) == (0.0, None, 0.0)
    assert counts(frustrated)[:3] == (0, 0, 2)  # b, d
    assert (frustrated.precision, frustrated.recall, frustrated.f1) == (None, 0.0, 0.0)
    assert counts(failed)[:3] == (0, 0, 1)  # e2, never reached
    assert (nlu.precision, nlu.recall, nlu.f1) == (None, None, None)


def test_mismatches_are_listed(tiny: EvaluationReport) -> None:
    assert [(o.conversation, o.number) for o in tiny.mismatches] == [
        ("b", 1),
        ("c", 1),
        ("d", 1),
        ("e", 1),
        ("e", 2),
    ]


def test_the_report_text(tiny: EvaluationReport) -> None:
    text = "\n".join(format_report(tiny))

    assert "6 conversations, 8 turns (7 replayed" in text
    assert "action accuracy: 0.571 (4/7)" in text
    assert "overall (any)              4    2    2    2     0.500   0.500  0.500" in text
    assert "nlu_unavailable            0    0    0    0         -       -      -" in text
    assert "mismatches: 5" in text
    assert (
        'd turn 1 (line 26) "this is ridiculous, refund me": expected handoff (frustrated), '
        "decided handoff (human_only_topic)"
    ) in text
    assert "e turn 2 (line 36)" in text
    assert "not reached: an earlier turn was handed off" in text


def test_the_config_is_the_one_given(tmp_path: Path) -> None:
    report = evaluate_file(
        write(tmp_path, TINY), config=PolicyConfig(human_only_intents=("legal_request",))
    )

    assert report.reason(ReasonCode.HUMAN_ONLY_TOPIC).fp == 0


def test_binary_score_edge_cases() -> None:
    assert BinaryScore().f1 is None
    assert BinaryScore().accuracy is None
    assert BinaryScore(tp=1, fp=1, fn=0, tn=2).accuracy == 0.75
    assert BinaryScore.of([(True, True), (False, True), (True, False)]) == BinaryScore(1, 1, 1, 0)


# --- the shipped conversations: the policy's specification -----------------------------------


@pytest.fixture(scope="module", params=["read with MiniLM", "words only"])
def shipped(request: pytest.FixtureRequest) -> EvaluationReport:
    """As the service decides (the meaning head reading all-MiniLM-L6-v2's vectors), and
    as it decides without the encoder (the words model alone)."""
    config = PolicyConfig()
    encoder = required_encoder() if request.param == "read with MiniLM" else None
    detector = FrustrationDetector(config.frustration, encoder=encoder)
    assert detector.reads_meaning == (encoder is not None)
    return evaluate_file(SHIPPED_CONVERSATIONS, config=config, detector=detector)


def test_the_shipped_set_is_large_and_covers_every_rule(shipped: EvaluationReport) -> None:
    assert shipped.conversations >= 60
    decided = {r.code for o in shipped.reached if o.decision for r in o.decision.reasons}
    # Every rule of the policy; a service error is Tandem failing, not a policy rule.
    assert decided == set(ReasonCode) - {ReasonCode.SERVICE_ERROR}
    for code in (ReasonCode.PERSON_REQUESTED, ReasonCode.HUMAN_ONLY_TOPIC, ReasonCode.FRUSTRATED):
        assert shipped.reason(code).support >= 3
    for code in (ReasonCode.NLU_UNAVAILABLE, ReasonCode.FAILED_TURNS):
        assert shipped.reason(code).support >= 2


def test_the_shipped_set_scores(shipped: EvaluationReport) -> None:
    overall = shipped.handoff

    assert overall.f1 is not None
    assert overall.f1 >= 0.9
    assert (shipped.action_accuracy or 0) >= 0.95


def test_only_known_limitations_mismatch(shipped: EvaluationReport) -> None:
    labelled = load_labelled_set(SHIPPED_CONVERSATIONS)
    about = {c.id: c.about for c in labelled.conversations}

    for outcome in shipped.mismatches:
        assert "KNOWN LIMITATION" in about[outcome.conversation], format_report(shipped)


# --- the command -----------------------------------------------------------------------------


def test_policy_eval_prints_the_table_for_the_shipped_set() -> None:
    result = CliRunner().invoke(policy, ["eval"])

    assert result.exit_code == 0, result.output
    assert "conversations" in result.output
    assert "overall (any)" in result.output
    assert "mismatches:" in result.output


def test_policy_eval_exits_0_even_with_mismatches(tmp_path: Path) -> None:
    result = CliRunner().invoke(policy, ["eval", str(write(tmp_path, TINY))])

    assert result.exit_code == 0
    assert "mismatches: 5" in result.output


def test_policy_eval_of_a_bad_file_is_one_line_per_problem(tmp_path: Path) -> None:
    path = write(tmp_path, one_turn("  - text: hi\n    expect: handof\n"))

    result = CliRunner().invoke(policy, ["eval", str(path)])

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"tandem: {path}:7: conversation 'a' turn 1: expect: ")
    assert "Traceback" not in result.stderr
