"""The privacy package's errors."""

from __future__ import annotations

from handoff.errors import HandoffError


class PrivacyError(HandoffError):
    """Base of the privacy package's errors."""


class PrivacyConfigError(PrivacyError):
    """A privacy setting cannot be used (a pattern that does not compile, an unknown
    checksum or region); the message names it."""
