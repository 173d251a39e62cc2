"""Tests of the platform-neutral handoff core: the escalation policy."""
