"""What the designer's palette and rule builder are built from: node types, subject types."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import FromPath

from procedo.api.caller import CallerDep, RuntimeDep
from procedo.catalogue import NodeTypeInfo, catalogue
from procedo.registry import Registry
from procedo.runtime.context import NotFound
from procedo.subjects import SubjectType

_CATALOGUES: dict[int, list[NodeTypeInfo]] = {}


def _catalogue(registry: Registry) -> list[NodeTypeInfo]:
    """Built once per registry: node types do not change while the process runs."""
    found = _CATALOGUES.get(id(registry))
    if found is None:
        found = _CATALOGUES[id(registry)] = catalogue(registry)
    return found


class NodeTypeController(Controller):
    path = "/node-types"
    tags = ["catalogue"]

    @get("/", sync_to_thread=False)
    def list_node_types(self, caller: CallerDep, rt: RuntimeDep) -> list[NodeTypeInfo]:
        """Every node type: labels (en, nl, de), params JSON Schema, ports, example."""
        caller.internal()
        return _catalogue(rt.registry)


class SubjectTypeController(Controller):
    path = "/subject-types"
    tags = ["catalogue"]

    @get("/", sync_to_thread=True)
    def list_subject_types(self, caller: CallerDep, rt: RuntimeDep) -> list[SubjectType]:
        """Subject types and their fields (for the rule builder's field picker)."""
        caller.internal()
        with rt.db.read() as session:
            return list(rt.subject_types(session, caller.tenant_id).values())

    @get("/{name:str}", sync_to_thread=True)
    def get_subject_type(
        self, name: FromPath[str], caller: CallerDep, rt: RuntimeDep
    ) -> SubjectType:
        caller.internal()
        with rt.db.read() as session:
            found = rt.subject_types(session, caller.tenant_id).get(name)
        if found is None:
            raise NotFound(f"no subject type '{name}'; GET /api/v1/subject-types lists them")
        return found
