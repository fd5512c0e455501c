"""The template library (D2 "E-Mail Vorlage"): named email templates per tenant and language.

A template is for one subject type and has a text per language (nl, de, en): a
subject line, an HTML body and optionally a plain-text body (made from the HTML
when empty). The texts are templates of ``procedo.templates``: checked when
saved against the subject type's fields, rendered in its sandbox.

An email node names a template (``"template": "dunning-1"``) instead of carrying
its own subject and body. Validation then checks that the tenant has it, for the
flow's subject type, with fields that type has (:func:`flow_problems`). The
outbox renders it when the message leaves (:func:`render_for_outbox`), in the
subject's language (its ``language`` field), else the tenant's default language,
else the first language the template has (nl, de, en in that order).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import msgspec
import sqlalchemy as sa
from sqlalchemy.orm import Session

from procedo import mail
from procedo.db import messaging as dbm
from procedo.db import models as m
from procedo.facts.calendar import Calendar
from procedo.facts.declared import computed_fields
from procedo.facts.python import load_facts
from procedo.flow.codec import decode_flow
from procedo.flow.model import Flow
from procedo.flow.problems import Problem
from procedo.messaging.channel import default_language
from procedo.portal.placeholders import Form, message_values
from procedo.runtime.context import (
    NotFound,
    Refusal,
    Runtime,
    tenant_subject_types,
    working_days_of,
)
from procedo.runtime.steps import subject_view
from procedo.subjects import SubjectType
from procedo.templates import (
    MAX_HEADER_CHARS,
    TemplateError,
    check_template,
    render,
    render_header,
)

LANGUAGES: tuple[str, ...] = ("nl", "de", "en")
NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,63}$"
TemplateName = Annotated[str, msgspec.Meta(pattern=NAME_PATTERN)]
# What the outbox row says until the template is rendered, as the message leaves.
PENDING_SUBJECT = "(template {name})"


class TemplateText(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    subject: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_HEADER_CHARS)]
    html: Annotated[str, msgspec.Meta(min_length=1, max_length=100_000)]
    # Empty: the plain-text part is made from the HTML.
    text: Annotated[str, msgspec.Meta(max_length=100_000)] = ""


class TemplateTexts(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    nl: TemplateText | None = None
    de: TemplateText | None = None
    en: TemplateText | None = None

    def items(self) -> list[tuple[str, TemplateText]]:
        found = [(language, getattr(self, language)) for language in LANGUAGES]
        return [(language, text) for language, text in found if text is not None]


class TemplateBody(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A template's content (PUT /templates/{name}); its name is in the path."""

    subject_type: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    description: Annotated[str, msgspec.Meta(max_length=500)] = ""
    texts: TemplateTexts


class TemplateIn(TemplateBody, forbid_unknown_fields=True, kw_only=True):
    """A new template (POST /templates), and one entry of an exported library file."""

    name: TemplateName


class TemplateOut(msgspec.Struct, kw_only=True):
    name: str
    subject_type: str
    description: str
    languages: list[str]
    texts: TemplateTexts
    updated_at: dt.datetime
    updated_by: str


class TemplateSummary(msgspec.Struct, kw_only=True):
    name: str
    subject_type: str
    description: str
    languages: list[str]
    updated_at: dt.datetime
    updated_by: str


class Rendered(msgspec.Struct, kw_only=True):
    name: str
    language: str
    subject: str
    html: str
    text: str


class TemplateProblems(ValueError):
    """A template that cannot be stored: every problem, each with its path."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.path}: {p.message}" for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Loaded:
    """A template as read for checking and rendering."""

    name: str
    subject_type: str
    texts: Mapping[str, TemplateText]


# -- Checking --------------------------------------------------------------------------------


def text_problems(
    texts: Mapping[str, TemplateText], subject_type: SubjectType | None, prefix: str = "$.texts"
) -> list[Problem]:
    """What is wrong with a template's texts for ``subject_type``: syntax, names, fields."""
    problems: list[Problem] = []
    for language, text in texts.items():
        here = f"{prefix}.{language}"
        found = check_template(text.subject, subject_type, f"{here}.subject", header=True)
        found += check_template(text.html, subject_type, f"{here}.html")
        if text.text:
            found += check_template(text.text, subject_type, f"{here}.text")
        problems += [Problem(code=p.code, message=p.message, path=p.path) for p in found]
    return problems


def _body_problems(body: TemplateBody, subject_types: Mapping[str, SubjectType]) -> list[Problem]:
    subject_type = subject_types.get(body.subject_type)
    problems: list[Problem] = []
    if subject_type is None:
        known = ", ".join(sorted(subject_types))
        problems.append(
            Problem(
                code="template.subject_type.unknown",
                message=f"unknown subject type '{body.subject_type}'; use one of: {known}",
                path="$.subject_type",
            )
        )
    texts = dict(body.texts.items())
    if not texts:
        problems.append(
            Problem(
                code="template.texts.missing",
                message="give the template a text in at least one language (nl, de or en)",
                path="$.texts",
            )
        )
    return problems + text_problems(texts, subject_type)


def flow_problems(
    flow: Flow, library: Mapping[str, Loaded], subject_types: Mapping[str, SubjectType]
) -> list[Problem]:
    """Nodes naming a template (email, a phase's messages on entering): the tenant has it,
    for this subject type, fields and all."""
    subject_type = subject_types.get(flow.subject_type)
    problems: list[Problem] = []
    for node, name, path in _named_templates(flow):
        template = library.get(name)
        if template is None:
            known = ", ".join(sorted(library)) or "none yet"
            problems.append(
                Problem(
                    code="template.unknown",
                    message=f"no template '{name}' in this tenant's library (known: {known}); "
                    "create it under /templates, or write the subject and body in the node",
                    node=node.id,
                    path=path,
                )
            )
            continue
        if template.subject_type != flow.subject_type:
            problems.append(
                Problem(
                    code="template.subject_type",
                    message=f"template '{name}' is for '{template.subject_type}' subjects; "
                    f"this flow runs on '{flow.subject_type}'",
                    node=node.id,
                    path=path,
                )
            )
            continue
        for problem in text_problems(template.texts, subject_type, prefix=f"template '{name}'"):
            problems.append(
                Problem(
                    code=problem.code,
                    message=f"{problem.path}: {problem.message}",
                    node=node.id,
                    path=path,
                )
            )
    return problems


def tenant_flow_problems(
    session: Session, tenant_id: uuid.UUID, flow: Flow, subject_types: Mapping[str, SubjectType]
) -> list[Problem]:
    """:func:`flow_problems` against the tenant's library (read only when a node names one)."""
    if next(_named_templates(flow), None) is None:
        return []
    return flow_problems(flow, load_all(session, tenant_id), subject_types)


# -- Reading and writing ---------------------------------------------------------------------


def _texts_of(rows: Iterable[dbm.MessageTemplateText]) -> dict[str, TemplateText]:
    found = {
        row.language: TemplateText(subject=row.subject, html=row.body_html, text=row.body_text)
        for row in rows
    }
    return {language: found[language] for language in LANGUAGES if language in found}


def _rows(session: Session, template_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Any]]:
    found: dict[uuid.UUID, list[Any]] = {ident: [] for ident in template_ids}
    if template_ids:
        texts = session.scalars(
            sa.select(dbm.MessageTemplateText).where(
                dbm.MessageTemplateText.template_id.in_(template_ids)
            )
        )
        for text in texts:
            found[text.template_id].append(text)
    return found


def load_all(session: Session, tenant_id: uuid.UUID) -> dict[str, Loaded]:
    templates = session.scalars(
        sa.select(dbm.MessageTemplate).where(dbm.MessageTemplate.tenant_id == tenant_id)
    ).all()
    texts = _rows(session, [t.id for t in templates])
    return {t.name: Loaded(t.name, t.subject_type, _texts_of(texts[t.id])) for t in templates}


def _find(session: Session, tenant_id: uuid.UUID, name: str) -> dbm.MessageTemplate:
    row = session.scalar(
        sa.select(dbm.MessageTemplate).where(
            dbm.MessageTemplate.tenant_id == tenant_id, dbm.MessageTemplate.name == name
        )
    )
    if row is None:
        raise NotFound(f"no template '{name}' in this tenant; GET /templates lists them")
    return row


def load(session: Session, tenant_id: uuid.UUID, name: str) -> Loaded:
    row = _find(session, tenant_id, name)
    return Loaded(row.name, row.subject_type, _texts_of(_rows(session, [row.id])[row.id]))


def _out(row: dbm.MessageTemplate, texts: Mapping[str, TemplateText]) -> TemplateOut:
    return TemplateOut(
        name=row.name,
        subject_type=row.subject_type,
        description=row.description,
        languages=list(texts),
        texts=TemplateTexts(**texts),
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


def list_templates(
    rt: Runtime, tenant_id: uuid.UUID, limit: int = 100, offset: int = 0
) -> list[TemplateSummary]:
    with rt.db.read() as session:
        rows = session.scalars(
            sa.select(dbm.MessageTemplate)
            .where(dbm.MessageTemplate.tenant_id == tenant_id)
            .order_by(dbm.MessageTemplate.name)
            .limit(limit)
            .offset(offset)
        ).all()
        languages = {
            ident: [language for language in LANGUAGES if language in {t.language for t in texts}]
            for ident, texts in _rows(session, [r.id for r in rows]).items()
        }
        return [
            TemplateSummary(
                name=r.name,
                subject_type=r.subject_type,
                description=r.description,
                languages=languages[r.id],
                updated_at=r.updated_at,
                updated_by=r.updated_by,
            )
            for r in rows
        ]


def get_template(rt: Runtime, tenant_id: uuid.UUID, name: str) -> TemplateOut:
    with rt.db.read() as session:
        row = _find(session, tenant_id, name)
        return _out(row, _texts_of(_rows(session, [row.id])[row.id]))


def _write(
    session: Session, row: dbm.MessageTemplate, body: TemplateBody, by: str, now: dt.datetime
) -> TemplateOut:
    row.subject_type, row.description = body.subject_type, body.description
    row.updated_at, row.updated_by = now, by
    session.flush()
    session.execute(
        sa.delete(dbm.MessageTemplateText).where(dbm.MessageTemplateText.template_id == row.id)
    )
    for language, text in body.texts.items():
        session.add(
            dbm.MessageTemplateText(
                tenant_id=row.tenant_id,
                template_id=row.id,
                language=language,
                subject=text.subject,
                body_html=text.html,
                body_text=text.text,
            )
        )
    session.flush()
    return _out(row, dict(body.texts.items()))


def _checked(rt: Runtime, session: Session, tenant_id: uuid.UUID, body: TemplateBody) -> None:
    problems = _body_problems(body, rt.subject_types(session, tenant_id))
    if problems:
        raise TemplateProblems(problems)


def create_template(rt: Runtime, tenant_id: uuid.UUID, body: TemplateIn, by: str) -> TemplateOut:
    with rt.transaction() as (session, _out_messages):
        _checked(rt, session, tenant_id, body)
        taken = session.scalar(
            sa.select(dbm.MessageTemplate.id).where(
                dbm.MessageTemplate.tenant_id == tenant_id, dbm.MessageTemplate.name == body.name
            )
        )
        if taken is not None:
            raise Refusal(f"a template '{body.name}' exists already; change it with PUT")
        row = dbm.MessageTemplate(tenant_id=tenant_id, name=body.name)
        session.add(row)
        return _write(session, row, body, by, rt.clock.now())


def replace_template(
    rt: Runtime, tenant_id: uuid.UUID, name: str, body: TemplateBody, by: str
) -> TemplateOut:
    with rt.transaction() as (session, _out_messages):
        row = _find(session, tenant_id, name)
        _checked(rt, session, tenant_id, body)
        _refuse_if_breaking(session, tenant_id, name, body.subject_type)
        return _write(session, row, body, by, rt.clock.now())


STANDARD_FILE = Path(__file__).with_name("standard_templates.json")
STANDARD_BY = "procedo"  # who "updated" a template a tenant was given and never changed


def standard_templates() -> list[TemplateIn]:
    """The library every tenant starts with (the shipped dunning flows send these)."""
    return msgspec.json.decode(STANDARD_FILE.read_bytes(), type=list[TemplateIn])


def add_standard_templates(session: Session, tenant_id: uuid.UUID, now: dt.datetime) -> None:
    """Give a new tenant the standard library, in nl, de and en; theirs to change."""
    for body in standard_templates():
        row = dbm.MessageTemplate(tenant_id=tenant_id, name=body.name)
        session.add(row)
        _write(session, row, body, STANDARD_BY, now)


def import_templates(
    rt: Runtime, tenant_id: uuid.UUID, templates: list[TemplateIn], by: str
) -> tuple[int, int]:
    """Every template of a library file, all or none; returns (created, replaced)."""
    names = [t.name for t in templates]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise TemplateProblems(
            [Problem(code="template.duplicate", message=f"'{n}' is in the file twice", path="$")
             for n in twice]
        )  # fmt: skip
    created = replaced = 0
    with rt.transaction() as (session, _out_messages):
        known = rt.subject_types(session, tenant_id)
        problems = [
            Problem(code=p.code, message=p.message, path=f"$[{index}]{(p.path or '$')[1:]}")
            for index, body in enumerate(templates)
            for p in _body_problems(body, known)
        ]
        if problems:
            raise TemplateProblems(problems)
        for body in templates:
            row = session.scalar(
                sa.select(dbm.MessageTemplate).where(
                    dbm.MessageTemplate.tenant_id == tenant_id,
                    dbm.MessageTemplate.name == body.name,
                )
            )
            if row is None:
                row = dbm.MessageTemplate(tenant_id=tenant_id, name=body.name)
                session.add(row)
                created += 1
            else:
                _refuse_if_breaking(session, tenant_id, body.name, body.subject_type)
                replaced += 1
            _write(session, row, body, by, rt.clock.now())
    return created, replaced


def export_templates(rt: Runtime, tenant_id: uuid.UUID) -> list[TemplateIn]:
    with rt.db.read() as session:
        rows = session.scalars(
            sa.select(dbm.MessageTemplate)
            .where(dbm.MessageTemplate.tenant_id == tenant_id)
            .order_by(dbm.MessageTemplate.name)
        ).all()
        texts = _rows(session, [r.id for r in rows])
        return [
            TemplateIn(
                name=r.name,
                subject_type=r.subject_type,
                description=r.description,
                texts=TemplateTexts(**_texts_of(texts[r.id])),
            )
            for r in rows
        ]


def _users(session: Session, tenant_id: uuid.UUID, name: str) -> list[str]:
    """Keys of the flows whose active version has an email node naming this template."""
    versions = session.execute(
        sa.select(m.Flow.key, m.FlowVersion.document)
        .join(m.Flow, m.Flow.id == m.FlowVersion.flow_id)
        .where(m.FlowVersion.tenant_id == tenant_id, m.FlowVersion.active.is_(True))
    ).all()
    found = []
    for key, document in versions:
        if name not in document:  # cheap first look; most flows name no template
            continue
        flow = decode_flow(document)
        if any(named == name for _node, named, _path in _named_templates(flow)):
            found.append(key)
    return sorted(found)


def _refuse_if_breaking(
    session: Session, tenant_id: uuid.UUID, name: str, subject_type: str | None
) -> None:
    """Published flows send this template: it may not go, nor change its subject type."""
    current = _find(session, tenant_id, name)
    if subject_type is not None and subject_type == current.subject_type:
        return
    users = _users(session, tenant_id, name)
    if users:
        change = "be deleted" if subject_type is None else "change its subject type"
        raise Refusal(
            f"template '{name}' is sent by published flows ({', '.join(users)}): it cannot "
            f"{change} until they use another one"
        )


def delete_template(rt: Runtime, tenant_id: uuid.UUID, name: str) -> None:
    with rt.transaction() as (session, _out_messages):
        row = _find(session, tenant_id, name)
        _refuse_if_breaking(session, tenant_id, name, None)
        session.delete(row)


# -- Rendering -------------------------------------------------------------------------------


def choose_language(
    available: Iterable[str], subject: Mapping[str, Any], fallback: str, asked: str | None = None
) -> str:
    """The language asked, else the subject's ``language``, else ``fallback``, else the first."""
    have = [language for language in LANGUAGES if language in set(available)]
    if not have:
        raise TemplateError("the template has no text in any language")
    wanted = subject.get("language")
    for candidate in (asked, wanted.lower() if isinstance(wanted, str) else None, fallback):
        if candidate in have:
            return candidate
    return have[0]


def render_loaded(
    template: Loaded, language: str, values: Mapping[str, Any], place: str = ""
) -> Rendered:
    text = template.texts[language]
    where = f"{place}template '{template.name}' ({language})"
    html = mail.safe_links(render(text.html, values, html=True, place=f"{where} html"))
    plain = (
        render(text.text, values, html=False, place=f"{where} text")
        if text.text
        else mail.html_to_text(html)
    )
    return Rendered(
        name=template.name,
        language=language,
        subject=render_header(text.subject, values, place=f"{where} subject"),
        html=html,
        text=plain,
    )


def preview(
    rt: Runtime, tenant_id: uuid.UUID, name: str, subject_id: uuid.UUID, language: str | None
) -> Rendered:
    """The template rendered for a real subject of the tenant (nothing is sent or stored)."""
    with rt.db.read() as session:
        template = load(session, tenant_id, name)
        subject = session.scalar(
            sa.select(m.Subject).where(m.Subject.id == subject_id, m.Subject.tenant_id == tenant_id)
        )
        if subject is None:
            raise NotFound(f"no subject {subject_id} in this tenant")
        if subject.type != template.subject_type:
            raise Refusal(
                f"template '{name}' is for '{template.subject_type}' subjects; "
                f"subject {subject_id} is a '{subject.type}'"
            )
        fallback = default_language(session, tenant_id)
        view = message_subject(session, subject, rt.clock.now())
    chosen = choose_language(template.texts, view, fallback, language)
    return render_loaded(template, chosen, message_values(view, {}))


def message_subject(session: Session, subject: m.Subject, now: dt.datetime) -> dict[str, Any]:
    """The subject as a message renders it: its fields and status, and its computed facts
    at ``now`` (``debt_amount`` ...), as a flow's step reads them."""
    view = subject_view(subject)
    subject_type = tenant_subject_types(session, subject.tenant_id).get(subject.type)
    computed = computed_fields(subject_type) if subject_type is not None else []
    if not computed:
        return view
    tenant = session.get(m.Tenant, subject.tenant_id)
    assert tenant is not None
    calendar = Calendar(now, tenant.timezone, working_days_of(tenant))
    facts = load_facts(session.connection(), computed, subject.id, subject.fields, calendar)
    return {**view, **facts, "status": subject.status}


def render_named(
    session: Session,
    tenant_id: uuid.UUID,
    name: str,
    run: tuple[uuid.UUID, Mapping[str, Any]] | None,
    now: dt.datetime,
    form: Form = "portal",
) -> Rendered:
    """Template ``name`` of the library for a run's subject as it is at ``now`` and its
    variables (``run``: subject id and variables; None for a message of no run), in the
    subject's language. ``form``: how ``subject.portal_url`` is to become a link (``p``:
    short, for paper). Raises TemplateError saying what to do when it is gone or fails."""
    subject = session.get(m.Subject, run[0]) if run is not None else None
    view = message_subject(session, subject, now) if subject is not None else {}
    variables = dict(run[1]) if run is not None else {}
    try:
        template = load(session, tenant_id, name)
    except NotFound as exc:
        raise TemplateError(f"{exc}: create it again, then retry the message") from exc
    language = choose_language(template.texts, view, default_language(session, tenant_id))
    return render_loaded(template, language, message_values(view, variables, form))


def render_for_outbox(session: Session, row: m.Outbox, now: dt.datetime) -> Rendered:
    """The email of an outbox row that names a template, for its subject as it is now.

    ``subject.portal_url`` renders as a placeholder; the outbox makes it a link as the
    message leaves (portal/placeholders.py). Raises TemplateError (unknown template, a
    text that cannot be rendered): the message then fails with that reason in the
    history, and nothing is sent.
    """
    return render_named(session, row.tenant_id, row.template, run_of(session, row), now)


def run_of(session: Session, row: m.Outbox) -> tuple[uuid.UUID, Mapping[str, Any]] | None:
    """The subject and variables of the run that wrote an outbox row; None for no run."""
    instance = session.get(m.Instance, row.instance_id) if row.instance_id else None
    return (instance.subject_id, instance.variables) if instance is not None else None


def _named_templates(flow: Flow) -> Iterator[tuple[Any, str, str]]:
    """(node, template name, JSON path) of every template of the library a flow names."""
    for node in flow.nodes:
        if node.type == "email":
            named = [(node.params.get("template"), "$.template")]
        elif node.type == "letter":
            named = [(node.params.get("text_template"), "$.text_template")]
        elif node.type == "procedure_action" and node.params.get("action") in ("email", "letter"):
            named = [(node.params.get("template"), "$.template")]
        elif node.type == "phase":
            actions = node.params.get("on_enter") or []
            named = [
                (action.get("template"), f"$.on_enter[{index}].template")
                for index, action in enumerate(actions)
                if isinstance(action, dict) and action.get("kind") == "message"
            ]
        else:
            continue
        for name, path in named:
            if isinstance(name, str) and name:
                yield node, name, path
