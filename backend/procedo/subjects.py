"""Subject types: the business objects flows run on, and the fields they declare.

Rules and templates are checked against these declarations when a flow is
saved, so a typo in a field name is caught by the consultant, not at 3 a.m.
Built-in types ship as JSON files in ``procedo/subject_types/``; tenants can
declare their own in the same format.
"""

from __future__ import annotations

from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

import msgspec

from procedo.facts.model import Fact

FieldType = Literal[
    "string", "text", "email", "decimal", "integer", "date", "datetime", "bool", "list"
]
ORDERED_TYPES: frozenset[str] = frozenset({"decimal", "integer", "date", "datetime"})
TEXT_TYPES: frozenset[str] = frozenset({"string", "text", "email"})

FieldName = Annotated[
    str, msgspec.Meta(pattern=r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$")
]


class Labels(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A text in the three languages of Procedo's users."""

    en: str
    nl: str
    de: str

    def get(self, language: str) -> str:
        return str(getattr(self, language, self.en))


class FieldDef(msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True):
    name: FieldName
    type: FieldType
    label: Labels
    description: str = ""
    # Filled by Procedo, not by people or imports: by ``compute`` (facts/model.py)
    # where declared, else by a module of its own (a debtor's portal link).
    computed: bool = False
    compute: Fact | None = None
    # A subject may lack this field (a portal link not issued yet): a template that
    # prints it must say what to print without it (procedo.templates checks that).
    optional: bool = False


class SubjectType(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, omit_defaults=True, dict=True
):
    name: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    label: Labels
    fields: list[FieldDef]
    statuses: list[str] = []

    def field(self, path: str) -> FieldDef | None:
        """The field a dotted path (without the ``subject.`` prefix) names."""
        return self._by_name.get(path)

    def field_names(self) -> frozenset[str]:
        return frozenset(self._by_name)

    @cached_property
    def _by_name(self) -> dict[str, FieldDef]:
        return {f.name: f for f in self.fields} | {STATUS_FIELD.name: STATUS_FIELD}


# Every subject has a status, whether or not its type declares it.
STATUS_FIELD = FieldDef(
    name="status", type="string", label=Labels(en="Status", nl="Status", de="Status")
)


def load_subject_type(data: bytes, source: str = "<subject type>") -> SubjectType:
    try:
        subject_type = msgspec.json.decode(data, type=SubjectType)
    except msgspec.DecodeError as exc:
        raise ValueError(f"{source}: {exc}") from exc
    from procedo.facts.declared import check_computed  # it reads SubjectType

    problems = check_computed(subject_type)
    if problems:
        raise ValueError(f"{source}: " + "; ".join(problems))
    return subject_type


def builtin_subject_types() -> dict[str, SubjectType]:
    """The subject types shipped with Procedo, by name."""
    folder = resources.files("procedo") / "subject_types"
    found: dict[str, SubjectType] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            subject_type = load_subject_type(entry.read_bytes(), entry.name)
            found[subject_type.name] = subject_type
    return found


def load_subject_types_dir(folder: Path) -> dict[str, SubjectType]:
    return {
        st.name: st
        for st in (load_subject_type(p.read_bytes(), str(p)) for p in sorted(folder.glob("*.json")))
    }
