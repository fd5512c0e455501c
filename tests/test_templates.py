"""Templates: only what docs/node-types.md allows, bounded in size and time, and the
fields a subject may lack asked for before they are printed."""

from __future__ import annotations

import copy
import datetime as dt
import re
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from procedo import templates
from procedo.flow.codec import decode_flow
from procedo.flow.model import EventTrigger, ScheduleTrigger
from procedo.messaging.library import standard_templates
from procedo.runtime.periods import of_schedule
from procedo.subjects import builtin_subject_types
from procedo.templates import (
    MAX_HEADER_CHARS,
    MAX_LOOP_ITEMS,
    MAX_OUTPUT_CHARS,
    TemplateError,
    check_template,
    render,
    render_header,
)

DEBTOR = builtin_subject_types()["debtor"]
CLAIM = builtin_subject_types()["expense_claim"]
SUBJECT: dict[str, Any] = {"name": "Bakkerij <Jansen>", "debt_amount": 812, "tags": ["a", "b"]}


def values(**subject: Any) -> dict[str, Any]:
    return {"subject": {**SUBJECT, **subject}, "vars": {"round": 2, "numbers": [1, 2, 3]}}


def codes(template: str, subject_type: Any = DEBTOR, *, header: bool = False) -> list[str]:
    return [p.code for p in check_template(template, subject_type, "$.body", header=header)]


# -- Only what the docs list ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["lipsum", "range", "cycler", "namespace", "dict", "joiner"])
def test_jinja_globals_are_unknown_names(name: str) -> None:
    template = f"{{{{ {name} }}}}"
    assert codes(template) == ["template.name.unknown"]
    with pytest.raises(TemplateError, match=f"unknown name '{name}'"):
        render(template, values(), html=True)


@pytest.mark.parametrize(
    "template",
    [
        "{{ lipsum(10000) }}",
        "{{ vars.numbers.pop() }}",
        "{{ subject.update({'name': 'x'}) }}",
        "{{ subject.name.center(100000000) }}",
    ],
)
def test_calls_are_refused_and_change_nothing(template: str) -> None:
    assert "template.forbidden" in codes(template)
    data = values()
    before = copy.deepcopy(data)
    with pytest.raises(TemplateError, match="function or method calls"):
        render(template, data, html=True)
    assert data == before


@pytest.mark.parametrize(
    ("template", "construct"),
    [
        ("{% set x = subject.name %}{{ x }}", "{% set %}"),
        ("{% macro m() %}x{% endmacro %}", "{% macro %}"),
        ("{% autoescape false %}{{ subject.name }}{% endautoescape %}", "{% autoescape %}"),
        ("{% include 'other' %}", "{% include %}"),
        ("{% with a = 1 %}{{ a }}{% endwith %}", "{% with %}"),
    ],
)
def test_statements_outside_the_language_are_refused(template: str, construct: str) -> None:
    problem = check_template(template, None, "$.body")[0]
    assert problem.code == "template.forbidden"
    assert construct in problem.message
    with pytest.raises(TemplateError, match="templates cannot use"):
        render(template, values(), html=True)


@pytest.mark.parametrize("name", ["center", "format", "batch", "safe", "indent", "wordwrap"])
def test_filters_outside_the_list_are_refused(name: str) -> None:
    template = f"{{{{ subject.name | {name}(10) }}}}"
    assert codes(template) == ["template.filter.unknown"]
    with pytest.raises(TemplateError, match=f"filter '{name}' is not available"):
        render(template, values(), html=True)


def test_the_language_that_remains_works() -> None:
    template = (
        "{% for tag in subject.tags if tag != 'b' %}{{ loop.index }}:{{ tag | upper }} "
        "{% endfor %}{{ subject.name ~ '!' }} {{ subject.debt_amount * vars.round }} "
        "{{ subject.tags | join(', ') }} {{ 'yes' if subject.debt_amount > 100 else 'no' }}"
    )
    assert codes(template, None) == []
    assert render(template, values(), html=True) == ("1:A Bakkerij &lt;Jansen&gt;! 1624 a, b yes")


def test_loop_variables_exist_inside_their_loop_only() -> None:
    inside = "{% for tag in subject.tags %}{{ loop.index }} {{ tag }}{% endfor %}"
    assert codes(inside, None) == []
    for outside in ("{{ loop.index }}", "{% for t in subject.tags %}{% endfor %}{{ t }}"):
        assert codes(outside, None) == ["template.name.unknown"]


def test_checking_runs_no_part_of_the_template() -> None:
    # Compiling folds constants: Jinja's own analysis would build these strings.
    started = time.perf_counter()
    for template in ("{{ 'a' * 10**9 }}", "{{ 'a' | center(10**9) }}", "{{ 10**10**10 }}"):
        check_template(template, DEBTOR, "$.body")
    assert time.perf_counter() - started < 1


# -- Bounds while rendering -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ 'a' * 10**7 }}", "numbers only"),
        ("{{ '%099999999d' % 1 }}", "numbers only"),
        ("{{ 10 ** 10 ** 10 }}", "too large"),
        ("{{ subject.tags * 10**8 }}", "numbers only"),
        ("{{ subject.name | replace('', 'x' ~ vars.long) }}", "characters"),
        ("{{ vars.long ~ vars.long ~ vars.long }}", "characters"),
        ("{{ vars.numbers | join(vars.long) }}", "characters"),
    ],
)
def test_values_are_bounded_before_they_are_built(template: str, message: str) -> None:
    data = values()
    data["vars"]["long"] = "x" * 60_000
    started = time.perf_counter()
    with pytest.raises(TemplateError, match=message):
        render(template, data, html=True)
    assert time.perf_counter() - started < 1


def test_output_is_bounded() -> None:
    template = "{% for line in subject.lines %}{{ subject.name }}{% endfor %}"
    data = values(lines=list(range(MAX_LOOP_ITEMS)), name="x" * 20)
    with pytest.raises(TemplateError, match=f"over {MAX_OUTPUT_CHARS:,} characters"):
        render(template, data, html=True)
    with pytest.raises(TemplateError, match=f"over {MAX_HEADER_CHARS:,} characters"):
        render_header("{{ subject.name }}", values(name="x" * (MAX_HEADER_CHARS + 1)))


def test_loops_are_bounded() -> None:
    nested = "{% for a in subject.lines %}{% for b in subject.lines %}{% endfor %}{% endfor %}"
    with pytest.raises(TemplateError, match="loops ran over"):
        render(nested, values(lines=list(range(1000))), html=True)


def test_render_time_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(templates, "RENDER_SECONDS", -1.0)
    with pytest.raises(TemplateError, match="rendering took over"):
        render("{% for a in subject.tags %}{{ a }}{% endfor %}", values(), html=True)


def test_compiling_does_not_count_against_render_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # Compiled templates are cached: counting the compile would fail only the first render.
    compile_once = templates._compiled

    def slow_compile(template: str, html: bool) -> Any:
        time.sleep(0.2)
        return compile_once(template, html)

    monkeypatch.setattr(templates, "_compiled", slow_compile)
    monkeypatch.setattr(templates, "RENDER_SECONDS", 0.1)
    assert render("{{ subject.name }}", values(name="x"), html=True) == "x"


def test_errors_name_the_place() -> None:
    with pytest.raises(TemplateError, match=r"^node 'mail' \$\.body: .*'portal_url'"):
        render("{{ subject.portal_url }}", values(), html=True, place="node 'mail' $.body")


def test_joining_escapes_once() -> None:
    assert render("{{ subject.name | e ~ '&' }}", values(), html=True) == (
        "Bakkerij &lt;Jansen&gt;&amp;"
    )


# -- Fields a subject may lack --------------------------------------------------------------


def test_an_optional_field_printed_as_it_is_is_a_problem() -> None:
    (problem,) = check_template("Link: {{ subject.portal_url }}", DEBTOR, "$.body")
    assert problem.code == "template.field.optional"
    assert "portal_url" in problem.message
    assert "default(" in problem.message
    assert codes("{% if subject.name %}{{ subject.portal_url }}{% endif %}") == [
        "template.field.optional"
    ]
    assert codes("{{ subject.portal_url == 'x' }}") == ["template.field.optional"]


@pytest.mark.parametrize(
    "template",
    [
        "{{ subject.portal_url | default('our website') }}",
        "{{ subject.portal_url | d('our website') | trim }}",
        "{% if subject.portal_url %}{{ subject.portal_url }}{% else %}our website{% endif %}",
        "{% if not subject.portal_url %}our website{% else %}{{ subject.portal_url }}{% endif %}",
        "{% if subject.portal_url is defined and subject.name %}{{ subject.portal_url }}"
        "{% elif subject.name %}our website{% endif %}",
        "{% if subject.portal_url is undefined %}our website{% else %}{{ subject.portal_url }}"
        "{% endif %}",
        "{{ subject.portal_url if subject.portal_url else 'our website' }}",
        "{{ subject.portal_url or 'our website' }}",
    ],
)
def test_an_optional_field_asked_for_renders_with_and_without_it(template: str) -> None:
    assert codes(template) == []
    assert "our website" in render(template, values(), html=True).lower()
    assert "https://pay.example/1" in render(
        template, values(portal_url="https://pay.example/1"), html=True
    )


# -- Subject lines ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "template", ["Reminder\nlevel 2", "Reminder{{ '\\r\\n' }}Bcc: x@example.com"]
)
def test_a_line_break_in_a_subject_line_is_a_problem(template: str) -> None:
    assert codes(template, header=True) == ["template.header.line_break"]
    assert codes(template, header=False) == []


def test_multi_line_text_needs_oneline_in_a_subject_line() -> None:
    assert codes("Rejected: {{ subject.description }}", CLAIM, header=True) == [
        "template.header.line_break"
    ]
    assert codes("Rejected: {{ subject.description | oneline }}", CLAIM, header=True) == []
    text = render_header(
        "Rejected: {{ subject.description | oneline }}",
        {"subject": {"description": "Train\r\nUtrecht -\u2028Zwolle"}, "vars": {}},
    )
    assert text == "Rejected: Train Utrecht - Zwolle"


def test_other_control_characters_in_a_subject_line_are_refused() -> None:
    with pytest.raises(TemplateError, match="line breaks"):
        render_header("{{ subject.name }}", values(name="a\x0bb"))


def test_docs_list_the_filters_and_tests_templates_offer() -> None:
    docs = (Path(__file__).parent.parent / "docs" / "node-types.md").read_text()
    section = docs.split("## Templates", 1)[1].split("\n## ", 1)[0]
    offered = section.split("- The filters", 1)[1].split("\n\n", 1)[0]
    filters, tests = offered.split("the tests", 1)
    assert set(re.findall(r"`(\w+)`", filters)) == templates.FILTERS
    assert set(re.findall(r"`(\w+)`", tests)) == templates.TESTS


# -- The shipped flows ----------------------------------------------------------------------

SAMPLES: dict[str, Any] = {
    "string": "Jansen",
    "text": "Dorpsstraat 1\n1234 AB Dorp",  # multi-line on purpose
    "email": "info@jansen.example",
    "decimal": "812.40",
    "integer": 2,
    "date": "2026-01-05",
    "datetime": "2026-01-05T09:00:00+01:00",
    "bool": True,
    "list": ["one", "two"],
}


def sample_subject(subject_type: Any, *, optional: bool) -> dict[str, Any]:
    """A subject with every declared field, with or without the optional ones."""
    subject: dict[str, Any] = {}
    for declared in subject_type.fields:
        if declared.optional and not optional:
            continue
        *parents, last = declared.name.split(".")
        place = subject
        for parent in parents:
            place = place.setdefault(parent, {})
        place[last] = SAMPLES[declared.type]
    return subject


# What the events that start shipped flows carry (runtime/work.py puts it in vars.event).
EVENT_DATA: dict[str, dict[str, Any]] = {
    "portal.copy_requested": {"open_item": "2026-0001", "open_item_id": str(uuid.uuid4())},
}


def run_variables(flow: Any) -> dict[str, Any]:
    """The variables a run of ``flow`` starts with: a monthly or quarterly flow's period,
    or the data of the event that starts it."""
    trigger = flow.trigger
    if isinstance(trigger, EventTrigger):
        return {"event": EVENT_DATA.get(trigger.event, {})}
    if not isinstance(trigger, ScheduleTrigger):
        return {}
    at = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)
    period = of_schedule(trigger.every, at, trigger.timezone or "Europe/Amsterdam")
    return period.variables() if period else {}


@pytest.mark.parametrize("optional", [False, True], ids=["without-optional", "with-optional"])
def test_every_shipped_template_renders(example_files: list[Path], optional: bool) -> None:
    """What validation passes runs: each example's texts render for a subject that
    lacks its optional fields, and for one that has them."""
    subject_types = builtin_subject_types()
    rendered = 0
    for path in example_files:
        flow = decode_flow(path.read_bytes())
        subject = sample_subject(subject_types[flow.subject_type], optional=optional)
        data = {"subject": subject, "vars": run_variables(flow)}
        for node in flow.nodes:
            texts = {"email": ("subject", "body"), "letter": ("subject", "body")}
            if node.params.get("template" if node.type == "email" else "text_template"):
                continue  # texts of the library: rendered below
            for name in texts.get(node.type, ()):
                header = name == "subject"
                text = node.params[name]
                place = f"{path.name} node '{node.id}' $.{name}"
                if header:
                    render_header(text, data, place=place)
                else:
                    render(text, data, html=True, place=place)
                rendered += 1
            if node.type == "assign_role":
                render_header(node.params["title"], data, place=f"{path.name} {node.id}")
                rendered += 1
    # The library every tenant starts with, which the dunning examples send.
    for template in standard_templates():
        subject = sample_subject(subject_types[template.subject_type], optional=optional)
        data = {"subject": subject, "vars": {"event": {"open_item": "2026-0042"}}}
        for language, text in template.texts.items():
            place = f"{template.name} ({language})"
            assert render_header(text.subject, data, place=place)
            assert "{{" not in render(text.html, data, html=True, place=place)
            rendered += 1
    assert rendered > 20
