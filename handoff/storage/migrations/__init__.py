"""Alembic migrations of Tandem's SQL schema; run them with :meth:`Database.upgrade`.

This is a package only so that setuptools ships ``env.py`` and ``versions/`` with the code.
"""
