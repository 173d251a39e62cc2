"""The escalation policy's settings: plain frozen values, checked when built.

``config/tandem.yml`` (section ``policy:``) is parsed by the application's settings models;
the composition root turns that section into a :class:`PolicyConfig`. Invalid values raise
:class:`ValueError` naming the setting, so a bad file is reported before anything runs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, fields

# Weights of the frustration cues: a cue that fires adds its weight to the score, beside the
# text model's evidence. With the default threshold of 0.5, one strong cue (an insult, a
# harsh judgement such as "useless", a stated feeling such as "I'm fed up", sarcasm) is
# enough on its own; the weaker ones (shouting, "!!!", a long wait, the same message again,
# the complaint intent) need a second signal. A false "frustrated" hands a customer to a person at
# once, so the weights favour precision; the two-turn rule catches what they miss. Set on
# the labelled conversations (handoff/policy/eval/), checked on GoEmotions
# (`tandem bench frustration`).


@dataclass(frozen=True, slots=True, kw_only=True)
class FrustrationConfig:
    """How :class:`~handoff.policy.frustration.FrustrationDetector` scores a message.

    score = model_weight * max(0, (P(frustrated | text) - model_floor) / (1 - model_floor))
            + sentiment_weight * max(0, (-compound - sentiment_floor) / (1 - sentiment_floor))
            + sum of the weights of the cues that fired
    clipped to [0, 1]; the customer is frustrated when score >= threshold.
    """

    threshold: float = 0.5
    # The text model (trained on GoEmotions by `tandem policy train`): its probability
    # counts above model_floor, up to model_weight at 1. With the defaults, the model alone
    # reaches the threshold at about 0.77: above the best F1 on GoEmotions' dev split (at
    # 0.6), since Reddit's "disapproval" reads plain support requests as frustrated
    # (CLINC150's "no good", "stop it", "tell carl that he sucks"). 0.7 keeps CLINC150's
    # in-scope val queries read as frustrated at 0.43% with the meaning head, as 0.75 did
    # with the words model alone (0.75: 0.60%).
    model_weight: float = 0.7
    model_floor: float = 0.2
    # Messages of fewer words give the model no evidence: on Reddit a bare "no" disagrees,
    # at a support desk it answers a question.
    model_min_words: int = 2
    # VADER's compound score counts only below -sentiment_floor: polite negatives ("no
    # thanks", "unfortunately I can't log in") score about -0.35 and must not add up.
    # The sentiment term stays below the threshold on its own (at most sentiment_weight):
    # VADER reads calm problem reports as furious ("the sync is failing with a fatal
    # error": -0.86), so it only tips the balance with another cue.
    # VADER's scores are among the model's inputs, so by default they add nothing more.
    sentiment_weight: float = 0.0
    sentiment_floor: float = 0.3
    shouting_weight: float = 0.35
    punctuation_weight: float = 0.2
    insult_weight: float = 0.5
    harsh_words_weight: float = 0.5
    stated_emotion_weight: float = 0.5
    sarcasm_weight: float = 0.5
    long_wait_weight: float = 0.35
    repeated_message_weight: float = 0.4
    complaint_intent_weight: float = 0.4
    # The customer says the bot is not helping ("that didn't help"): the two-turn rule
    # counts it as a failed turn; here it adds up with another cue.
    not_helpful_weight: float = 0.2
    # The bot already failed the turn before: the same words weigh a little more.
    after_failed_turn_weight: float = 0.1
    # Shouting: the share of uppercase letters in words of 3+ letters (short all-caps words
    # such as PDF or API are acronyms unless the whole message is in capitals) ...
    shouting_ratio: float = 0.6
    # ... and at least this many uppercase letters, so "OK" or one "NOW" is not shouting.
    shouting_min_letters: int = 6
    # A message repeats an earlier one when their normalised texts are this similar
    # (difflib ratio; 1.0 = equal only). Shorter messages ("yes", "hi") are ignored.
    repeat_similarity: float = 0.9
    repeat_min_chars: int = 10
    # The NLU intents that mean "the customer is complaining".
    complaint_intents: tuple[str, ...] = ("complaint",)

    def __post_init__(self) -> None:
        for spec in fields(self):
            value = getattr(self, spec.name)
            if spec.name.endswith("_weight"):
                _check_fraction(spec.name, value)
        _check_fraction("threshold", self.threshold, low_open=True)
        _check_fraction("sentiment_floor", self.sentiment_floor, high_open=True)
        _check_fraction("model_floor", self.model_floor, high_open=True)
        _check_fraction("shouting_ratio", self.shouting_ratio, low_open=True)
        _check_fraction("repeat_similarity", self.repeat_similarity, low_open=True)
        _check_count("shouting_min_letters", self.shouting_min_letters, minimum=1)
        _check_count("repeat_min_chars", self.repeat_min_chars, minimum=0)
        _check_count("model_min_words", self.model_min_words, minimum=1)
        _set_intents(self, "complaint_intents")


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyConfig:
    """When the bot answers, asks again, or hands the conversation to a person.

    Boundaries: a confidence equal to ``confidence_threshold`` is confident enough; a gap
    between the top two intents equal to ``ambiguity_margin`` is not ambiguous (both up to
    1e-9, since confidences are floats).
    """

    confidence_threshold: float = 0.5
    ambiguity_margin: float = 0.1
    max_failed_turns: int = 2
    # The customer asks for a person in words (the button and /human need no intent).
    person_request_intents: tuple[str, ...] = ("human_request",)
    # Topics only a person may handle: hand off at once when the NLU is confident.
    human_only_intents: tuple[str, ...] = ("refund_request", "legal_request")
    # ... and only when the NLU is this sure, and this far ahead of the runner-up: one
    # confident intent is not evidence enough to skip the bot (below, the turn fails).
    human_only_threshold: float = 0.85
    human_only_margin: float = 0.3
    # "No" right after an answer: the answer did not help ...
    not_helpful_intents: tuple[str, ...] = ("deny",)
    # ... unless that answer ended with a yes/no question ("Shall I cancel it?", "Anything
    # else?"): then "no" answers the question.
    yes_no_intents: tuple[str, ...] = ("greet", "thanks", "affirm", "deny", "cancel_subscription")
    # Asking the same thing right after it was answered means the answer did not help,
    # except for these, where saying it twice is normal.
    repeatable_intents: tuple[str, ...] = ("greet", "thanks", "affirm", "goodbye")
    # The NLU's "none of the above": the bot has nothing to answer.
    fallback_intents: tuple[str, ...] = ("out_of_scope",)
    # Gibberish: the mean log-probability of a message's letter pairs (English about -2.4;
    # keyboard mashing below -4) under this, with most of its words unknown to the text
    # model, fails the turn (0.2% of GoEmotions' dev comments, 92% of keyboard mashing).
    gibberish_log_prob: float = -3.0
    # A ranking spread over many intents (entropy in bits above this) fails the turn as
    # ambiguous, whatever the top confidence; None: no such rule.
    max_ranking_entropy: float | None = None
    # Out of scope by the scope score: the cosine similarity of the message's sentence
    # embedding to the nearest training example of its top intent, plus
    # scope_confidence_weight times the top confidence. Below min_scope_score the turn
    # fails as out of scope; None: no such rule. When the similarity is measured (the NLU
    # runs with embeddings) this rule replaces confidence_threshold and ambiguity_margin
    # as the test of understanding. Set on CLINC150 val (`tandem bench oos`): out-of-scope
    # customers handed off within two turns 92.4%, in-scope ones 1.4%.
    min_scope_score: float | None = 0.88
    scope_confidence_weight: float = 0.7
    frustration: FrustrationConfig = field(default_factory=FrustrationConfig)

    def __post_init__(self) -> None:
        _check_fraction("confidence_threshold", self.confidence_threshold)
        _check_fraction("ambiguity_margin", self.ambiguity_margin)
        _check_count("max_failed_turns", self.max_failed_turns, minimum=1)
        _check_fraction("human_only_threshold", self.human_only_threshold)
        _check_fraction("human_only_margin", self.human_only_margin)
        entropy = self.max_ranking_entropy
        if entropy is not None and not (
            isinstance(entropy, int | float)
            and not isinstance(entropy, bool)
            and math.isfinite(entropy)
            and entropy > 0
        ):
            raise ValueError(
                f"max_ranking_entropy: expected a positive number or null, got {entropy!r}"
            )
        if self.min_scope_score is not None:
            _check_number("min_scope_score", self.min_scope_score, high=2.0)
        _check_number("scope_confidence_weight", self.scope_confidence_weight, high=1.0)
        if not (
            isinstance(self.gibberish_log_prob, int | float)
            and not isinstance(self.gibberish_log_prob, bool)
            and math.isfinite(self.gibberish_log_prob)
            and self.gibberish_log_prob < 0
        ):
            raise ValueError(
                f"gibberish_log_prob: expected a negative number, got {self.gibberish_log_prob!r}"
            )
        for name in (
            "person_request_intents",
            "human_only_intents",
            "not_helpful_intents",
            "yes_no_intents",
            "repeatable_intents",
            "fallback_intents",
        ):
            _set_intents(self, name)
        if not isinstance(self.frustration, FrustrationConfig):
            # ValueError, like every other bad setting: callers catch one kind.
            raise ValueError("frustration: expected a FrustrationConfig")  # noqa: TRY004
        # An intent cannot both hand off at once and count as the bot failing.
        handoff = {*self.person_request_intents, *self.human_only_intents}
        for name in ("not_helpful_intents", "fallback_intents"):
            both = sorted(handoff & set(getattr(self, name)))
            if both:
                raise ValueError(
                    f"{name}: {', '.join(both)} also listed in person_request_intents or "
                    "human_only_intents; an intent is one or the other"
                )

    @property
    def complaint_intents(self) -> tuple[str, ...]:
        return self.frustration.complaint_intents


def _check_fraction(
    name: str, value: object, *, low_open: bool = False, high_open: bool = False
) -> None:
    # bool is an int: True must not pass for a threshold of 1.
    ok = (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and (value > 0 if low_open else value >= 0)
        and (value < 1 if high_open else value <= 1)
    )
    if not ok:
        low, high = ("0 (excluded)" if low_open else "0"), ("1 (excluded)" if high_open else "1")
        raise ValueError(f"{name}: expected a number from {low} to {high}, got {value!r}")


def _check_number(name: str, value: object, *, high: float) -> None:
    ok = (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and -1.0 <= value <= high
    )
    if not ok:
        raise ValueError(f"{name}: expected a number from -1 to {high:g}, got {value!r}")


def _check_count(name: str, value: object, *, minimum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name}: expected a whole number of at least {minimum}, got {value!r}")


def _set_intents(config: object, name: str) -> None:
    """Accept any iterable of intent names (a list from YAML); store a tuple."""
    value = getattr(config, name)
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise ValueError(f"{name}: expected a list of intent names, got {value!r}")  # noqa: TRY004
    intents = tuple(value)
    bad = [intent for intent in intents if not isinstance(intent, str) or not intent.strip()]
    if bad:
        raise ValueError(f"{name}: expected intent names, got {bad[0]!r}")
    # Frozen: the only way to normalise a field is object.__setattr__ during __post_init__.
    object.__setattr__(config, name, intents)
