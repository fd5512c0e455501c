"""Paging for lists: `limit` rows from `offset`; both bounded, so no query asks for the absurd."""

from __future__ import annotations

from typing import Annotated, TypeAlias

from litestar.params import QueryParameter

Limit: TypeAlias = Annotated[int, QueryParameter(ge=1, le=1000, description="rows to return")]
Offset: TypeAlias = Annotated[int, QueryParameter(ge=0, le=10_000_000, description="rows to skip")]
