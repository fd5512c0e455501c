"""Persistence: SQLAlchemy models, sessions and migrations (SQLite or PostgreSQL)."""

# The receivables tables live in their own module; importing it here puts them on
# models.Base.metadata whenever any part of procedo.db is used (create_all, Alembic).
# The SQLite functions are registered for every engine made from then on.
from procedo.db import receivables as receivables
from procedo.db import sqlite_functions as sqlite_functions
