"""Training the frustration text model (``tandem policy train``) from the shipped data.

GoEmotions' train split (Demszky et al. 2020, Apache-2.0), reduced to a text and one label
(anger, annoyance, disappointment, disapproval or disgust = frustrated), ships gzipped in
``data/``. The model is scikit-learn's logistic regression over :func:`textmodel.features`
with TF-IDF weights and VADER's sentiment; the class weights balance the 17% frustrated
texts against the rest. Training takes about a minute; scoring never needs scikit-learn.

Given a sentence encoder, it also trains the meaning head (:mod:`.meaning`): every text is
encoded (minutes: all-MiniLM-L6-v2 in numpy reads 44,000 texts), the words model is
fitted again on each fifth of the texts left out to give every text a logit it was not
trained on, and a logistic regression reads the vector, that logit and VADER.
"""

from __future__ import annotations

import gzip
import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from handoff.policy.errors import WeightsError
from handoff.policy.meaning import MeaningHead, SentenceEncoder
from handoff.policy.textmodel import (
    ALPHABET,
    Sentiment,
    TextModel,
    char_symbols,
    features,
    words,
)
from handoff.policy.weights import SHIPPED_TRAINING_DATA, Weights

# Retrained weights match the committed ones when every probability on these texts is
# within this distance (solvers' last digits differ between machines).
CHECK_TOLERANCE = 1e-3
_CHECK_TEXTS = 2000


@dataclass(frozen=True, slots=True, kw_only=True)
class TrainingSettings:
    """Chosen on GoEmotions' dev split (`tandem bench frustration`)."""

    min_documents: int = 3  # a feature seen in fewer training texts is dropped
    # Each support-desk example (the NLU's training data: complaints frustrated, the rest
    # not) counts as this many Reddit comments: Reddit's "disapproval" is often a plain
    # "no", which at a support desk answers a question.
    support_weight: float = 10.0
    regularisation: float = 0.5  # scikit-learn's C: smaller is smoother
    max_iterations: int = 3000
    # The meaning head's C (over the sentence vector, the words model's logit and VADER),
    # and how many parts the texts are cut into for the words model's out-of-fold logits.
    head_regularisation: float = 0.3
    head_folds: int = 5


@dataclass(frozen=True, slots=True)
class LabelledData:
    texts: tuple[str, ...]
    labels: tuple[bool, ...]
    sha256: str
    support: int = 0  # how many of the texts, at the end, are support-desk examples

    def with_support(self, examples: Sequence[tuple[str, bool]]) -> LabelledData:
        """These texts and the support desk's (text, frustrated) examples after them."""
        digest = hashlib.sha256(self.sha256.encode())
        for text, label in examples:
            digest.update(f"{int(label)}\t{text}\n".encode())
        return LabelledData(
            (*self.texts, *(text for text, _ in examples)),
            (*self.labels, *(label for _, label in examples)),
            digest.hexdigest(),
            self.support + len(examples),
        )


def read_training_data(path: Path = SHIPPED_TRAINING_DATA) -> LabelledData:
    """The gzipped ``label<TAB>text`` lines (label 1 = frustrated)."""
    try:
        raw = path.read_bytes()
        lines = gzip.decompress(raw).decode("utf-8").splitlines()
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise WeightsError(f"{path}: cannot read the training data: {exc}") from None
    texts, labels = [], []
    for number, line in enumerate(lines, 1):
        label, _, text = line.partition("\t")
        if label not in ("0", "1") or not text:
            raise WeightsError(f"{path}:{number}: expected '0 or 1<TAB>text'")
        texts.append(text)
        labels.append(label == "1")
    return LabelledData(tuple(texts), tuple(labels), hashlib.sha256(raw).hexdigest())


def train(
    data: LabelledData,
    settings: TrainingSettings | None = None,
    *,
    encoder: SentenceEncoder | None = None,
    encoder_name: str = "",
    progress: Callable[[str], None] = lambda _: None,
) -> Weights:
    """The words model; with an ``encoder`` (named ``encoder_name``), the meaning head too."""
    settings = settings or TrainingSettings()
    progress(
        f"{len(data.texts)} texts ({data.support} from the support desk), "
        f"{sum(data.labels)} frustrated"
    )
    vader = SentimentIntensityAnalyzer()
    sentiments = np.array([sentiment_of(vader, text).values() for text in data.texts])
    counter = CountVectorizer(
        analyzer=lambda text: list(features(text).elements()),
        min_df=settings.min_documents,
    )
    counts = counter.fit_transform(data.texts)
    tfidf = TfidfTransformer(sublinear_tf=True)
    matrix = hstack([tfidf.fit_transform(counts), csr_matrix(sentiments)]).tocsr()
    progress(f"{counts.shape[1]} features; fitting the logistic regression")
    labels = np.array(data.labels)
    sample_weight = np.ones(len(data.texts))
    if data.support:
        sample_weight[-data.support :] = settings.support_weight
    regression = _fit(matrix, labels, sample_weight, settings.regularisation, settings)
    names = counter.get_feature_names_out()
    coefficients = regression.coef_[0]
    terms = {
        str(name): (float(idf), float(coefficient))
        for name, idf, coefficient in zip(names, tfidf.idf_, coefficients, strict=False)
    }
    model = TextModel(
        terms=terms,
        sentiment=tuple(float(c) for c in coefficients[len(names) :]),
        intercept=float(regression.intercept_[0]),
        bigram_log_probs=bigram_table(data.texts),
        support_words=frozenset(
            word for text in data.texts[len(data.texts) - data.support :] for word in words(text)
        ),
    )
    head = None
    if encoder is not None:
        progress(f"encoding {len(data.texts)} texts with {encoder_name}")
        vectors = encoder.encode(data.texts)
        progress(f"the words model on {settings.head_folds} parts left out in turn")
        logits = _out_of_fold_logits(matrix, labels, sample_weight, settings)
        progress("fitting the meaning head")
        inputs = np.hstack([vectors, logits[:, np.newaxis], sentiments])
        fitted = _fit(inputs, labels, sample_weight, settings.head_regularisation, settings)
        size = vectors.shape[1]
        head = MeaningHead(
            encoder=encoder_name,
            embedding=fitted.coef_[0][:size].astype(np.float64),
            words=float(fitted.coef_[0][size]),
            sentiment=tuple(float(c) for c in fitted.coef_[0][size + 1 :]),
            intercept=float(fitted.intercept_[0]),
        )
    return Weights(model=model, data_sha256=data.sha256, settings=asdict(settings), head=head)


def _fit(
    inputs: Any, labels: Any, sample_weight: Any, c: float, settings: TrainingSettings
) -> LogisticRegression:
    regression = LogisticRegression(C=c, class_weight="balanced", max_iter=settings.max_iterations)
    return regression.fit(inputs, labels, sample_weight=sample_weight)


def _out_of_fold_logits(
    matrix: Any, labels: Any, sample_weight: Any, settings: TrainingSettings
) -> Any:
    """Each text's words-model logit from a model trained without it (the head must learn
    how far to trust the words on texts they have not seen)."""
    logits = np.zeros(len(labels))
    parts = StratifiedKFold(settings.head_folds, shuffle=True, random_state=0)
    for kept, left_out in parts.split(matrix, labels):
        fitted = _fit(
            matrix[kept], labels[kept], sample_weight[kept], settings.regularisation, settings
        )
        logits[left_out] = fitted.decision_function(matrix[left_out])
    return logits


def sentiment_of(vader: SentimentIntensityAnalyzer, text: str) -> Sentiment:
    scores = vader.polarity_scores(text)
    return Sentiment(
        negative=float(scores["neg"]),
        positive=float(scores["pos"]),
        compound=float(scores["compound"]),
    )


def bigram_table(texts: Sequence[str]) -> tuple[tuple[float, ...], ...]:
    """log P(next | previous) over letters and "other", add-one smoothed."""
    size = len(ALPHABET) + 1
    counts = np.ones((size, size))
    for text in texts:
        symbols = char_symbols(text)
        np.add.at(counts, (symbols[:-1], symbols[1:]), 1)
    logs = np.log(counts / counts.sum(axis=1, keepdims=True))
    return tuple(tuple(float(v) for v in row) for row in logs)


def mismatch(committed: Weights, retrained: Weights, texts: Sequence[str]) -> str | None:
    """Why ``committed`` are not the weights ``retrained`` from the same data (None: they are)."""
    if committed.data_sha256 != retrained.data_sha256:
        return "the committed weights were trained on other data"
    if committed.settings != retrained.settings:
        return f"trained with {committed.settings}, the code says {retrained.settings}"
    if set(committed.model.terms) != set(retrained.model.terms):
        return "the features differ"
    if committed.model.support_words != retrained.model.support_words:
        return "the support desk's words differ"
    neutral = Sentiment(negative=0.0, positive=0.0, compound=0.0)
    return _head_mismatch(committed.head, retrained.head, neutral) or _scores_mismatch(
        committed, retrained, texts, neutral
    )


def _scores_mismatch(
    committed: Weights, retrained: Weights, texts: Sequence[str], neutral: Sentiment
) -> str | None:
    for text in texts[:_CHECK_TEXTS]:
        old = committed.model.probability(text, neutral)
        new = retrained.model.probability(text, neutral)
        if not math.isclose(old, new, abs_tol=CHECK_TOLERANCE):
            return f"{text!r} scores {old:.4f} with the committed weights, {new:.4f} retrained"
    return None


def _head_mismatch(
    committed: MeaningHead | None, retrained: MeaningHead | None, neutral: Sentiment
) -> str | None:
    """Why the meaning heads differ (None: they agree on random unit vectors)."""
    if committed is None or retrained is None:
        if committed is retrained:
            return None
        return (
            "the committed weights have no meaning head"
            if committed is None
            else ("the committed weights have a meaning head, training gave none")
        )
    if committed.encoder != retrained.encoder or committed.dimensions != retrained.dimensions:
        return f"the meaning head was trained with {committed.encoder}, not {retrained.encoder}"
    vectors = np.random.default_rng(0).normal(size=(_CHECK_TEXTS, committed.dimensions))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    for logit in (-2.0, 0.0, 2.0):
        for vector in vectors.astype(np.float32):
            old = committed.probability(vector, logit, neutral)
            new = retrained.probability(vector, logit, neutral)
            if not math.isclose(old, new, abs_tol=CHECK_TOLERANCE):
                return f"the meaning head scores {old:.4f} committed, {new:.4f} retrained"
    return None
