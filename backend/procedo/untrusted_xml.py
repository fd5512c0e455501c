"""Reading XML that comes from outside (invoices, bank statements): one hardened way.

A size limit first; a DOCTYPE or ENTITY declaration refused before libxml2 sees it
(none of these formats needs one, and refusing it outright closes entity
expansion and external entities for good, whatever the parser's defaults
become); then lxml with entities, DTDs, the network and huge trees off. Every
refusal names its place, and the caller turns it into its own problem codes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from lxml import etree

Refusal = Literal["too_large", "not_xml", "doctype", "malformed"]

# In UTF-8 (and ASCII-compatible encodings) a declaration is these bytes; NUL bytes mean an
# encoding (UTF-16, UTF-32) in which the scan could miss one, so those are refused too.
_DECLARATION = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_PLACE_SUFFIX = re.compile(r", line \d+, column \d+$")
_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
    collect_ids=False,
)


@dataclass(frozen=True)
class XmlRefused(Exception):
    kind: Refusal
    message: str
    line: int | None = None
    column: int | None = None


@dataclass(frozen=True)
class Wording:
    """How the caller's users name the document, for the messages."""

    document: str  # "the document", "the statement"
    needs_no_doctype: str  # "UBL needs none"
    encoding_hint: str  # "(PEPPOL requires UTF-8)"
    empty: str  # "the document is empty"


def parse_untrusted(data: bytes, max_bytes: int, wording: Wording) -> etree._Element:
    """The root of a well-formed document without DTD, or XmlRefused saying why and where."""
    if len(data) > max_bytes:
        raise XmlRefused(
            "too_large",
            f"{wording.document} has {len(data):,} bytes; at most {max_bytes:,} are accepted",
        )
    if b"\x00" in data[:4096]:
        raise XmlRefused(
            "not_xml", f"{wording.document} is not UTF-8 text {wording.encoding_hint}", 1
        )
    if not data.strip():
        raise XmlRefused("not_xml", wording.empty, 1)
    declared = _DECLARATION.search(data)
    if declared is not None:
        raise XmlRefused(
            "doctype",
            f"a DOCTYPE or ENTITY declaration is not allowed ({wording.needs_no_doctype}); "
            f"{wording.document} was refused unread",
            data.count(b"\n", 0, declared.start()) + 1,
        )
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        line, column = exc.position
        # libxml2 appends ", line L, column C" to its message; the refusal carries those.
        message = _PLACE_SUFFIX.sub("", exc.msg or "")
        raise XmlRefused(
            "malformed", f"not well-formed XML: {message}", line or None, column or None
        ) from None
    if root.getroottree().docinfo.doctype:  # belt and braces: an encoding the scan missed
        raise XmlRefused("doctype", "a DOCTYPE is not allowed", 1)
    return root
