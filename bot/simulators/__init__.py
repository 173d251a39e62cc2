"""Local stand-ins for the chat platforms' APIs, for tests and the offline sandbox.

Each simulator speaks its platform's real HTTP protocol, so the production adapters and
SDK clients run against it unchanged.
"""
