"""Rasa NLU for Tandem: the trainers' data, and the code that trains, serves and queries Rasa.

Rasa 3.6 runs in its own Python 3.10 environment as an HTTP server; nothing here imports rasa.
"""
