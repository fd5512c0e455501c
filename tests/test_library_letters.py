"""Letters whose texts come from the template library, in the debtor's language (issue 16).

Every tenant starts with the standard library the shipped dunning flows send
(payment-reminder, dunning-notice in nl, de and en). A letter node naming one, or an
email node's "letter when there is no address" with a library template, is drawn in
the debtor's language, with the amount its reader writes and the facts as they are when
it is printed.
"""

from __future__ import annotations

from typing import Any

from procedo.api.server import Backend
from procedo.messaging.library import standard_templates
from tests.api_helpers import Office, ok
from tests.conftest import dumps, minimal_flow
from tests.portal_helpers import add_item
from tests.test_letters import LETTERHEAD, letters_ready, text_of
from tests.test_template_library import _server_key, acme, sqlite_backend

__all__ = ["_server_key", "acme", "sqlite_backend"]  # fixtures shared with the library tests

HEADERS = {"Content-Type": "application/json"}


def flow_with(node: dict[str, Any], port: str = "next") -> dict[str, Any]:
    return minimal_flow(
        key="library-letter",
        name="Library letter",
        subject_type="debtor",
        nodes=[
            {"id": "start", "type": "start"},
            {"id": "send", **node},
            {"id": "end", "type": "end"},
        ],
        edges=[
            {"id": "e1", "source": "start", "source_port": "next", "target": "send"},
            {"id": "e2", "source": "send", "source_port": port, "target": "end"},
        ],
    )


def run(acme: Office, flow: dict[str, Any], *subject_ids: str) -> None:
    ok(acme.http.post("/flows", content=dumps(flow), headers=HEADERS), 201)
    ok(acme.http.post("/flows/library-letter/publish"), 201)
    for subject_id in subject_ids:
        ok(
            acme.http.post("/instances", json={"flow": "library-letter", "subject_id": subject_id}),
            201,
        )


def debtor(acme: Office, key: str, name: str, address: str, language: str) -> str:
    fields = {"name": name, "address": address, "language": language}
    made = ok(
        acme.http.post("/subjects", json={"type": "debtor", "key": key, "fields": fields}), 201
    )
    return str(made["id"])


def pdf_text(acme: Office, letter: dict[str, Any]) -> str:
    answer = acme.http.get(f"/letters/{letter['id']}/pdf")
    assert answer.status_code == 200, answer.text
    return text_of(answer.content)


def test_a_new_tenant_has_the_standard_library_in_three_languages(acme: Office) -> None:
    listed = {t["name"]: t for t in ok(acme.http.get("/templates"))}
    assert sorted(listed) == sorted(t.name for t in standard_templates())
    for name in ("payment-reminder", "dunning-notice"):
        assert listed[name]["subject_type"] == "debtor"
        assert listed[name]["languages"] == ["nl", "de", "en"]


def test_a_letter_from_the_library_is_printed_in_each_debtors_language(
    acme: Office, sqlite_backend: Backend
) -> None:
    ok(acme.http.put("/settings/letterhead", json=LETTERHEAD))
    german = debtor(acme, "D-1", "Bäckerei Schulz", "Hauptstr. 1\n10115 Berlin", "de")
    dutch = debtor(acme, "D-2", "Bakkerij De Korst", "Dorpsstraat 5\n1234 AB Ergenshuizen", "nl")
    add_item(sqlite_backend, acme, german, "R-1", "1234.56")
    add_item(sqlite_backend, acme, dutch, "F-1", "99.00")
    run(
        acme,
        flow_with({"type": "letter", "params": {"text_template": "payment-reminder"}}),
        german,
        dutch,
    )
    letters = {letter["subject_key"]: letter for letter in letters_ready(acme, 2)}

    assert letters["D-1"]["title"] == "(template payment-reminder)"  # until it is drawn
    text = pdf_text(acme, letters["D-1"])
    assert "Zahlungserinnerung" in text
    assert "Guten Tag Bäckerei Schulz" in text
    assert "1.234,56 €" in text  # the computed debt, written as a German reader writes it
    assert "Seite 1 von 1" in text
    text = pdf_text(acme, letters["D-2"])
    assert "Betalingsherinnering" in text
    assert "€ 99,00" in text
    assert "Pagina 1 van 1" in text
    drawn = {letter["subject_key"]: letter["title"] for letter in ok(acme.http.get("/letters"))}
    assert drawn == {"D-1": "Zahlungserinnerung", "D-2": "Betalingsherinnering"}


def test_an_email_without_address_becomes_the_library_letter(
    acme: Office, sqlite_backend: Backend
) -> None:
    ok(acme.http.put("/settings/letterhead", json=LETTERHEAD))
    english = debtor(acme, "D-3", "Corner Shop Ltd", "1 High Street\nLondon", "en")
    add_item(sqlite_backend, acme, english, "I-1", "1500.00")
    email = {
        "to": {"kind": "field", "field": "subject.email"},
        "template": "dunning-notice",
        "letter_when_no_address": "standard",
        "mark": "dunning_notice",
    }
    run(acme, flow_with({"type": "email", "params": email}, "sent"), english)
    (letter,) = letters_ready(acme, 1)
    text = pdf_text(acme, letter)
    assert "Payment notice" in text
    assert "€1,500.00" in text


def test_a_letter_naming_a_template_the_tenant_lacks_is_refused_at_publish(acme: Office) -> None:
    flow = flow_with({"type": "letter", "params": {"text_template": "lawyer-letter"}})
    answer = acme.http.post("/flows", content=dumps(flow), headers=HEADERS)
    if answer.status_code == 201:  # stored as a draft: publishing checks the library
        answer = acme.http.post("/flows/library-letter/publish")
    assert answer.status_code == 422, answer.text
    (problem,) = [p for p in answer.json()["problems"] if p["code"] == "template.unknown"]
    assert (problem["node"], problem["path"]) == ("send", "$.text_template")
    assert "payment-reminder" in problem["message"]  # it names the templates there are


def test_a_letter_with_a_template_and_its_own_text_is_refused(acme: Office) -> None:
    params = {"text_template": "payment-reminder", "subject": "Hi", "body": "Pay."}
    answer = acme.http.post(
        "/flows/validate",
        content=dumps(flow_with({"type": "letter", "params": params})),
        headers=HEADERS,
    )
    codes = [p["code"] for p in ok(answer)["problems"]]
    assert codes == ["letter.template_and_text"]
