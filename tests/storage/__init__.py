"""Tests of the SQL storage layer against SQLite and PostgreSQL."""
