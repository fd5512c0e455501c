"""Reading UBL documents: untrusted XML (procedo/untrusted_xml.py), elements by their UBL names.

Invoices arrive from outside (suppliers, access points, mailboxes), so they are
parsed the one hardened way: size limit, no DTD, no entities, no network. What a
supplier sent instead of an invoice (an image, a PDF) is told by its first bytes.
"""

from __future__ import annotations

from lxml import etree

from procedo.flow.problems import Problem
from procedo.untrusted_xml import Wording, XmlRefused, parse_untrusted

MAX_BYTES = 5 * 1024 * 1024

CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
INVOICE = "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice"
CREDIT_NOTE = "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote"
_PREFIXES = {CAC: "cac", CBC: "cbc"}

# What arrives instead of an invoice (E6: "a logo instead of an invoice").
_SIGNATURES = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive (or an Office document)",
    b"II*\x00": "a TIFF image",
    b"MM\x00*": "a TIFF image",
}

_WORDING = Wording(
    document="the document",
    needs_no_doctype="UBL needs none",
    encoding_hint="(PEPPOL requires UTF-8)",
    empty="the document is empty",
)


class UblError(ValueError):
    """A document that cannot be taken in; carries every problem, each with its place.

    ``kind`` says what the document is when it is a document of another kind (an
    image, a PDF, XML that is not a UBL invoice): one a supplier really sent instead
    of an invoice, which ``ingest`` records as a conversion problem (E6). Without a
    kind (hostile, unreadable or incomplete input) the API answers a 4xx with these
    problems and nothing is stored.
    """

    def __init__(self, problems: list[Problem], kind: str = "") -> None:
        self.problems = problems
        self.kind = kind
        super().__init__("; ".join(f"{p.where()}: {p.message}" for p in problems))

    @property
    def status(self) -> int:
        """The HTTP status to answer: 413 too large, 400 not readable XML, 422 not an invoice."""
        codes = {p.code for p in self.problems}
        if "ubl.too_large" in codes:
            return 413
        if codes & {"ubl.not_xml", "ubl.doctype", "ubl.malformed"}:
            return 400
        return 422


def problem(code: str, message: str, line: int | None, path: str | None = None) -> Problem:
    return Problem(code=code, message=message, line=line, path=path)


def parse_xml(data: bytes) -> etree._Element:
    """The root element of a well-formed document without DTD, or UblError."""
    if len(data) <= MAX_BYTES:
        signature = _signature(data)
        if signature:
            message = f"this is {signature}, not a UBL invoice"
            raise UblError([problem("ubl.not_xml", message, 1)], kind=signature)
    try:
        return parse_untrusted(data, MAX_BYTES, _WORDING)
    except XmlRefused as refused:
        raise UblError(
            [
                Problem(
                    code=f"ubl.{refused.kind}",
                    message=refused.message,
                    line=refused.line,
                    column=refused.column,
                )
            ]
        ) from None


def _signature(data: bytes) -> str:
    """What kind of file the bytes are by their first bytes ("a PNG image"), or ""."""
    for signature, kind in _SIGNATURES.items():
        if data.startswith(signature):
            return kind
    return ""


# xsd:boolean's lexical space, after its whitespace is collapsed: 0 and 1 are booleans too.
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


def xsd_boolean(text: str | None) -> bool | None:
    """``true``/``1`` -> True, ``false``/``0`` -> False, anything else (or nothing) -> None."""
    return _BOOLEANS.get((text or "").strip())


def short_name(tag: str) -> str:
    """``{CBC}PayableAmount`` -> ``cbc:PayableAmount``: the names UBL documentation uses."""
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        prefix = _PREFIXES.get(namespace)
        return f"{prefix}:{local}" if prefix else local
    return tag


class Node:
    """An element, the way to it from the root (for messages), and its children by tag.

    The children are indexed on first use, one iteration over them, so reading
    twenty fields of one element does not search it twenty times; the path is
    only spelt out when a problem needs it.
    """

    __slots__ = ("_children", "element", "parent", "step")

    def __init__(self, element: etree._Element, parent: Node | None = None, step: str = "") -> None:
        self.element = element
        self.parent = parent
        self.step = step
        self._children: dict[str, list[etree._Element]] | None = None

    @property
    def line(self) -> int | None:
        return self.element.sourceline

    @property
    def path(self) -> str:
        return "" if self.parent is None else self.parent.below(self.step)

    def below(self, name: str) -> str:
        path = self.path
        return f"{path}/{name}" if path else name

    def children(self, tag: str) -> list[etree._Element]:
        if self._children is None:
            index: dict[str, list[etree._Element]] = {}
            for child in self.element:
                if isinstance(child.tag, str):
                    index.setdefault(child.tag, []).append(child)
            self._children = index
        return self._children.get(tag, _NONE)


_NONE: list[etree._Element] = []
