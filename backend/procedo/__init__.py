"""Procedo: a workflow designer and runtime for finance back offices."""

__version__ = "0.1.0"
