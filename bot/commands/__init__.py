"""The ``tandem`` sub-commands, one module per group."""
