"""Is the customer frustrated? The text model, the lexicon's cues and the conversation.

Evidence (:mod:`.evidence`) adds up, clipped to [0, 1] (weights and threshold in
:class:`~handoff.policy.config.FrustrationConfig`)::

    score = model_weight * max(0, (P(frustrated | text) - model_floor) / (1 - model_floor))
          + sentiment_weight * max(0, (-compound - sentiment_floor) / (1 - sentiment_floor))
          + the weight of every cue that fired

The text model reads how the words sound (:mod:`.textmodel`, trained on GoEmotions) and,
given a sentence encoder, what the message means (:mod:`.meaning`: its probability then
replaces the words model's; without an encoder the words model scores alone, said once in
the log); the cues (:mod:`.cues`) catch what a support desk hears that Reddit does not
teach (sarcasm, "I'm fed up", a wait of three weeks) and what only the conversation knows
(the same message again, the complaint intent, a turn after the bot already failed).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from handoff.policy import cues
from handoff.policy.config import FrustrationConfig
from handoff.policy.evidence import Frustration, Signal, combine, model_signal, sentiment_signal
from handoff.policy.meaning import (
    KeepsReadings,
    MeaningHead,
    SentenceEncoder,
    Vectors,
    dimensions_of,
)
from handoff.policy.textmodel import Sentiment, TextModel
from handoff.policy.weights import shipped_weights

logger = logging.getLogger(__name__)

__all__ = ["Frustration", "FrustrationDetector"]

# VADER's compound score above which swearing reads as enthusiasm.
_ENTHUSIASM = 0.5

# Curly apostrophes (phones type them) would defeat "can't", "it's" in the patterns.
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


class FrustrationDetector:
    """Scores messages. Build one per process: VADER's lexicon and the weights load once.

    ``encoder`` (the service's sentence encoder) lets the meaning head read the message;
    without one, or with weights that have no head for it, the words model scores alone.
    """

    _said_words_only = False  # the log says once per process that the meaning is not read

    def __init__(
        self,
        config: FrustrationConfig | None = None,
        *,
        model: TextModel | None = None,
        encoder: SentenceEncoder | None = None,
        head: MeaningHead | None = None,
        words_only: bool = False,
    ):
        self.config = config or FrustrationConfig()
        self._vader = SentimentIntensityAnalyzer()
        if model is None:  # the shipped words model, and its head unless one is given
            model, head = shipped_weights().model, head or shipped_weights().head
        self.model = model
        # words_only: the words model alone, as asked (a benchmark's baseline), not logged.
        self.head, self.encoder = (None, None) if words_only else _reading(encoder, head)

    @property
    def reads_meaning(self) -> bool:
        """True when the meaning head scores (an encoder and weights for it)."""
        return self.head is not None

    def assess(
        self,
        text: str,
        *,
        intent: str | None,
        previous_texts: Sequence[str] = (),
        failed_turns: int = 0,
        meaning: Vectors | None = None,
    ) -> Frustration:
        """Score ``text``; ``intent`` is the NLU's confident top intent (None if none);
        ``failed_turns`` counts the turns in a row the bot has failed before this one;
        ``meaning`` is :meth:`read_meaning`'s vector of ``text`` when already read."""
        config = self.config
        written, text = text, text.translate(_APOSTROPHES)
        if not text.strip():
            return Frustration.calm()
        sentiment = self.sentiments(text)
        probability = self.probability(text, sentiment, written=written, meaning=meaning)
        # "That didn't help" is counted once, by the two-turn rule (and the weight below);
        # the model, which reads it as Reddit's disapproval, would hand off at the first.
        not_helpful = cues.says_not_helpful(text)
        signals = [
            None if not_helpful else model_signal(probability, len(text.split()), config),
            sentiment_signal(sentiment.compound, config),
            *self._text_cues(text, sentiment.compound),
            *self._conversation_cues(text, intent, previous_texts, failed_turns),
            Signal("said_not_helpful", config.not_helpful_weight) if not_helpful else None,
        ]
        return combine(
            [signal for signal in signals if signal is not None],
            config,
            sentiment=sentiment.compound,
            probability=probability,
        )

    def probability(
        self, text: str, sentiment: Sentiment, *, written: str = "", meaning: Vectors | None = None
    ) -> float:
        """P(frustrated | text): the meaning head's when it reads, else the words model's.

        The head reads ``meaning`` if given, else the encoder reads the message as
        ``written`` (as the NLU read it, so a shared encoder's cache has its vector; as the
        head was trained), else ``text``."""
        if self.head is None or self.encoder is None:
            return self.model.probability(text, sentiment)
        vector = self.encoder.encode([written or text])[0] if meaning is None else meaning
        return self.head.probability(vector, self.model.logit(text, sentiment), sentiment)

    def read_meaning(self, text: str) -> Vectors | None:
        """The sentence vector the meaning head reads ``text`` by (None: the head does not
        read). Encoding is CPU work (MiniLM: about 4 ms of a core for a message the
        encoder has not read yet), so the service calls this in a worker thread and passes
        the vector to :meth:`assess`: on the event loop it would stall every other
        conversation."""
        if self.head is None or self.encoder is None or not text.strip():
            return None
        vector: Vectors = self.encoder.encode([text])[0]
        return vector

    def meaning_at_hand(self, text: str) -> Vectors | None:
        """:meth:`read_meaning`'s vector when it costs no encoding (the encoder kept it from
        the NLU's reading of the same text), else None. Cheap enough for the event loop,
        which then skips a worker thread's round trip for most messages."""
        encoder: object = self.encoder  # object: mypy cannot narrow one Protocol to another
        if self.head is None or not isinstance(encoder, KeepsReadings):
            return None
        return encoder.kept(text)

    def _text_cues(self, text: str, compound: float) -> list[Signal]:
        config = self.config
        fired: list[Signal] = []
        if cues.is_shouting(
            text, ratio=config.shouting_ratio, min_letters=config.shouting_min_letters
        ):
            fired.append(Signal("shouting", config.shouting_weight))
        if cues.has_repeated_punctuation(text):
            fired.append(Signal("repeated_punctuation", config.punctuation_weight))
        sarcastic = cues.is_sarcastic(text)
        # Swearing in a clearly positive message is enthusiasm ("f***ing love it"), unless
        # the praise is sarcastic. The words stay out of the record: "insult" says enough.
        if cues.insults(text) and (compound < _ENTHUSIASM or sarcastic):
            fired.append(Signal("insult", config.insult_weight))
        harsh = cues.harsh_words(text)
        if harsh:
            fired.append(Signal("harsh_words:" + ",".join(harsh), config.harsh_words_weight))
        emotions = cues.stated_emotions(text)
        if emotions:
            fired.append(
                Signal("stated_emotion:" + ",".join(emotions), config.stated_emotion_weight)
            )
        if sarcastic:
            fired.append(Signal("sarcasm", config.sarcasm_weight))
        if cues.mentions_long_wait(text):
            fired.append(Signal("long_wait", config.long_wait_weight))
        return fired

    def _conversation_cues(
        self, text: str, intent: str | None, previous_texts: Sequence[str], failed_turns: int
    ) -> list[Signal]:
        config = self.config
        fired: list[Signal] = []
        if cues.repeats(
            text,
            previous_texts,
            similarity=config.repeat_similarity,
            min_chars=config.repeat_min_chars,
        ):
            fired.append(Signal("repeated_message", config.repeated_message_weight))
        if intent is not None and intent in config.complaint_intents:
            fired.append(Signal("complaint_intent", config.complaint_intent_weight))
        if failed_turns > 0:
            fired.append(Signal("after_failed_turn", config.after_failed_turn_weight))
        return fired

    def sentiments(self, text: str) -> Sentiment:
        scores = self._vader.polarity_scores(text)
        return Sentiment(
            negative=float(scores["neg"]),
            positive=float(scores["pos"]),
            compound=float(scores["compound"]),
        )

    def sentiment(self, text: str) -> float:
        """VADER's compound score of ``text`` (-1 very negative .. +1 very positive)."""
        return self.sentiments(text).compound


def _reading(
    encoder: SentenceEncoder | None, head: MeaningHead | None
) -> tuple[MeaningHead | None, SentenceEncoder | None]:
    """The head and encoder to use, or (None, None) with the reason logged once."""
    reason = None
    if encoder is None:
        reason = "no sentence encoder"
    elif head is None:
        reason = "the weights have no meaning head (run `tandem policy train`)"
    else:
        size = dimensions_of(encoder)
        if size != head.dimensions:
            reason = (
                f"the encoder's vectors have {size} dimensions, the meaning head "
                f"({head.encoder}) {head.dimensions}"
            )
    if reason is None:
        return head, encoder
    if not FrustrationDetector._said_words_only:
        FrustrationDetector._said_words_only = True
        logger.warning(
            "frustration: %s; the text model reads the words only (TF-IDF and VADER)", reason
        )
    return None, None
