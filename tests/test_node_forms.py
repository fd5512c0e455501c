"""Node forms a consultant reads (issue 13, Deliver 2): each param's title, help,
choices and picker are declared once, in the node type's module, and reach the
catalogue (API and `procedo nodes --json`) that the designer's forms are built from."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from procedo.api.server import Backend
from procedo.nodeforms import untitled_params
from procedo.nodetypes import RULE_DEFINITIONS
from procedo.registry import load_registry
from tests.api_helpers import office, ok
from tests.test_registry import _procedo, _write_pack

LANGS = ("en", "nl", "de")


def _properties(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``Def.param`` -> the param's schema, for every definition of a params schema."""
    return {
        f"{name}.{prop}": value
        for name, definition in schema.get("$defs", {}).items()
        for prop, value in definition.get("properties", {}).items()
    }


def test_every_param_of_every_node_type_has_a_title_in_three_languages() -> None:
    registry = load_registry()
    for node_type in registry.values():
        assert node_type.untitled_params() == [], node_type.type
        for where, prop in _properties(node_type.json_schema()).items():
            if where.split(".")[0] in {"All", "AnyOf", "Not", "Compare"} or "Value." in where:
                continue  # the rule builder's and the value's own widgets
            if isinstance(prop.get("enum"), list) and len(prop["enum"]) == 1:
                continue  # a union's tag, never shown
            titles = prop["x-title"]
            assert all(titles[lang] for lang in LANGS), f"{node_type.type} {where}"
            assert prop["title"] == titles["en"]


def test_the_catalogue_serves_titles_pickers_and_options(backend: Backend, base_url: str) -> None:
    acme = office(backend.runtime, base_url, "Forms Office")
    listed = {n["type"]: n for n in ok(acme.http.get("/node-types"))}

    task = _properties(listed["assign_role"]["params_schema"])
    assert task["AssignRoleParams.title"]["x-title"]["de"] == "Titel der Aufgabe"
    assert task["AssignRoleParams.title"]["x-help"]["nl"].startswith("Staat in de inbox")
    assert task["Assignee.role"]["x-picker"] == "role"
    assert task["Assignee.user"]["x-picker"] == "user"
    # Declared order, not alphabetical: the form lists the title first, then what follows.
    order = ["title", "instructions", "assignee", "outcomes", "checkpoints", "due"]
    declared = listed["assign_role"]["params_schema"]["$defs"]["AssignRoleParams"]
    assert list(declared["properties"])[:6] == order
    # ... also where JSON is written with sorted keys (procedo nodes --json).
    assert declared["x-order"][:6] == order
    # Programmers' class names are no form's words.
    assert "title" not in declared

    units = [o["value"] for o in task["Duration.unit"]["x-options"]]
    assert units == ["seconds", "minutes", "hours", "days", "business_days", "weeks", "months"]
    assert task["Duration.unit"]["x-options"][4]["label"]["de"] == "Werktage"

    wait = _properties(listed["wait"]["params_schema"])
    modes = wait["WaitParams.until"]["x-options"]
    assert [m["value"] for m in modes] == ["duration", "until_date", "event", "condition", "rule"]
    assert wait["UntilDate.field"]["x-picker"] == "field_path"
    assert wait["UntilDate.field"]["x-field-types"] == ["date", "datetime"]
    assert wait["ForEvent.event"]["x-picker"] == "event"

    change = _properties(listed["status_change"]["params_schema"])
    assert change["StatusChangeParams.status"]["x-picker"] == "status"
    assert change["FieldValue.field"]["x-picker"] == "field"
    value_types = {o["value"]: o["label"]["nl"] for o in change["FieldValue.value"]["x-options"]}
    assert value_types["decimal"] == "Getal"
    assert _properties(listed["email"]["params_schema"])["EmailParams.template"]["x-picker"] == (
        "template"
    )
    assert _properties(listed["end"]["params_schema"])["EndParams.status"]["x-picker"] == "status"


def test_procedo_nodes_json_carries_the_same_titles() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "procedo", "nodes", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    listed = {n["type"]: n for n in json.loads(result.stdout)}
    escalate = _properties(listed["escalate"]["params_schema"])
    assert escalate["EscalateParams.reassign_to"]["x-title"] == {
        "en": "Reassign to",
        "nl": "Opnieuw toewijzen aan",
        "de": "Neu zuweisen an",
    }


UNTITLED_PACK = """
    from procedo.nodetypes import NEXT, NodeType, Params, go
    from procedo.subjects import Labels

    class SmsParams(Params, frozen=True):
        text: str = ""

    NODE = NodeType(
        type="sms",
        labels=Labels(en="Send SMS", nl="Sms versturen", de="SMS senden"),
        description=Labels(en="Sends an SMS.", nl="Verstuurt een sms.", de="Sendet eine SMS."),
        category="messages",
        params=SmsParams,
        ports=lambda params: [NEXT],
        enter=lambda params, context: go("next"),
    )
"""


def test_every_choice_a_param_offers_has_a_label() -> None:
    """A union gaining a member (a rule value such as "today") must not show an English tag."""
    schema = load_registry()["status_change"].json_schema()
    value = schema["$defs"]["FieldValue"]["properties"]["value"]
    assert value["x-options"][-1]["value"] == "bool"
    value["x-options"] = value["x-options"][:-1]
    assert list(untitled_params(schema, skip=RULE_DEFINITIONS)) == [
        "FieldValue.value (choice 'bool')"
    ]


def test_a_node_type_with_an_untitled_param_is_refused_naming_it(tmp_path: Path) -> None:
    _write_pack(tmp_path, UNTITLED_PACK, "sms = acme_nodes:NODE")
    result = _procedo(["nodes"], tmp_path)
    assert result.returncode == 1
    assert "sms = acme_nodes:NODE" in result.stderr
    assert "params SmsParams.text need a title in en, nl and de" in result.stderr


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """The catalogue is the same on every database: SQLite is enough."""
    return f"sqlite:///{tmp_path / 'forms.db'}"
