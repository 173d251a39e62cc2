"""Errors raised by the application layer. Callers catch :class:`TandemError` or a subclass."""

from __future__ import annotations


class TandemError(Exception):
    """Base of every error raised by the :mod:`bot` package."""


class ConfigError(TandemError):
    """The configuration is invalid. Each line of :attr:`lines` names one setting."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


class MissingChatSettings(TandemError):
    """The real service was asked to run without the chat platforms' credentials."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


class HttpServerError(TandemError):
    """The service's HTTP endpoints could not be served."""
