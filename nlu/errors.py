"""Errors raised by the :mod:`nlu` package. Callers catch :class:`NluError` or a subclass."""


class NluError(Exception):
    """Base of every error raised by the :mod:`nlu` package."""


class NluUnavailable(NluError):
    """Rasa could not answer: timed out, refused the connection, or sent a malformed answer.

    Callers act on this (for instance, hand the conversation to a person).
    """


class RasaEnvironmentError(NluError):
    """The separate Python 3.10 environment Rasa runs in is missing or cannot be built."""


class TrainingError(NluError):
    """Training a model failed; the last good model is kept."""


class DataValidationError(NluError):
    """The trainers' NLU data has errors (see the attached problems)."""


class EvaluationError(NluError):
    """Evaluating a model failed."""


class RasaServerError(NluError):
    """The managed Rasa server could not be started or kept running."""
