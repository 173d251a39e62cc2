"""Channel adapters: each translates between one platform's SDK and :mod:`handoff.model`.

An adapter is the only module that imports its platform's SDK; it holds no business logic.
"""
