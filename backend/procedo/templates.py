"""Message templates: sandboxed Jinja2 over subject fields and instance variables.

Templates are tenant data, so they render in Jinja2's SandboxedEnvironment with
StrictUndefined: a misspelt field is an error, not an empty string. Bodies are
HTML-escaped; subject lines are plain text and may not contain line breaks
(header injection).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import cache, lru_cache
from typing import Any

import jinja2
from jinja2 import meta, nodes
from jinja2.sandbox import SandboxedEnvironment

from procedo.nodetypes import ParamProblem
from procedo.subjects import SubjectType

NAMES = frozenset({"subject", "vars"})
MAX_TEMPLATE_CHARS = 100_000


class TemplateError(ValueError):
    pass


@cache
def _environment(autoescape: bool) -> SandboxedEnvironment:
    return SandboxedEnvironment(
        autoescape=autoescape, undefined=jinja2.StrictUndefined, keep_trailing_newline=True
    )


@lru_cache(maxsize=4096)
def _compiled(template: str, html: bool) -> jinja2.Template:
    return _environment(html).from_string(template)


def render(template: str, values: Mapping[str, Any], *, html: bool) -> str:
    try:
        return _compiled(template, html).render(values)
    except jinja2.TemplateError as exc:
        raise TemplateError(f"template cannot be rendered: {exc}") from exc


def render_header(template: str, values: Mapping[str, Any]) -> str:
    text = render(template, values, html=False)
    if "\r" in text or "\n" in text:
        raise TemplateError("a subject line may not contain line breaks (header injection)")
    return text.strip()


# Most templates only drop fields into text ("Invoice {{ subject.invoice_number }}").
# Those are checked with a regular expression; anything richer goes through Jinja's parser.
_SIMPLE_PLACEHOLDER = re.compile(r"\{\{\s*(subject|vars)((?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}")
_JINJA_MARKUP = re.compile(r"\{[{%#]|[}%#]\}")


def _simple_paths(template: str) -> list[tuple[str, list[str], int]] | None:
    """Paths of a template made only of plain placeholders, else None."""
    if _JINJA_MARKUP.search(_SIMPLE_PLACEHOLDER.sub("", template)):
        return None
    return [
        (m.group(1), m.group(2).split(".")[1:], template.count("\n", 0, m.start()) + 1)
        for m in _SIMPLE_PLACEHOLDER.finditer(template)
    ]


def _attribute_paths(tree: nodes.Template) -> Iterator[tuple[str, list[str], int]]:
    """(root name, attribute chain, line) for every ``root.a.b`` in a template."""
    for getattr_node in tree.find_all(nodes.Getattr):
        chain: list[str] = []
        node: nodes.Node = getattr_node
        while isinstance(node, nodes.Getattr):
            chain.append(node.attr)
            node = node.node
        if isinstance(node, nodes.Name):
            yield node.name, list(reversed(chain)), getattr_node.lineno


def check_template(
    template: str, subject_type: SubjectType | None, path: str
) -> list[ParamProblem]:
    """Syntax, unknown names and unknown subject fields, each with its line."""
    if len(template) > MAX_TEMPLATE_CHARS:
        return [
            ParamProblem(code="template.too_long", message="the template is too long", path=path)
        ]
    paths = _simple_paths(template)
    problems: list[ParamProblem] = []
    if paths is None:
        try:
            tree = _environment(False).parse(template)
        except jinja2.TemplateSyntaxError as exc:
            return [
                ParamProblem(
                    code="template.syntax",
                    message=f"line {exc.lineno}: {str(exc.message).rstrip('.')}; "
                    "check the {{ }} and {% %} pairs",
                    path=path,
                )
            ]
        paths = list(_attribute_paths(tree))
        for name in sorted(meta.find_undeclared_variables(tree) - NAMES):
            problems.append(
                ParamProblem(
                    code="template.name.unknown",
                    message=f"unknown name '{name}'; "
                    "templates can use subject.<field> and vars.<name>",
                    path=path,
                )
            )
    if subject_type is None:
        return problems
    known = subject_type.field_names()
    seen: set[str] = set()
    for root, chain, line in paths:
        if root != "subject" or not chain:
            continue
        prefixes = {".".join(chain[:i]) for i in range(1, len(chain) + 1)}
        dotted = ".".join(chain)
        # The longest chain covers its prefixes (subject.supplier.kvk visits subject.supplier too).
        if prefixes & known or any(k.startswith(dotted + ".") for k in known) or dotted in seen:
            continue
        seen.add(dotted)
        problems.append(
            ParamProblem(
                code="template.field.unknown",
                message=f"line {line}: '{subject_type.name}' has no field '{dotted}'",
                path=path,
            )
        )
    return problems
