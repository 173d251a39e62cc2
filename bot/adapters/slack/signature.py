"""Slack's request signature, checked over the raw bytes before anything reads them.

Slack signs ``v0:{timestamp}:{body}`` with HMAC-SHA256 under the app's signing secret and
sends ``X-Slack-Signature: v0=<hex>`` and ``X-Slack-Request-Timestamp`` (Unix seconds). A
request more than five minutes off is refused, so that a captured one cannot be replayed
later. slack_sdk's own verifier wants text and an integer timestamp, so a body that is not
UTF-8 or a header that is not a number would make it raise instead of refusing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_AGE = 5 * 60  # seconds, either way: Slack's own rule
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


@dataclass(frozen=True, slots=True, kw_only=True)
class SignatureCheck:
    secret: str
    clock: Callable[[], float] = time.time
    max_age: float = MAX_AGE

    def __post_init__(self) -> None:
        if not self.secret:
            raise ValueError("checking Slack's signatures needs the signing secret")

    def is_valid(self, *, body: bytes, timestamp: str | None, signature: str | None) -> bool:
        """Whether ``body`` was signed with the secret at ``timestamp``, not long ago."""
        if timestamp is None or signature is None:
            return False
        if not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
            return False
        if abs(self.clock() - int(timestamp)) > self.max_age:
            return False
        signed = b"v0:" + timestamp.encode("ascii") + b":" + body
        expected = hmac.new(self.secret.encode(), signed, hashlib.sha256).hexdigest()
        return hmac.compare_digest(f"v0={expected}", signature)
