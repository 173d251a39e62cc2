"""Personal data in customers' messages: found, masked per destination, revealed only to
the agent who owns the handoff (audited), kept only as long as configured, and exported or
erased on request.

Pure detection and masking live here (:mod:`.scanner`, :mod:`.masking`); the wrappers that
mask what the NLU and the agents' desk receive (:mod:`.nlu`, :mod:`.desk`) decorate the
ports in the composition root, so the engine never knows.
"""

from handoff.privacy.errors import PrivacyConfigError, PrivacyError
from handoff.privacy.findings import BUILT_IN, Finding, Kind
from handoff.privacy.masking import Masked, Masker, placeholder
from handoff.privacy.scanner import Pattern, Scanner, build_scanner

__all__ = [
    "BUILT_IN",
    "Finding",
    "Kind",
    "Masked",
    "Masker",
    "Pattern",
    "PrivacyConfigError",
    "PrivacyError",
    "Scanner",
    "build_scanner",
    "placeholder",
]
