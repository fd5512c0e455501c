"""A validation problem: where it is, a stable code, and what to do about it."""

from __future__ import annotations

import msgspec


class Problem(msgspec.Struct, frozen=True, omit_defaults=True, kw_only=True):
    code: str
    message: str
    node: str | None = None
    edge: str | None = None
    # JSON path inside the flow file, or inside a node's params when ``node`` is set.
    path: str | None = None
    line: int | None = None
    column: int | None = None

    def where(self) -> str:
        parts = []
        if self.line is not None:
            parts.append(f"line {self.line}" + (f", column {self.column}" if self.column else ""))
        if self.node is not None:
            parts.append(f"node '{self.node}'")
        if self.edge is not None:
            parts.append(f"edge '{self.edge}'")
        if self.path and self.path != "$":
            parts.append(self.path)
        return ", ".join(parts) or "flow"

    def __str__(self) -> str:
        return f"{self.where()}: [{self.code}] {self.message}"


class FlowError(ValueError):
    """A flow that cannot be read or used; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
