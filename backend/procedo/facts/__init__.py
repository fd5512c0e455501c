"""Computed facts about subjects, declared as data (see facts/model.py and docs/receivables.md)."""
