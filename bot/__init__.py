"""Tandem's application: the CLI, settings, composition root and channel adapters."""
