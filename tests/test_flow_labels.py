"""Flow names per language (D6): ``labels`` beside ``name``, kept through export and import,
listed with the flows for the designer, and carried by every shipped example."""

from __future__ import annotations

import json

import pytest

from procedo.api.server import Backend
from procedo.flow.codec import decode_flow, encode_flow
from procedo.flow.labels import labels_of
from procedo.flow.problems import FlowError
from tests.api_helpers import office, ok
from tests.conftest import EXAMPLES, dumps, minimal_flow

LABELS = {"en": "Minimal", "nl": "Minimaal", "de": "Minimal (de)"}


def test_labels_round_trip_and_refuse_unknown_languages() -> None:
    document = encode_flow(decode_flow(json.dumps(minimal_flow(labels=LABELS))))
    assert json.loads(document)["labels"] == LABELS
    assert labels_of(document.decode()) == LABELS
    # One language is enough: the others show the name.
    partial = encode_flow(decode_flow(json.dumps(minimal_flow(labels={"de": "Klein"}))))
    assert labels_of(partial.decode()) == {"de": "Klein"}
    assert labels_of(encode_flow(decode_flow(json.dumps(minimal_flow()))).decode()) is None
    with pytest.raises(FlowError, match=r"\$\.labels.*unknown field `fr`"):
        decode_flow(json.dumps(minimal_flow(labels={"fr": "Minimal"})))
    with pytest.raises(FlowError, match=r"\$\.labels\.nl"):
        decode_flow(json.dumps(minimal_flow(labels={"nl": ""})))


def test_every_shipped_example_names_itself_in_english_dutch_and_german() -> None:
    for path in sorted(EXAMPLES.glob("*.json")):
        flow = json.loads(path.read_text())
        labels = flow.get("labels") or {}
        assert sorted(labels) == ["de", "en", "nl"], path.name
        assert labels["en"] == flow["name"], path.name
        assert labels["de"] != labels["en"], path.name


def test_the_flow_list_gives_the_labels_of_the_draft_or_the_published_version(
    backend: Backend, base_url: str
) -> None:
    acme = office(backend.runtime, base_url, "Labels Office")
    headers = {"Content-Type": "application/json"}
    flow = minimal_flow(labels=LABELS)
    ok(acme.http.post("/flows/import", content=dumps(flow), headers=headers), 201)
    ok(acme.http.post("/flows/minimal/publish"), 201)
    (listed,) = ok(acme.http.get("/flows"))
    assert listed["name"] == "Minimal"
    assert listed["labels"] == LABELS
    exported = ok(acme.http.get("/flows/minimal/export"))
    assert exported["labels"] == LABELS
