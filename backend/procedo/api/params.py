"""Bounds of numeric path and query parameters: a number no column can hold is a 400, not a 500.

Version numbers and draft revisions are INTEGER columns (32 bits on PostgreSQL; SQLite
fails on anything beyond 64 bits), so a larger number cannot name anything stored.
"""

from __future__ import annotations

from typing import Annotated, TypeAlias

from litestar.params import Parameter

MAX_NUMBER = 2**31 - 1

VersionNumber: TypeAlias = Annotated[
    int, Parameter(ge=1, le=MAX_NUMBER, description="a published version: 1, 2, ...")
]
