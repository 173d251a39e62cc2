"""Is the customer frustrated? VADER's sentiment plus the cues it misses (:mod:`.cues`).

The score is a weighted sum, clipped to [0, 1] (weights and threshold in
:class:`~handoff.policy.config.FrustrationConfig`)::

    score = sentiment_weight * max(0, (-compound - sentiment_floor) / (1 - sentiment_floor))
          + the weight of every cue that fired

A sum keeps the arithmetic readable in a handoff record: each cue that fired is listed, and
the score is what they add up to.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from handoff.policy import cues
from handoff.policy.config import FrustrationConfig

# Curly apostrophes (phones type them) would defeat "can't", "it's" in the patterns.
# VADER's compound score above which swearing reads as enthusiasm.
_ENTHUSIASM = 0.5

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


@dataclass(frozen=True, slots=True)
class Frustration:
    """How frustrated one message reads, and why."""

    score: float  # 0..1
    frustrated: bool  # score >= the configured threshold
    cues: tuple[str, ...]  # every cue that fired, e.g. ("long_wait", "harsh_words:ridiculous")
    sentiment: float  # VADER's compound score, -1..1

    @classmethod
    def calm(cls) -> Frustration:
        """No text, no signal."""
        return cls(score=0.0, frustrated=False, cues=(), sentiment=0.0)


class FrustrationDetector:
    """Scores messages. Build one per process: loading VADER's lexicon takes a moment."""

    def __init__(self, config: FrustrationConfig | None = None) -> None:
        self.config = config or FrustrationConfig()
        self._vader = SentimentIntensityAnalyzer()

    def assess(
        self, text: str, *, intent: str | None, previous_texts: Sequence[str] = ()
    ) -> Frustration:
        """Score ``text``; ``intent`` is the NLU's confident top intent (None if none)."""
        config = self.config
        text = text.translate(_APOSTROPHES)
        if not text.strip():
            return Frustration.calm()
        sentiment = self.sentiment(text)
        fired: list[tuple[str, float]] = []
        negativity = max(0.0, -sentiment - config.sentiment_floor) / (1 - config.sentiment_floor)
        if negativity > 0:
            weight = config.sentiment_weight * negativity
            fired.append((f"negative_sentiment:{sentiment:.2f}", weight))
        if cues.is_shouting(
            text, ratio=config.shouting_ratio, min_letters=config.shouting_min_letters
        ):
            fired.append(("shouting", config.shouting_weight))
        if cues.has_repeated_punctuation(text):
            fired.append(("repeated_punctuation", config.punctuation_weight))
        sarcastic = cues.is_sarcastic(text)
        # Swearing in a clearly positive message is enthusiasm ("f***ing love it"), unless
        # the praise is sarcastic. The words stay out of the record: "insult" says enough.
        if cues.insults(text) and (sentiment < _ENTHUSIASM or sarcastic):
            fired.append(("insult", config.insult_weight))
        harsh = cues.harsh_words(text)
        if harsh:
            fired.append(("harsh_words:" + ",".join(harsh), config.harsh_words_weight))
        emotions = cues.stated_emotions(text)
        if emotions:
            fired.append(("stated_emotion:" + ",".join(emotions), config.stated_emotion_weight))
        if sarcastic:
            fired.append(("sarcasm", config.sarcasm_weight))
        if cues.mentions_long_wait(text):
            fired.append(("long_wait", config.long_wait_weight))
        if cues.repeats(
            text,
            previous_texts,
            similarity=config.repeat_similarity,
            min_chars=config.repeat_min_chars,
        ):
            fired.append(("repeated_message", config.repeated_message_weight))
        if intent is not None and intent in config.complaint_intents:
            fired.append(("complaint_intent", config.complaint_intent_weight))
        score = min(1.0, max(0.0, sum(weight for _, weight in fired)))
        return Frustration(
            score=round(score, 4),
            frustrated=score >= config.threshold,
            cues=tuple(name for name, weight in fired if weight > 0),
            sentiment=sentiment,
        )

    def sentiment(self, text: str) -> float:
        """VADER's compound score of ``text`` (-1 very negative .. +1 very positive)."""
        return float(self._vader.polarity_scores(text)["compound"])
