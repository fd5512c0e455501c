"""Persistence: SQLAlchemy models, sessions and migrations (SQLite or PostgreSQL)."""

# The receivables and messaging tables live in modules of their own; importing them here puts
# them on models.Base.metadata whenever any part of procedo.db is used (create_all, Alembic).
# The SQLite functions are registered for every engine made from then on.
from procedo.db import client_requests as client_requests
from procedo.db import handovers as handovers
from procedo.db import letters as letters
from procedo.db import messaging as messaging
from procedo.db import portal as portal
from procedo.db import portal_plans as portal_plans
from procedo.db import procedures as procedures
from procedo.db import receivables as receivables
from procedo.db import schedule_runs as schedule_runs
from procedo.db import sms as sms
from procedo.db import sqlite_functions as sqlite_functions
from procedo.db import starts as starts
