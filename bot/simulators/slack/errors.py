"""Errors of the Slack simulator. Callers catch :class:`SimulatorError` or a subclass."""

from __future__ import annotations


class SimulatorError(Exception):
    """Base of every error raised by :mod:`bot.simulators.slack`."""


class WaitTimeout(SimulatorError, TimeoutError):
    """Nothing matching arrived in time; the message lists what did arrive, to show why."""


class MethodError(SimulatorError):
    """A Web API method answers ``{"ok": false, "error": error}``, as Slack does for bad input.

    Raised inside the method handlers and turned into the HTTP 200 answer in one place.
    """

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error
