"""The committed frustration weights are what `tandem policy train` gives.

A module of its own, so that under pytest-xdist (which hands each worker whole modules) the
test that waits minutes for the retraining is scheduled last and blocks no other test.
"""

from __future__ import annotations

import pytest

from tests.support.background import BackgroundCommand


# Retrains, minutes: encoding the 44,130 texts for the meaning head is most of it. The
# command starts with the session and runs beside the other tests (tests/conftest.py).
@pytest.mark.timeout(1800)
def test_the_committed_weights_are_what_training_gives(
    policy_train_check: BackgroundCommand,
) -> None:
    """The committed weights match the data and the code, including the NLU's training
    data (change nlu/data, then run `tandem policy train`)."""
    result = policy_train_check.result()

    assert result.returncode == 0, result.output
    assert "matches the training data" in result.output
