"""The shipped labelled conversations (``conversations.yml``); a package so it installs."""
