"""The handoff core: escalation policy, conversation state machine, relay and storage.

Nothing in this package imports a chat platform's SDK: it speaks the neutral model in
:mod:`handoff.model`.
"""
