"""Message templates: a small, sandboxed Jinja2 language over subject fields and variables.

Templates are tenant data, so they may use only what docs/node-types.md
("Templates") lists: the names ``subject`` and ``vars`` (and the variables a
``{% for %}`` declares), ``{{ }}``, ``{% if %}``/``{% elif %}``/``{% else %}``,
``{% for %}``, comparisons, ``and``/``or``/``not``, ``~``, arithmetic on numbers,
literals, and the filters in FILTERS. No function or method calls, no
``{% set %}``, macros, includes or ``{% autoescape %}``: the check refuses them
when a flow is saved, and rendering refuses them again (a flow stored before
these rules still cannot run them).

Rendering uses Jinja2's ImmutableSandboxedEnvironment with no globals (no
``range``, ``lipsum``, ``dict``, ``cycler``, ``namespace``), so data cannot be
changed during a render, and bounds every render: MAX_VALUE_CHARS per value an
operator or filter builds, MAX_OUTPUT_CHARS of output (MAX_HEADER_CHARS for a
subject line), MAX_LOOP_ITEMS loop iterations and RENDER_SECONDS of time.

A missing field is an error when printed, not an empty string. A field a
subject type declares ``optional`` may be missing, so a template that names it
must say what to print then (``| default('...')``, ``{% if subject.x %}`` or
``is defined``); the check finds the ones that do not. Bodies are HTML-escaped;
subject lines are plain text and may not contain line breaks (header injection).
"""

from __future__ import annotations

import operator
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any, NamedTuple

import jinja2
from jinja2 import nodes
from jinja2.exceptions import SecurityError
from jinja2.filters import FILTERS as DEFAULT_FILTERS
from jinja2.runtime import markup_join, str_join
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.tests import TESTS as DEFAULT_TESTS
from jinja2.utils import pass_eval_context
from jinja2.visitor import NodeTransformer

from procedo import formats
from procedo.nodetypes import ParamProblem
from procedo.subjects import SubjectType

NAMES = frozenset({"subject", "vars"})
# The variables a run can have: a period's (a monthly or quarterly run, or a start for a
# period; runtime/periods.py), a test run's (runtime/test_runs.py) and the data of the
# event that started it (``event``, runtime/work.py).
KNOWN_VARIABLES = frozenset(
    {"period", "period_start", "period_end", "test_run", "test_recipient", "event"}
)
# How a variable's path is kept among the guarded subject paths (no field is named so).
_VARS = "$vars:"
MAX_TEMPLATE_CHARS = 100_000
MAX_OUTPUT_CHARS = 100_000
MAX_HEADER_CHARS = 998  # the longest line RFC 5322 allows
MAX_VALUE_CHARS = 100_000
MAX_INT_BITS = 256  # far past any amount; stops 10 ** 10 ** 10
MAX_LOOP_ITEMS = 10_000
RENDER_SECONDS = 0.5

# What templates may use; docs/node-types.md lists the same.
FILTERS = frozenset(
    {
        "abs", "capitalize", "count", "d", "date", "default", "dictsort", "e", "escape",
        "first", "float", "int", "items", "join", "last", "length", "lower", "max", "min",
        "money", "oneline", "replace", "reverse", "round", "sort", "string", "sum", "title",
        "trim", "truncate", "unique", "upper", "wordcount",
    }
)  # fmt: skip
TESTS = frozenset(
    {
        "boolean", "defined", "divisibleby", "eq", "even", "false", "float", "ge", "gt", "in",
        "integer", "iterable", "le", "lower", "lt", "mapping", "ne", "none", "number", "odd",
        "sequence", "string", "true", "undefined", "upper",
    }
)  # fmt: skip
_ALLOWED_NODES: tuple[type[nodes.Node], ...] = (
    nodes.Template, nodes.Output, nodes.TemplateData, nodes.Const, nodes.Name,
    nodes.Getattr, nodes.Getitem, nodes.Slice, nodes.Filter, nodes.Test, nodes.If,
    nodes.CondExpr, nodes.And, nodes.Or, nodes.Not, nodes.Neg, nodes.Pos, nodes.Compare,
    nodes.Operand, nodes.Concat, nodes.Add, nodes.Sub, nodes.Mul, nodes.Div, nodes.FloorDiv,
    nodes.Mod, nodes.Pow, nodes.For, nodes.Keyword, nodes.List, nodes.Tuple, nodes.Dict,
    nodes.Pair,
)  # fmt: skip
_CONSTRUCTS = {
    nodes.Call: "function or method calls",
    nodes.Assign: "{% set %}",
    nodes.AssignBlock: "{% set %}",
    nodes.Macro: "{% macro %}",
    nodes.CallBlock: "{% call %}",
    nodes.FilterBlock: "{% filter %}",
    nodes.With: "{% with %}",
    nodes.Block: "{% block %}",
    nodes.Extends: "{% extends %}",
    nodes.Include: "{% include %}",
    nodes.Import: "{% import %}",
    nodes.FromImport: "{% from %}",
    nodes.ScopedEvalContextModifier: "{% autoescape %}",
    nodes.EvalContextModifier: "{% autoescape %}",
}
_HEADER_BREAK = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")  # as procedo.mail refuses
_ITER_FILTER = "_procedo_iter"
_CONCAT_FILTER = "_procedo_concat"


class TemplateError(ValueError):
    pass


# -- Bounds while rendering ----------------------------------------------------------------


@dataclass
class _Budget:
    deadline: float
    loop_items: int = 0

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise TemplateError(
                f"rendering took over {RENDER_SECONDS:g} s; print less, or loop over fewer items"
            )


_BUDGET: ContextVar[_Budget | None] = ContextVar("procedo_template_budget", default=None)


def _tick() -> None:
    budget = _BUDGET.get()
    if budget is not None:
        budget.tick()


def _size(value: object) -> int:
    return len(value) if isinstance(value, str | list | tuple) else 0


def _too_long(what: str, chars: int) -> TemplateError:
    return TemplateError(
        f"{what} would make a value of {chars:,} characters; at most {MAX_VALUE_CHARS:,} "
        "are allowed"
    )


def _check_int(value: object) -> None:
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise TemplateError("a number in the template grew too large")


def _binop(op: str, left: Any, right: Any) -> Any:
    """Operators with their results bounded before they are computed."""
    _tick()
    sequences = (str, list, tuple)
    if op in ("*", "%", "**") and (isinstance(left, sequences) or isinstance(right, sequences)):
        raise TemplateError(
            f"'{op}' works on numbers only in templates, not on texts or lists; join texts with ~"
        )
    if op == "+" and _size(left) + _size(right) > MAX_VALUE_CHARS:
        raise _too_long("'+'", _size(left) + _size(right))
    both_int = isinstance(left, int) and isinstance(right, int)
    if op == "**" and both_int and abs(left) > 1 and right * left.bit_length() > MAX_INT_BITS:
        raise TemplateError(f"{left} ** {right} is too large for a template")
    if op == "*" and both_int and left.bit_length() + right.bit_length() > MAX_INT_BITS:
        raise TemplateError("a number in the template grew too large")
    result = _BINOPS[op](left, right)
    _check_int(result)
    return result


_BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "//": operator.floordiv,
    "%": operator.mod,
    "**": operator.pow,
}


def _bounded_iter(value: Iterable[Any]) -> Iterator[Any]:
    """Every ``{% for %}`` iterates through this: a count and the deadline per item."""
    budget = _BUDGET.get()
    for item in value:
        if budget is not None:
            budget.loop_items += 1
            if budget.loop_items > MAX_LOOP_ITEMS:
                raise TemplateError(
                    f"the template's loops ran over {MAX_LOOP_ITEMS:,} times; loop over fewer items"
                )
            budget.tick()
        yield item


@pass_eval_context
def _bounded_concat(eval_ctx: nodes.EvalContext, values: list[Any]) -> Any:
    """``a ~ b``, refused before it builds an over-long text."""
    _tick()
    texts = [v if isinstance(v, str) else str(v) for v in values]
    total = sum(len(t) for t in texts)
    if total > MAX_VALUE_CHARS:
        raise _too_long("'~'", total)
    join = markup_join if eval_ctx.autoescape else str_join
    return join(values)  # Markup when escaping, so ~ never escapes twice


@pass_eval_context
def _bounded_join(
    eval_ctx: nodes.EvalContext, value: Iterable[Any], d: str = "", attribute: Any = None
) -> str:
    items = list(value)
    total = sum(len(str(v)) for v in items) + len(str(d)) * max(0, len(items) - 1)
    if total > MAX_VALUE_CHARS:
        raise _too_long("'join'", total)
    return str(DEFAULT_FILTERS["join"](eval_ctx, items, d, attribute))


@pass_eval_context
def _bounded_replace(
    eval_ctx: nodes.EvalContext, value: str, old: str, new: str, count: int | None = None
) -> str:
    text, old, new = str(value), str(old), str(new)
    times = text.count(old) if count is None else min(count, text.count(old))
    total = len(text) + times * (len(new) - len(old))
    if total > MAX_VALUE_CHARS:
        raise _too_long("'replace'", total)
    return str(DEFAULT_FILTERS["replace"](eval_ctx, value, old, new, count))


def _money(value: Any, language: str = "en") -> str:
    """``{{ subject.debt_amount | money('de') }}``: 1.234,50 €; a value not a number as is."""
    amount = formats.as_amount(value)
    return str(value) if amount is None else formats.money(amount, str(language))


def _date(value: Any, language: str = "en") -> str:
    """``{{ subject.promised_payment_date | date('de') }}``: 3. Dezember 2026; else as is."""
    day = formats.as_day(value)
    return str(value) if day is None else formats.long_date(day, str(language))


def _one_line(value: Any) -> str:
    """Line breaks and runs of spaces as one space: multi-line text for a subject line."""
    return " ".join(str(value).split())


class _Undefined(jinja2.ChainableUndefined, jinja2.StrictUndefined):
    """Printing a missing field fails; ``| default``, ``is defined`` and ``{% if %}`` ask."""

    __slots__ = ()

    def __bool__(self) -> bool:  # type: ignore[override]
        return False


class _Sandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset(_BINOPS)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        return _binop(operator, left, right)

    def getattr(self, obj: Any, attribute: str) -> Any:
        _tick()
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _tick()
        return super().getitem(obj, argument)

    def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        # Never reached through a checked template; kept shut all the same.
        raise SecurityError("templates cannot call functions or methods")


@cache
def _environment(autoescape: bool) -> _Sandbox:
    env = _Sandbox(autoescape=autoescape, undefined=_Undefined, keep_trailing_newline=True)
    env.globals.clear()
    env.filters = {name: DEFAULT_FILTERS[name] for name in FILTERS - {"date", "money", "oneline"}}
    env.filters |= {
        "date": _date,
        "money": _money,
        "join": _bounded_join,
        "replace": _bounded_replace,
        "oneline": _one_line,
        _ITER_FILTER: _bounded_iter,
        _CONCAT_FILTER: _bounded_concat,
    }
    env.tests = {name: DEFAULT_TESTS[name] for name in TESTS}
    return env


class _Bounded(NodeTransformer):
    """Routes loops and ``~`` through the bounded filters above before compiling."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = nodes.Filter(node.iter, _ITER_FILTER, [], [], None, None, lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        items = nodes.List(node.nodes, lineno=node.lineno)
        return nodes.Filter(items, _CONCAT_FILTER, [], [], None, None, lineno=node.lineno)


def _parse(template: str) -> nodes.Template:
    """The syntax tree. Only parsed: compiling would fold constants (run '*', filters)."""
    try:
        return _environment(False).parse(template)
    except RecursionError:
        raise jinja2.TemplateSyntaxError("the template nests too deeply", 1) from None
    except ValueError as exc:  # e.g. a number literal of more than 4,300 digits
        raise jinja2.TemplateSyntaxError(str(exc), 1) from None


@lru_cache(maxsize=4096)
def _compiled(template: str, html: bool) -> jinja2.Template:
    if len(template) > MAX_TEMPLATE_CHARS:
        raise TemplateError(f"the template is over {MAX_TEMPLATE_CHARS:,} characters")
    tree = _parse(template)
    refused = _forbidden(tree)
    if refused:
        raise TemplateError(refused[0].message)
    return _environment(html).from_string(_Bounded().visit(tree))


def render(
    template: str,
    values: Mapping[str, Any],
    *,
    html: bool,
    limit: int = MAX_OUTPUT_CHARS,
    place: str = "",
) -> str:
    """The rendered text; TemplateError (prefixed with ``place``) when it cannot be made."""
    prefix = f"{place}: " if place else ""
    try:
        compiled = _compiled(template, html)
    except (TemplateError, jinja2.TemplateError) as exc:
        raise TemplateError(f"{prefix}template cannot be rendered: {exc}") from exc
    # The clock starts after compiling: compiled templates are cached, so a render
    # that counted it would pass or fail depending on what ran before.
    budget = _Budget(deadline=time.monotonic() + RENDER_SECONDS)
    token = _BUDGET.set(budget)
    try:
        parts: list[str] = []
        size = 0
        for chunk in compiled.generate(values):
            size += len(chunk)
            if size > limit:
                raise TemplateError(
                    f"the text is over {limit:,} characters; print less of the subject's data"
                )
            parts.append(chunk)
            budget.tick()
        return "".join(parts)
    except TemplateError as exc:
        raise TemplateError(f"{prefix}template cannot be rendered: {exc}") from exc
    except (jinja2.TemplateError, ArithmeticError, TypeError, ValueError) as exc:
        raise TemplateError(f"{prefix}template cannot be rendered: {exc}") from exc
    finally:
        _BUDGET.reset(token)


def render_header(template: str, values: Mapping[str, Any], *, place: str = "") -> str:
    text = render(template, values, html=False, limit=MAX_HEADER_CHARS, place=place)
    if _HEADER_BREAK.search(text):
        prefix = f"{place}: " if place else ""
        raise TemplateError(
            f"{prefix}a subject line may not contain line breaks (header injection)"
        )
    return text.strip()


# -- Checks when a flow is saved -------------------------------------------------------------

# Most templates only drop fields into text ("Invoice {{ subject.invoice_number }}").
# Those are checked with a regular expression; anything richer goes through Jinja's parser.
_SIMPLE_PLACEHOLDER = re.compile(r"\{\{\s*(subject|vars)((?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}")
_JINJA_MARKUP = re.compile(r"\{[{%#]|[}%#]\}")


class _Use(NamedTuple):
    """One ``root.a.b`` in a template; ``exposed``: the paths it reads unasked."""

    root: str
    chain: list[str]
    line: int
    exposed: tuple[str, ...]
    one_line: bool = False  # under the oneline filter


class _Finding(NamedTuple):
    code: str
    message: str


def _prefixes(chain: list[str]) -> list[str]:
    return [".".join(chain[:i]) for i in range(1, len(chain) + 1)]


def _simple_uses(template: str) -> list[_Use] | None:
    """The uses of a template made only of plain placeholders, else None."""
    if _JINJA_MARKUP.search(_SIMPLE_PLACEHOLDER.sub("", template)):
        return None
    uses = []
    for m in _SIMPLE_PLACEHOLDER.finditer(template):
        chain = m.group(2).split(".")[1:]
        line = template.count("\n", 0, m.start()) + 1
        uses.append(_Use(m.group(1), chain, line, tuple(_prefixes(chain))))
    return uses


def _chain(node: nodes.Node) -> tuple[str, list[str]] | None:
    """``subject.a['b'].c`` as ("subject", ["a", "b", "c"]); None if not such a chain."""
    chain: list[str] = []
    while True:
        if isinstance(node, nodes.Getattr):
            chain.append(node.attr)
            node = node.node
        elif (
            isinstance(node, nodes.Getitem)
            and isinstance(node.arg, nodes.Const)
            and isinstance(node.arg.value, str)
        ):
            chain.append(node.arg.value)
            node = node.node
        elif isinstance(node, nodes.Name) and node.ctx == "load":
            return node.name, list(reversed(chain))
        else:
            return None


def _scoped(root: str, chain: list[str]) -> list[str]:
    """A subject path as it is; a variable's with its first name marked as a variable."""
    return chain if root == "subject" or not chain else [_VARS + chain[0], *chain[1:]]


def _guarded(node: nodes.Node) -> set[str]:
    chain = _chain(node)
    if chain is None or chain[0] not in NAMES or not chain[1]:
        return set()
    return {".".join(_scoped(chain[0], chain[1]))}


def _with_prefixes(paths: set[str]) -> frozenset[str]:
    return frozenset(p for path in paths for p in _prefixes(path.split(".")))


@dataclass
class _Walker:
    """Finds every field use, and which optional fields a use reads without asking first.

    ``present`` holds the subject paths an enclosing ``{% if %}`` (or ``and``, ``or``,
    an inline ``if``) has shown to exist; a ``default`` filter or an ``is defined``
    test guards the path it is applied to.
    """

    uses: list[_Use] = field(default_factory=list)
    findings: list[_Finding] = field(default_factory=list)
    one_line: int = 0  # how many oneline filters the visit is inside

    def visit(self, node: nodes.Node, present: frozenset[str]) -> None:
        if isinstance(node, nodes.Getattr | nodes.Getitem):
            self._use(node, present, asked=False)
        elif isinstance(node, nodes.Filter) and node.name in ("default", "d"):
            if node.node is not None:
                self._asked(node.node, present)
            self._visit_all(node.args + [k.value for k in node.kwargs], present)
        elif isinstance(node, nodes.Filter) and node.name == "oneline" and node.node is not None:
            self.one_line += 1
            self.visit(node.node, present)
            self.one_line -= 1
        elif isinstance(node, nodes.Test) and node.name in ("defined", "undefined"):
            self._asked(node.node, present)
        elif isinstance(node, nodes.If):
            self._if(node, present)
        elif isinstance(node, nodes.CondExpr):
            when_true, when_false = self._condition(node.test, present)
            self.visit(node.expr1, present | when_true)
            if node.expr2 is not None:
                self.visit(node.expr2, present | when_false)
        elif isinstance(node, nodes.Or | nodes.Not):
            # `a or b` prints a only when a is there (and true); `not a` only asks.
            self._condition(node, present)
        elif isinstance(node, nodes.For):
            if isinstance(node.target, nodes.Name | nodes.Tuple):
                targets = [n.name for n in node.target.find_all(nodes.Name)]
                if isinstance(node.target, nodes.Name):
                    targets.append(node.target.name)
                for name in sorted(set(targets) & NAMES):
                    self.findings.append(
                        _Finding(
                            "template.forbidden",
                            f"line {node.lineno}: a loop variable may not be called '{name}'; "
                            "choose another name",
                        )
                    )
            self.visit(node.iter, present)
            inner = present
            if node.test is not None:
                when_true, _ = self._condition(node.test, present)
                inner = present | when_true
            self._visit_all(node.body, inner)
            self._visit_all(node.else_, present)
        else:
            self._visit_all(list(node.iter_child_nodes()), present)

    def _visit_all(self, children: Sequence[nodes.Node], present: frozenset[str]) -> None:
        for child in children:
            self.visit(child, present)

    def _asked(self, node: nodes.Node, present: frozenset[str]) -> None:
        if isinstance(node, nodes.Getattr | nodes.Getitem) and _chain(node) is not None:
            self._use(node, present, asked=True)
        else:
            self.visit(node, present)

    def _use(
        self, node: nodes.Getattr | nodes.Getitem, present: frozenset[str], asked: bool
    ) -> None:
        found = _chain(node)
        if found is None:
            # A dynamic subscript (subject[vars.x]) cannot be checked against the fields.
            if isinstance(node, nodes.Getitem):
                base = node.node
                while isinstance(base, nodes.Getattr | nodes.Getitem):
                    base = base.node
                if isinstance(base, nodes.Name) and base.name == "subject":
                    self.findings.append(
                        _Finding(
                            "template.forbidden",
                            f"line {node.lineno}: name subject fields as subject.<field>, "
                            "not with a computed [key]",
                        )
                    )
            self._visit_all(list(node.iter_child_nodes()), present)
            return
        root, chain = found
        scoped = _scoped(root, chain)
        dotted = ".".join(scoped)
        exposed = (
            ()
            if asked or dotted in present
            else tuple(p for p in _prefixes(scoped) if p not in present)
        )
        exposed = exposed if root in NAMES else ()
        self.uses.append(_Use(root, chain, node.lineno, exposed, self.one_line > 0))

    def _condition(
        self, test: nodes.Node, present: frozenset[str]
    ) -> tuple[frozenset[str], frozenset[str]]:
        """Visit a test; return the paths that exist when it is true, and when it is false."""
        if isinstance(test, nodes.Not):
            when_true, when_false = self._condition(test.node, present)
            return when_false, when_true
        if isinstance(test, nodes.And):
            left_true, left_false = self._condition(test.left, present)
            right_true, right_false = self._condition(test.right, present | left_true)
            return left_true | right_true, left_false & right_false
        if isinstance(test, nodes.Or):
            left_true, left_false = self._condition(test.left, present)
            right_true, right_false = self._condition(test.right, present | left_false)
            return left_true & right_true, left_false | right_false
        if isinstance(test, nodes.Getattr | nodes.Getitem) and _chain(test) is not None:
            self._use(test, present, asked=True)  # a missing field is false
            return _with_prefixes(_guarded(test)), frozenset()
        if isinstance(test, nodes.Test) and test.name in ("defined", "undefined"):
            self._asked(test.node, present)
            paths = _with_prefixes(_guarded(test.node))
            return (paths, frozenset()) if test.name == "defined" else (frozenset(), paths)
        self.visit(test, present)
        return frozenset(), frozenset()

    def _if(self, node: nodes.If, present: frozenset[str]) -> None:
        otherwise = present
        for branch in [node, *node.elif_]:
            when_true, when_false = self._condition(branch.test, otherwise)
            self._visit_all(branch.body, otherwise | when_true)
            otherwise = otherwise | when_false
        self._visit_all(node.else_, otherwise)


def _forbidden(tree: nodes.Template) -> list[_Finding]:
    """Constructs, names, filters and tests outside the template language."""
    findings: list[_Finding] = []
    seen: set[str] = set()

    def add(code: str, key: str, message: str) -> None:
        if key not in seen:
            seen.add(key)
            findings.append(_Finding(code, message))

    for node in tree.find_all(nodes.Node):
        line = getattr(node, "lineno", 1)
        if isinstance(node, nodes.Scope):
            continue  # {% autoescape %}'s wrapper; its modifier inside is named, with a line
        if not isinstance(node, _ALLOWED_NODES):
            what = _CONSTRUCTS.get(type(node), f"'{type(node).__name__}'")
            add(
                "template.forbidden",
                what,
                f"line {line}: templates cannot use {what}; they print subject.<field> and "
                "vars.<name> with filters, {% if %} and {% for %}",
            )
        elif isinstance(node, nodes.Filter | nodes.Test):
            kind = "filter" if isinstance(node, nodes.Filter) else "test"
            allowed = FILTERS if kind == "filter" else TESTS
            if node.name not in allowed:
                add(
                    f"template.{kind}.unknown",
                    f"{kind}:{node.name}",
                    f"line {line}: the {kind} '{node.name}' is not available in templates; "
                    f"use one of {', '.join(sorted(allowed))}",
                )
            if node.dyn_args is not None or node.dyn_kwargs is not None:
                add(
                    "template.forbidden",
                    "dyn",
                    f"line {line}: write a {kind}'s arguments out, not with * or **",
                )
    for name, line in _unknown_names(tree, NAMES):
        add(
            "template.name.unknown",
            f"name:{name}",
            f"line {line}: unknown name '{name}'; templates can use subject.<field> and "
            "vars.<name>",
        )
    return findings


def _unknown_names(node: nodes.Node, known: frozenset[str]) -> Iterator[tuple[str, int]]:
    """Names read where nothing declares them; a {% for %} declares its targets inside.

    Jinja's own analysis (meta.find_undeclared_variables) compiles the template,
    and compiling folds constants: it would run ``'a' * 10**9`` to find names.
    """
    if isinstance(node, nodes.Name):
        if node.ctx == "load" and node.name not in known:
            yield node.name, node.lineno
        return
    if isinstance(node, nodes.For):
        inner = known | {
            n.name
            for n in [node.target, *node.target.find_all(nodes.Name)]
            if isinstance(n, nodes.Name)
        }
        yield from _unknown_names(node.iter, known)
        if node.test is not None:
            yield from _unknown_names(node.test, inner)
        for child in node.body:
            yield from _unknown_names(child, inner | {"loop"})
        for child in node.else_:
            yield from _unknown_names(child, known)
        return
    for child in node.iter_child_nodes():
        yield from _unknown_names(child, known)


def _line_breaks(tree: nodes.Template | None, template: str) -> int | None:
    """The line of the first line break a subject line would print, if any."""
    if tree is None:
        text = _SIMPLE_PLACEHOLDER.sub("", template)
        return 1 if _HEADER_BREAK.search(text) else None
    for node in tree.find_all((nodes.TemplateData, nodes.Const)):
        data = getattr(node, "data" if isinstance(node, nodes.TemplateData) else "value", None)
        if isinstance(data, str) and _HEADER_BREAK.search(data):
            return int(node.lineno)
    return None


def check_template(
    template: str, subject_type: SubjectType | None, path: str, *, header: bool = False
) -> list[ParamProblem]:
    """Syntax, what the template uses, its subject fields, each with its line.

    ``header``: the template makes a one-line text (an email subject, a task title).
    """
    if len(template) > MAX_TEMPLATE_CHARS:
        return [
            ParamProblem(code="template.too_long", message="the template is too long", path=path)
        ]
    uses = _simple_uses(template)
    tree: nodes.Template | None = None
    findings: list[_Finding] = []
    if uses is None:
        try:
            tree = _parse(template)
        except jinja2.TemplateSyntaxError as exc:
            return [
                ParamProblem(
                    code="template.syntax",
                    message=f"line {exc.lineno}: {str(exc.message).rstrip('.')}; "
                    "check the {{ }} and {% %} pairs",
                    path=path,
                )
            ]
        findings = _forbidden(tree)
        walker = _Walker()
        walker.visit(tree, frozenset())
        findings += walker.findings
        uses = walker.uses
    if header:
        line = _line_breaks(tree, template)
        if line is not None:
            findings.append(
                _Finding(
                    "template.header.line_break",
                    f"line {line}: a subject line or title cannot contain a line break; "
                    "write it on one line",
                )
            )
    problems = [ParamProblem(code=f.code, message=f.message, path=path) for f in findings]
    if subject_type is not None:
        problems += _field_problems(uses, subject_type, path, header)
    return problems


def unknown_variables(template: str) -> list[tuple[str, int]]:
    """Variables no run has that ``template`` prints unguarded, with their lines.

    Printing a missing variable fails the render, so a flow whose template does this
    fails every run there; ``| default(...)``, ``{% if vars.x %}`` and ``is defined``
    guard it. A template that does not parse has no uses to report (check_template
    says why).
    """
    uses = _simple_uses(template)
    if uses is None:
        try:
            walker = _Walker()
            walker.visit(_parse(template), frozenset())
        except jinja2.TemplateSyntaxError:
            return []
        uses = walker.uses
    found: dict[str, int] = {}
    for root, chain, line, exposed, _one_line in uses:
        if root == "vars" and chain and chain[0] not in KNOWN_VARIABLES and exposed:
            found.setdefault(chain[0], line)
    return list(found.items())


def _field_problems(
    uses: list[_Use], subject_type: SubjectType, path: str, header: bool
) -> list[ParamProblem]:
    known = subject_type.field_names()
    problems: list[ParamProblem] = []
    seen: set[tuple[str, str]] = set()

    def report(code: str, key: str, message: str) -> None:
        if (code, key) not in seen:
            seen.add((code, key))
            problems.append(ParamProblem(code=code, message=message, path=path))

    for root, chain, line, exposed, one_line in uses:
        if root != "subject" or not chain:
            continue
        prefixes = _prefixes(chain)
        dotted = ".".join(chain)
        # The longest chain covers its prefixes (subject.supplier.kvk visits subject.supplier too).
        if not (set(prefixes) & known or any(k.startswith(dotted + ".") for k in known)):
            report(
                "template.field.unknown",
                dotted,
                f"line {line}: '{subject_type.name}' has no field '{dotted}'",
            )
            continue
        for prefix in exposed:
            declared = subject_type.field(prefix)
            if declared is not None and declared.optional:
                report(
                    "template.field.optional",
                    prefix,
                    f"line {line}: a '{subject_type.name}' may not have '{prefix}' yet; say what "
                    f"to print without it: {{{{ subject.{prefix} | default('...') }}}}, or "
                    f"{{% if subject.{prefix} %}}...{{% endif %}}",
                )
        declared = subject_type.field(dotted)
        if header and not one_line and declared is not None and declared.type == "text":
            report(
                "template.header.line_break",
                dotted,
                f"line {line}: '{dotted}' is multi-line text and cannot go in a subject line "
                f"or title as it is; write {{{{ subject.{dotted} | oneline }}}}",
            )
    return problems
