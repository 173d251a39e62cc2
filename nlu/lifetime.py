"""A child that dies with its parent: Linux's ``PR_SET_PDEATHSIG``, set between fork and exec.

The kernel sends the signal when the *thread* that forked the child ends, not the process.
Tandem starts Rasa from its event loop's thread (asyncio runs ``Popen`` there), which lives
as long as the service, so the signal arrives when the service dies, however it dies, and
only then. Elsewhere there is no such signal: :func:`die_with_parent` returns None, and the
orphan check at the next start (:mod:`nlu.orphans`) is what stops a survivor.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
# KILL, not TERM: the parent is gone, Rasa holds nothing worth a graceful exit (the model is
# on disk), and a TERM it handled slowly or ignored would leave it running with no one to
# follow up.
_DEATH_SIGNAL = int(signal.SIGKILL)


def die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that has the kernel kill the child when this thread ends, or None
    where the kernel cannot."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # a libc without prctl: a platform we do not know
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    prctl.restype = ctypes.c_int
    parent = os.getpid()

    # Runs in the child after fork: the function is looked up above, before forking, so the
    # child takes no lock and imports nothing, which is what makes a preexec_fn safe in a
    # process with threads.
    def in_child() -> None:
        if prctl(_PR_SET_PDEATHSIG, _DEATH_SIGNAL, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
        if os.getppid() != parent:  # the parent died before the signal was armed
            os._exit(1)

    return in_child
