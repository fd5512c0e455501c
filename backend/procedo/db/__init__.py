"""Persistence: SQLAlchemy models, sessions and migrations (SQLite or PostgreSQL)."""
