"""The rule text form: a small subset of CEL (Common Expression Language).

Consultants write conditions such as::

    subject.payable_amount > 500 && subject.currency in ["EUR", "USD"]

``parse_rule`` turns such text into the rule tree of :mod:`procedo.rules.model`
and ``format_rule`` writes a tree back as canonical text. The text is parsed by
celpy's CEL grammar (lark, LALR); this module only walks the resulting lark
tree, without recursion, and refuses everything that is not a comparison of a
field with a literal joined by ``&&``, ``||`` and ``!``. Nothing is ever
evaluated: the text is data.

The mapping between tree and canonical text:

====================================  ============================================
tree                                  text
====================================  ============================================
``All([a, b])`` / ``AnyOf([a, b])``   ``a && b`` / ``a || b``
``All([])`` / ``AnyOf([])``           ``true`` / ``false``
``Not(x)``                            ``!x`` if x is a method-style comparison
                                      (``contains``, ``between``, ``isEmpty``,
                                      ``isSet``), an empty group or a ``Not``;
                                      otherwise ``!(x)``
``Compare(f, "=", v)``                ``f == v`` (also ``!= < > <= >=``)
``Compare(f, "in", [..])``            ``f in [v1, v2]``
``Compare(f, "contains", v)``         ``f.contains(v)``
``Compare(f, "between", [lo, hi])``   ``f.between(lo, hi)``
``Compare(f, "is_empty")``            ``f.isEmpty()`` (``is_set``: ``f.isSet()``)
decimal / string / bool literal       ``-3.50`` / ``"a\\"b"`` / ``true``
date / datetime literal               ``date("2024-01-31")`` /
                                      ``timestamp("2024-01-31T10:00:00+01:00")``
today literal (days 0 / -14 / 3)      ``today`` / ``today - 14`` / ``today + 3``
====================================  ============================================

A group (``All``/``AnyOf``) with two or more children inside another group or a
``Not`` is always parenthesised, so ``a && (b && c)`` keeps its nesting. A group
with exactly one child cannot be told apart from that child in text, so
``parse_rule(format_rule(t)) == normalize(t)``; for trees in normal form (no
one-child groups) the round trip is exact. ``format_rule(parse_rule(s))`` is a
fixed point of ``format_rule . parse_rule``.

When parsing, a literal on the left of a comparison is flipped to the right
(``500 < subject.x`` becomes ``subject.x > 500``, ``"a" in subject.tags``
becomes ``subject.tags.contains("a")``).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from celpy.celparser import CELParseError, CELParser
from lark import Token, Tree
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from procedo.rules.model import (
    FIELD_PATH_PATTERN,
    LIST_OPS,
    MAX_RULE_DEPTH,
    MAX_TODAY_DAYS,
    UNARY_OPS,
    All,
    AnyOf,
    BoolValue,
    Compare,
    CompareOp,
    DateTimeValue,
    DateValue,
    DecimalValue,
    ListValue,
    Not,
    Rule,
    ScalarValue,
    StringValue,
    TodayValue,
    Value,
    depth,
)

__all__ = [
    "MAX_RULE_TEXT_LENGTH",
    "RuleSyntaxError",
    "format_rule",
    "normalize",
    "parse_rule",
]

MAX_RULE_TEXT_LENGTH: Final = 10_000
# Grouping parentheses and '!' may nest MAX_RULE_DEPTH deep in text. A
# comparison's own brackets (``f.between(date(".."), ..)``, ``f in [date("..")]``)
# add at most two levels on top; the exact limit is checked on the parsed tree.
_MAX_TEXT_NESTING: Final = MAX_RULE_DEPTH + 2
# Numbers are written without exponent, so bound what an exponent may expand to.
_MAX_NUMBER_DIGITS: Final = 100

_FIELD_PATH_RE: Final = re.compile(FIELD_PATH_PATTERN)
_DATE_RE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")

_METHODS: Final = ("contains", "between", "isEmpty", "isSet")
_FUNCTIONS: Final = ("date", "timestamp")
_KNOWN_FUNCTIONS: Final = ", ".join(_METHODS + _FUNCTIONS)
_ROOTS: Final = ("subject", "vars")
_TODAY: Final = "today"
_EXAMPLE: Final = 'e.g. subject.payable_amount > 500 && subject.currency == "EUR"'

_METHOD_OPS: Final[dict[str, CompareOp]] = {
    "contains": "contains",
    "between": "between",
    "isEmpty": "is_empty",
    "isSet": "is_set",
}
_METHOD_ARITY: Final = {"contains": 1, "between": 2, "isEmpty": 0, "isSet": 0}
_OP_METHODS: Final = {op: name for name, op in _METHOD_OPS.items()}
_METHOD_EXAMPLES: Final = {
    "contains": 'e.g. subject.name.contains("BV")',
    "between": "e.g. subject.payable_amount.between(300, 4000)",
    "isEmpty": "e.g. subject.order_reference.isEmpty()",
    "isSet": "e.g. subject.order_reference.isSet()",
}

_RELATION_OPS: Final[dict[str, CompareOp]] = {
    "relation_eq": "=",
    "relation_ne": "!=",
    "relation_lt": "<",
    "relation_gt": ">",
    "relation_le": "<=",
    "relation_ge": ">=",
    "relation_in": "in",
}
_FLIPPED: Final[dict[str, CompareOp]] = {
    "=": "=",
    "!=": "!=",
    "<": ">",
    ">": "<",
    "<=": ">=",
    ">=": "<=",
    "in": "contains",
}
_OP_TEXT: Final = {"=": "==", "!=": "!=", "<": "<", ">": ">", "<=": "<=", ">=": ">="}

# Python words a consultant might try; each gets a pointed message.
_PYTHON_WORDS: Final = frozenset(
    {
        "lambda", "import", "from", "def", "class", "return", "exec", "eval", "yield",
        "global", "nonlocal", "with", "del", "assert", "raise", "try", "except", "pass",
        "while", "for", "if", "else", "elif", "async", "await", "is", "print", "open",
        "getattr", "setattr", "compile", "globals", "locals",
    }
)  # fmt: skip
_WORD_OPERATORS: Final = {"and": "&&", "or": "||", "not": "!"}
_PYTHON_CONSTANTS: Final = {"True": "true", "False": "false", "None": "null"}

# Field path segments CEL's lexer reads as literals, so they cannot be written.
_UNWRITABLE_SEGMENTS: Final = frozenset({"true", "false"})

# Lark nodes that only pass their single child through.
_PASS_THROUGH: Final = frozenset(
    {
        "expr",
        "conditionalor",
        "conditionaland",
        "relation",
        "addition",
        "multiplication",
        "unary",
        "member",
        "primary",
    }
)

_STRING_ESCAPE: Final = re.compile(
    r"\\(?:([abfnrtv\\'\"`?])|x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})"
    r"|([0-3][0-7]{2})|(.?))",
    re.DOTALL,
)
_SIMPLE_ESCAPES: Final = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "`": "`",
    "?": "?",
}
_QUOTE_ESCAPES: Final = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


class RuleSyntaxError(ValueError):
    """Rule text that is not a valid condition.

    ``message`` says what is wrong and how to fix it, including the position
    when known; ``line`` and ``column`` are 1-based, or None.
    """

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


def _at(line: int | None, column: int | None) -> str:
    if line is None:
        return ""
    if column is None:
        return f" at line {line}"
    return f" at line {line}, column {column}"


def _error(what: str, where: Any, hint: str) -> RuleSyntaxError:
    line, column = _position(where)
    return RuleSyntaxError(f"{what}{_at(line, column)}: {hint}", line, column)


def _position(where: Any) -> tuple[int | None, int | None]:
    if isinstance(where, Token):
        return where.line, where.column
    if isinstance(where, Tree):
        meta = where.meta
        if not getattr(meta, "empty", True):
            return meta.line, meta.column
    return None, None


# --------------------------------------------------------------------------- parse


def parse_rule(text: str) -> Rule:
    """Parse rule text into a rule tree, or raise :class:`RuleSyntaxError`."""
    if not isinstance(text, str):
        raise RuleSyntaxError(f"rule text must be a string, not {type(text).__name__}")
    if len(text) > MAX_RULE_TEXT_LENGTH:
        raise RuleSyntaxError(
            f"the rule is too long: {len(text):,} characters, at most "
            f"{MAX_RULE_TEXT_LENGTH:,} are allowed; split it into smaller conditions"
        )
    if not text.strip():
        raise RuleSyntaxError(f"the rule is empty: write a condition, {_EXAMPLE}, or true")
    parser = CELParser()  # loads the grammar once per process
    _prescan(text)
    try:
        tree = parser.parse(text)
    except CELParseError as exc:
        raise _syntax_error(exc) from None
    except (LarkError, RecursionError) as exc:  # pragma: no cover - defensive
        raise RuleSyntaxError(f"the rule could not be read: {exc}") from None
    rule = _to_rule(tree)
    if depth(rule) > MAX_RULE_DEPTH:  # pragma: no cover - the walk checks this first
        raise RuleSyntaxError(f"the rule is nested more than {MAX_RULE_DEPTH} levels deep")
    return rule


def _prescan(text: str) -> None:
    """Cheap checks on the token stream before parsing.

    Bounds the nesting (brackets and ``!`` chains) so no deep tree is ever
    built, and gives pointed messages for things that are not rule syntax at
    all (dunder names, Python words, unknown functions and names, arithmetic,
    maps, indexing, the conditional operator).
    """
    try:
        tokens: list[Token] = list(_lark().lex(text))
    except UnexpectedCharacters as exc:
        raise _character_error(text, exc) from None
    except LarkError as exc:  # pragma: no cover - defensive
        raise RuleSyntaxError(f"the rule could not be read: {exc}") from None

    # Per open bracket: whether it groups (not a call's or a list's bracket),
    # and how many '!' are active at that level.
    grouping = [True]
    nots = [0]
    open_groups = 0
    total_nots = 0
    previous: Token | None = None
    for index, token in enumerate(tokens):
        value = str(token.value)
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if token.type == "IDENT":
            _check_identifier(token, previous, following)
        elif token.type == "BOOL_LIT" and previous is not None and str(previous.value) == ".":
            line, column = previous.line, previous.end_column
            raise RuleSyntaxError(
                f"'{value}' cannot be a field name{_at(line, column)}: true and false are values",
                line,
                column,
            )
        elif value in ("(", "[", "{"):
            if value == "{":
                raise _error(
                    "maps and objects ('{...}') are not supported",
                    token,
                    "write a condition, " + _EXAMPLE,
                )
            after_operand = previous is not None and _ends_operand(previous)
            if value == "[" and after_operand:
                raise _error(
                    "indexing ('[...]') is not supported",
                    token,
                    "name nested fields with dots, e.g. subject.supplier.kvk",
                )
            groups = value == "(" and not after_operand
            grouping.append(groups)
            nots.append(0)
            open_groups += groups
        elif value in (")", "]", "}"):
            if len(nots) > 1:
                total_nots -= nots.pop()
                open_groups -= grouping.pop()
        elif value == "!":
            nots[-1] += 1
            total_nots += 1
        elif value in ("&&", "||", ",", "?", ":"):
            if value in ("?", ":"):
                raise _error(
                    f"the conditional operator ('{value}') is not supported",
                    token,
                    "combine conditions with &&, || and !",
                )
            total_nots -= nots[-1]
            nots[-1] = 0
        elif value in ("*", "/", "%", "+") and not (
            value == "+" and previous is not None and str(previous.value) == _TODAY
        ):
            raise _error(
                f"arithmetic ('{value}') is not supported",
                token,
                "compare a field with a value, " + _EXAMPLE,
            )
        if (
            open_groups + total_nots > MAX_RULE_DEPTH
            or len(nots) - 1 + total_nots > _MAX_TEXT_NESTING
        ):
            raise _error(
                f"the rule is nested more than {MAX_RULE_DEPTH} levels deep",
                token,
                "use fewer parentheses, brackets and '!', or split the rule",
            )
        previous = token


def _lark() -> Any:
    parser = CELParser.CEL_PARSER
    if parser is None:  # pragma: no cover - parse_rule creates a CELParser first
        CELParser()
        parser = CELParser.CEL_PARSER
    return parser


def _ends_operand(token: Token) -> bool:
    return token.type == "IDENT" or token.type.endswith("_LIT") or str(token.value) in (")", "]")


def _check_identifier(token: Token, previous: Token | None, following: Token | None) -> None:
    name = str(token.value)
    if name.startswith("__"):
        raise _error(
            f"name '{name}' is not allowed", token, "names starting with '__' are reserved"
        )
    is_call = following is not None and str(following.value) == "("
    if previous is not None and str(previous.value) == ".":
        if is_call and name not in _METHODS:
            raise _unknown_function(name, token)
        return
    if name in _WORD_OPERATORS:
        raise _error(f"'{name}' is Python", token, f"write {_WORD_OPERATORS[name]} instead")
    if name in _PYTHON_CONSTANTS:
        raise _error(f"'{name}' is Python", token, f"write {_PYTHON_CONSTANTS[name]} instead")
    if name in _PYTHON_WORDS:
        raise _error(
            f"'{name}' is Python, not rule syntax", token, "write a condition, " + _EXAMPLE
        )
    if name == _TODAY:
        if is_call or (following is not None and str(following.value) == "."):
            raise _error(
                "today is a date, not a function or a field",
                token,
                "compare a date field with it, e.g. subject.due_date < today - 14",
            )
        return
    if is_call:
        if name in _METHODS:
            raise _error(
                f"'{name}' must be written after a field",
                token,
                f"e.g. subject.name.{name}(...)",
            )
        if name not in _FUNCTIONS:
            raise _unknown_function(name, token)
    elif name not in _ROOTS:
        raise _unknown_name(name, token)


def _unknown_function(name: str, where: Any) -> RuleSyntaxError:
    return _error(f"unknown function '{name}'", where, f"use one of {_KNOWN_FUNCTIONS}")


def _unknown_name(name: str, where: Any) -> RuleSyntaxError:
    return _error(
        f"unknown name '{name}'",
        where,
        "field paths start with subject. or vars., e.g. subject.payable_amount",
    )


def _character_error(text: str, exc: UnexpectedCharacters) -> RuleSyntaxError:
    line, column = exc.line, exc.column
    pos = exc.pos_in_stream
    char = text[pos] if isinstance(pos, int) and 0 <= pos < len(text) else ""
    if char in ('"', "'"):
        hint = "a text value is not closed; end it with the same quote on the same line"
    else:
        hint = "this character is not part of rule syntax; " + _EXAMPLE
    return RuleSyntaxError(
        f"unexpected character {char!r}{_at(line, column)}: {hint}", line, column
    )


def _syntax_error(exc: CELParseError) -> RuleSyntaxError:
    cause = exc.__context__
    line = exc.line if isinstance(exc.line, int) else None
    column = exc.column if isinstance(exc.column, int) else None
    if isinstance(cause, UnexpectedToken):
        token = cause.token
        if token.type == "$END":
            return RuleSyntaxError(
                f"the rule ends too early{_at(line, column)}: something is missing "
                "(a value after an operator, or a closing ')' or ']')",
                line,
                column,
            )
        return RuleSyntaxError(
            f"unexpected {str(token.value)!r}{_at(line, column)}: check the rule's syntax, "
            + _EXAMPLE,
            line,
            column,
        )
    if isinstance(cause, UnexpectedInput):  # pragma: no cover - the pre-scan lexes first
        return RuleSyntaxError(
            f"unexpected input{_at(line, column)}: check the rule's syntax, " + _EXAMPLE,
            line,
            column,
        )
    return RuleSyntaxError(f"the rule could not be read: {exc}")  # pragma: no cover


def _skip(node: Any) -> Any:
    """Descend through pass-through nodes and parentheses."""
    while isinstance(node, Tree):
        if (node.data in _PASS_THROUGH and len(node.children) == 1) or node.data == "paren_expr":
            node = node.children[0]
        else:
            break
    return node


def _skip_pass(node: Any) -> Any:
    """Descend through pass-through nodes (not parentheses)."""
    while isinstance(node, Tree) and node.data in _PASS_THROUGH and len(node.children) == 1:
        node = node.children[0]
    return node


def _operands(node: Any, kind: str) -> list[Any]:
    """The operands of a left-nested chain ``a && b && c`` (same operator, no parens)."""
    found: list[Any] = []
    while isinstance(node, Tree) and node.data == kind and len(node.children) == 2:
        found.append(node.children[1])
        node = node.children[0]
    found.append(node)
    found.reverse()
    return found


_VISIT, _ALL, _ANY, _NOT = 0, 1, 2, 3


def _to_rule(root: Any) -> Rule:
    """Walk the lark tree into a rule tree, without recursion."""
    results: list[Rule] = []
    stack: list[tuple[int, Any, int]] = [(_VISIT, root, 1)]
    while stack:
        action, payload, level = stack.pop()
        if action in (_ALL, _ANY):
            children = results[len(results) - payload :]
            del results[len(results) - payload :]
            results.append(All(children) if action == _ALL else AnyOf(children))
            continue
        if action == _NOT:
            results.append(Not(results.pop()))
            continue
        node = _skip(payload)
        if level > MAX_RULE_DEPTH:
            raise _error(
                f"the rule is nested more than {MAX_RULE_DEPTH} levels deep",
                node,
                "simplify it or split it into several conditions",
            )
        kind = node.data if isinstance(node, Tree) else None
        if kind in ("conditionaland", "conditionalor") and len(node.children) == 2:
            operands = _operands(node, kind)
            stack.append((_ALL if kind == "conditionaland" else _ANY, len(operands), level))
            stack.extend((_VISIT, operand, level + 1) for operand in reversed(operands))
        elif kind == "unary" and len(node.children) == 2:
            if node.children[0].data != "unary_not":
                raise _error("'-' cannot negate a condition", node, "use ! instead, e.g. !(...)")
            stack.append((_NOT, None, level))
            stack.append((_VISIT, node.children[1], level + 1))
        elif kind == "literal" and node.children[0].type == "BOOL_LIT":
            results.append(All([]) if node.children[0].value == "true" else AnyOf([]))
        elif kind == "relation" and len(node.children) == 2:
            results.append(_comparison(node))
        elif kind == "member_dot_arg":
            results.append(_method_call(node))
        else:
            raise _not_a_condition(node)
    return results[0]


def _not_a_condition(node: Any) -> RuleSyntaxError:
    kind = node.data if isinstance(node, Tree) else None
    if kind in ("member_dot", "ident"):
        path = _field_path(node)
        return _error(
            f"the field '{path}' on its own is not a condition",
            node,
            f"compare it with a value, e.g. {path} == true or {path}.isSet()",
        )
    if kind in ("literal", "list_lit", "ident_arg") or (
        kind == "unary" and node.children[0].data == "unary_neg"
    ):
        if kind == "ident_arg":
            _value(node)  # unknown functions get their own message
        return _error(
            "a value on its own is not a condition",
            node,
            "compare a field with it, e.g. subject.payable_amount > 500",
        )
    return _unsupported(node)


def _unsupported(node: Any) -> RuleSyntaxError:
    kind = node.data if isinstance(node, Tree) else None
    if kind in ("addition", "multiplication"):
        return _error(
            "arithmetic is not supported", node, "compare a field with a value, " + _EXAMPLE
        )
    if kind == "expr":
        return _error(
            "the conditional operator ('? :') is not supported",
            node,
            "combine conditions with &&, || and !",
        )
    if kind == "member_index":
        return _error(
            "indexing ('[...]') is not supported",
            node,
            "name nested fields with dots, e.g. subject.supplier.kvk",
        )
    if kind in ("member_object", "map_lit"):
        return _error(
            "maps and objects ('{...}') are not supported", node, "write a condition, " + _EXAMPLE
        )
    if kind in ("dot_ident", "dot_ident_arg"):
        return _error(
            "names starting with '.' are not supported",
            node,
            "field paths start with subject. or vars., e.g. subject.payable_amount",
        )
    if kind == "relation":
        return _error(
            "comparisons cannot be chained or compared",
            node,
            "join conditions with && or ||, e.g. subject.a > 1 && subject.a < 9",
        )
    if kind == "member_dot_arg":
        return _error(
            "a condition cannot be used as a value",
            node,
            "join conditions with && or ||, and negate with !",
        )
    if kind == "conditionaland" or kind == "conditionalor" or kind == "unary":
        return _error(
            "a condition cannot be used as a value",
            node,
            "join conditions with && or ||, and negate with !",
        )
    return _error("this expression is not supported", node, "write a condition, " + _EXAMPLE)


def _comparison(node: Any) -> Compare:
    op_node, right = node.children
    op = _RELATION_OPS[op_node.data]
    left = _operand(op_node.children[0])
    value = _operand(right)
    if isinstance(left, str) and isinstance(value, str):
        raise _error(
            f"comparing two fields ('{left}' and '{value}') is not supported",
            node,
            'compare a field with a value such as 500, "EUR" or date("2024-01-31")',
        )
    if not isinstance(left, str):
        if not isinstance(value, str):
            raise _error(
                "a comparison needs a field on one side",
                node,
                "e.g. subject.payable_amount > 500",
            )
        left, value, op = value, left, _FLIPPED[op]
    assert not isinstance(value, str)
    if op == "in":
        if not isinstance(value, ListValue):
            raise _error(
                "'in' needs a list of values", node, 'e.g. subject.currency in ["EUR", "USD"]'
            )
    elif isinstance(value, ListValue):
        hint = "use 'in' to test membership of a list" if op in ("=", "!=") else "use one value"
        raise _error(f"'{_OP_TEXT.get(op, op)}' cannot compare with a list", node, hint)
    return Compare(field=left, op=op, value=value)


def _method_call(node: Any) -> Compare:
    receiver_node, name_token = node.children[0], node.children[1]
    name = str(name_token.value)
    if name not in _METHODS:
        raise _unknown_function(name, name_token)
    receiver = _operand(receiver_node)
    if not isinstance(receiver, str):
        raise _error(
            f"{name}() must be called on a field", name_token, f"e.g. subject.name.{name}(...)"
        )
    args = node.children[2].children if len(node.children) > 2 else []
    arity = _METHOD_ARITY[name]
    if len(args) != arity:
        wanted = {0: "no values", 1: "one value", 2: "two values"}[arity]
        raise _error(
            f"{name}() takes {wanted}, not {len(args)}", name_token, _METHOD_EXAMPLES[name]
        )
    values: list[ScalarValue] = []
    for arg in args:
        value = _operand(arg)
        if isinstance(value, str):
            raise _error(
                f"a field ('{value}') cannot be the value of {name}()",
                arg,
                'use a value such as 500 or "EUR"',
            )
        if isinstance(value, ListValue):
            raise _error(f"a list cannot be the value of {name}()", arg, "use one value")
        values.append(value)
    op = _METHOD_OPS[name]
    if op == "between":
        if type(values[0]) is not type(values[1]):
            raise _error(
                "between() needs two values of the same type",
                name_token,
                "e.g. subject.payable_amount.between(300, 4000)",
            )
        return Compare(field=receiver, op=op, value=ListValue(values))
    if op == "contains":
        return Compare(field=receiver, op=op, value=values[0])
    return Compare(field=receiver, op=op)


def _operand(node: Any) -> str | Value:
    """A comparison operand: a field path (str) or a literal value."""
    node = _skip(node)
    kind = node.data if isinstance(node, Tree) else None
    if kind == "member_dot" or (kind == "ident" and _ident_name(node) != _TODAY):
        return _field_path(node)
    return _value(node)


def _ident_name(node: Any) -> str:
    token: Any = node.children[0]
    return str(token.value)


def _field_path(node: Any) -> str:
    segments: list[str] = []
    current = _skip_pass(node)
    while isinstance(current, Tree) and current.data == "member_dot":
        segment: Any = current.children[1]
        segments.append(str(segment.value))
        current = _skip_pass(current.children[0])
    if not (isinstance(current, Tree) and current.data == "ident"):
        raise _unsupported(current)
    root: Any = current.children[0]
    name = str(root.value)
    if name not in _ROOTS:
        if name in _FUNCTIONS or name in _METHODS:
            raise _error(f"'{name}' is a function", root, f"call it, e.g. {name}(...)")
        raise _unknown_name(name, root)
    if not segments:
        raise _error(f"'{name}' needs a field name", root, f"e.g. {name}.payable_amount")
    segments.reverse()
    for segment in segments:
        if segment.startswith("__"):  # pragma: no cover - the pre-scan refuses these
            raise _error(f"name '{segment}' is not allowed", node, "names starting with '__'")
    path = ".".join([name, *segments])
    if not _FIELD_PATH_RE.match(path):  # pragma: no cover - CEL identifiers always match
        raise _error(f"invalid field path '{path}'", node, "use letters, digits and '_'")
    return path


def _value(node: Any) -> Value:
    node = _skip(node)
    kind = node.data if isinstance(node, Tree) else None
    if kind == "literal":
        return _literal(node.children[0])
    if kind == "unary" and node.children[0].data == "unary_neg":
        inner = _skip(node.children[1])
        if isinstance(inner, Tree) and inner.data == "literal":
            token: Any = inner.children[0]
            if token.type in ("INT_LIT", "UINT_LIT", "FLOAT_LIT") and not token.startswith("-"):
                number = _number(token)
                return DecimalValue(number.value.copy_negate())
        raise _error("'-' must be followed by a number", node, "e.g. -3.5")
    if kind == "ident_arg":
        return _function_value(node)
    if kind == "ident" and _ident_name(node) == _TODAY:
        return TodayValue()
    if kind == "addition" and len(node.children) == 2:
        return _today_moved(node)
    if kind == "list_lit":
        items: list[ScalarValue] = []
        if node.children:
            for item_node in node.children[0].children:
                item = _value(item_node)
                if isinstance(item, ListValue):
                    raise _error("lists cannot contain lists", item_node, "list single values")
                items.append(item)
        return ListValue(items)
    if kind in ("member_dot", "ident"):
        raise _error(
            f"a field ('{_field_path(node)}') cannot be used as a value here",
            node,
            'use a value such as 500 or "EUR"',
        )
    raise _unsupported(node)


def _today_moved(node: Any) -> TodayValue:
    """``today - 14`` or ``today + 3``: the only arithmetic a rule has.

    ``node`` is CEL's ``addition``: the operator (holding the left side), then the right.
    """
    operator_node, amount = node.children[0], _skip(node.children[1])
    base = _skip(operator_node.children[0]) if operator_node.children else None
    token: Any = (
        amount.children[0] if isinstance(amount, Tree) and amount.data == "literal" else None
    )
    is_today = isinstance(base, Tree) and base.data == "ident" and _ident_name(base) == _TODAY
    if not is_today or token is None or token.type not in ("INT_LIT", "UINT_LIT"):
        raise _error(
            "arithmetic is not supported",
            node,
            "only today can be moved, by a whole number of days: today - 14 or today + 3",
        )
    days = int(str(token.value).rstrip("uU"), 0)
    if abs(days) > MAX_TODAY_DAYS:
        raise _error(
            f"today can be moved by at most {MAX_TODAY_DAYS:,} days",
            token,
            "write a smaller number of days",
        )
    return TodayValue(days=-days if operator_node.data == "addition_sub" else days)


def _literal(token: Token) -> ScalarValue:
    kind = token.type
    if kind in ("INT_LIT", "UINT_LIT", "FLOAT_LIT"):
        return _number(token)
    if kind in ("STRING_LIT", "MLSTRING_LIT"):
        return StringValue(_unquote(token))
    if kind == "BOOL_LIT":
        return BoolValue(token.value == "true")
    if kind == "NULL_LIT":
        raise _error(
            "null is not supported",
            token,
            "test for a value with subject.x.isSet() or subject.x.isEmpty()",
        )
    if kind == "BYTES_LIT":
        raise _error("bytes values are not supported", token, 'use a text value such as "abc"')
    raise _error(f"unexpected value {str(token.value)!r}", token, "check the rule's syntax")


def _number(token: Token) -> DecimalValue:
    raw = str(token.value)
    if token.type == "UINT_LIT":
        raw = raw[:-1]
    try:
        if token.type != "FLOAT_LIT" and raw.lstrip("-")[:2].lower() == "0x":
            number = Decimal(int(raw, 16))
        else:
            number = Decimal(raw)
    except (InvalidOperation, ValueError):  # pragma: no cover - the grammar only lexes numbers
        raise _error(
            f"invalid number {raw!r}", token, "write a number such as 500 or -3.5"
        ) from None
    exponent = number.as_tuple().exponent
    if (
        not number.is_finite()
        or not isinstance(exponent, int)
        or abs(exponent) > _MAX_NUMBER_DIGITS
        or len(number.as_tuple().digits) > _MAX_NUMBER_DIGITS
    ):
        raise _error(
            f"the number {raw} is too large or too precise",
            token,
            f"write it as plain digits, at most {_MAX_NUMBER_DIGITS}",
        )
    return DecimalValue(number)


def _unquote(token: Token) -> str:
    text = str(token.value)
    raw = text[:1] in ("r", "R")
    if raw:
        text = text[1:]
    quote = 3 if text[:3] in ('"""', "'''") else 1
    body = text[quote:-quote]
    if raw:
        return body

    def expand(match: re.Match[str]) -> str:
        simple, hex2, hex4, hex8, octal, bad = match.groups()
        if simple is not None:
            return _SIMPLE_ESCAPES[simple]
        if bad is not None:
            raise _error(
                f"unknown escape '\\{bad}' in a text value",
                token,
                'use \\" for a quote, \\\\ for a backslash, \\n for a new line',
            )
        code = int(hex2 or hex4 or hex8, 16) if octal is None else int(octal, 8)
        if code > 0x10FFFF:
            raise _error("invalid character escape in a text value", token, "it is above U+10FFFF")
        return chr(code)

    return _STRING_ESCAPE.sub(expand, body)


def _function_value(node: Any) -> Value:
    name_token = node.children[0]
    name = str(name_token.value)
    if name not in _FUNCTIONS:
        raise _unknown_function(name, name_token)
    args = node.children[1].children if len(node.children) > 1 else []
    example = 'date("2024-01-31")' if name == "date" else 'timestamp("2024-01-31T10:00:00+01:00")'
    text: str | None = None
    if len(args) == 1:
        arg = _skip(args[0])
        literal: Any = arg.children[0] if isinstance(arg, Tree) and arg.data == "literal" else None
        if literal is not None and literal.type in ("STRING_LIT", "MLSTRING_LIT"):
            text = _unquote(literal)
    if text is None:
        raise _error(f"{name}() takes one text value", name_token, f"e.g. {example}")
    try:
        if name == "date":
            if not _DATE_RE.match(text):
                raise ValueError(text)
            return DateValue(dt.date.fromisoformat(text))
        return DateTimeValue(dt.datetime.fromisoformat(text))
    except ValueError:
        raise _error(f"invalid {name} {text!r}", name_token, f"write e.g. {example}") from None


# --------------------------------------------------------------------------- normalize


def normalize(rule: Rule) -> Rule:
    """The rule with every one-child group replaced by its child (bottom-up).

    Text cannot tell ``All([x])`` from ``x``, so this is what a round trip
    through text preserves: ``parse_rule(format_rule(t)) == normalize(t)``.
    """
    results: list[Rule] = []
    stack: list[tuple[Rule, bool]] = [(rule, False)]
    while stack:
        node, built = stack.pop()
        if isinstance(node, Compare):
            results.append(node)
        elif not built:
            stack.append((node, True))
            children = [node.rule] if isinstance(node, Not) else node.rules
            stack.extend((child, False) for child in reversed(children))
        elif isinstance(node, Not):
            results.append(Not(results.pop()))
        else:
            count = len(node.rules)
            children = results[len(results) - count :]
            del results[len(results) - count :]
            if count == 1:
                results.append(children[0])
            else:
                results.append(All(children) if isinstance(node, All) else AnyOf(children))
    return results[0]


# --------------------------------------------------------------------------- format


def format_rule(rule: Rule) -> str:
    """Canonical text for a rule tree (one-child groups are written as their child).

    Raises ValueError for a tree no text can express: a malformed comparison
    (wrong value shape for its operator), a field path that is not valid, or a
    non-finite decimal.
    """
    # Each result: (text, kind) with kind "group" for a group of two or more
    # children, "atom" when '!' may be put directly in front, "compare" otherwise.
    results: list[tuple[str, str]] = []
    stack: list[tuple[Rule, bool]] = [(normalize(rule), False)]
    while stack:
        node, built = stack.pop()
        if isinstance(node, Compare):
            text = _format_compare(node)
            results.append((text, "atom" if node.op in _OP_METHODS else "compare"))
        elif isinstance(node, All | AnyOf) and not node.rules:
            results.append(("true" if isinstance(node, All) else "false", "atom"))
        elif not built:
            stack.append((node, True))
            children = [node.rule] if isinstance(node, Not) else node.rules
            stack.extend((child, False) for child in reversed(children))
        elif isinstance(node, Not):
            text, kind = results.pop()
            results.append(("!" + (text if kind == "atom" else f"({text})"), "atom"))
        else:
            count = len(node.rules)
            parts = results[len(results) - count :]
            del results[len(results) - count :]
            joiner = " && " if isinstance(node, All) else " || "
            text = joiner.join(f"({t})" if k == "group" else t for t, k in parts)
            results.append((text, "group"))
    return results[0][0]


def _format_compare(compare: Compare) -> str:
    field = compare.field
    if not _FIELD_PATH_RE.match(field):
        raise ValueError(f"invalid field path {field!r}: it must match {FIELD_PATH_PATTERN}")
    segments = field.split(".")[1:]
    for segment in segments:
        if segment in _UNWRITABLE_SEGMENTS:
            raise ValueError(f"field path {field!r} cannot be written as text: {segment!r}")
    op, value = compare.op, compare.value
    if op in UNARY_OPS:
        if value is not None:
            raise ValueError(f"{op} takes no value, got {value!r}")
        return f"{field}.{_OP_METHODS[op]}()"
    if op in LIST_OPS:
        if not isinstance(value, ListValue):
            raise ValueError(f"{op} needs a list value, got {value!r}")
        items = [_format_scalar(item) for item in value.items]
        if op == "in":
            return f"{field} in [{', '.join(items)}]"
        if len(items) != 2 or type(value.items[0]) is not type(value.items[1]):
            raise ValueError(f"between needs two values of the same type, got {value!r}")
        return f"{field}.between({items[0]}, {items[1]})"
    if value is None or isinstance(value, ListValue):
        raise ValueError(f"{op} needs a single value, got {value!r}")
    if op == "contains":
        return f"{field}.contains({_format_scalar(value)})"
    if op not in _OP_TEXT:
        raise ValueError(f"unknown operator {op!r}")
    return f"{field} {_OP_TEXT[op]} {_format_scalar(value)}"


def _format_scalar(value: object) -> str:
    if isinstance(value, DecimalValue):
        number: object = value.value
        if isinstance(number, int) and not isinstance(number, bool):
            number = Decimal(number)
        if not isinstance(number, Decimal) or not number.is_finite():
            raise ValueError(f"a decimal literal must be a finite Decimal, got {number!r}")
        return format(number, "f")
    if isinstance(value, StringValue):
        return _quote(value.value)
    if isinstance(value, BoolValue):
        return "true" if value.value else "false"
    if isinstance(value, TodayValue):
        if value.days == 0:
            return _TODAY
        return f"{_TODAY} {'-' if value.days < 0 else '+'} {abs(value.days)}"
    if isinstance(value, DateTimeValue):
        return f'timestamp("{value.value.isoformat()}")'
    if isinstance(value, DateValue):
        if isinstance(value.value, dt.datetime):
            raise ValueError(f"a date literal must be a date, got {value.value!r}")
        return f'date("{value.value.isoformat()}")'
    raise ValueError(f"not a single value: {value!r}")


def _quote(text: str) -> str:
    out = ['"']
    for char in text:
        escaped = _QUOTE_ESCAPES.get(char)
        if escaped is not None:
            out.append(escaped)
        elif char.isprintable():
            out.append(char)
        elif ord(char) <= 0xFFFF:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(f"\\U{ord(char):08x}")
    out.append('"')
    return "".join(out)
