"""What a client may upload: checked by the file's own bytes, never by its name or declared type.

PDF, PNG, JPEG, CSV, XLSX and XML. A CSV must be text; an XLSX must be a zip with
the parts of a workbook and not unpack to more than it could hold; an XML is read
the one hardened way (procedo.untrusted_xml: no DTD, no entities), so a hostile
one is refused before anything else looks at it.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import Final

from procedo.untrusted_xml import Wording, XmlRefused, parse_untrusted

MAX_FILE: Final = 10 * 1024 * 1024  # per file
MAX_FILES: Final = 10  # per form post
MAX_UNPACKED: Final = 100 * 1024 * 1024  # what an XLSX may unpack to (a zip bomb is refused)
MAX_ZIP_ENTRIES: Final = 5000
ACCEPT: Final = ".pdf,.png,.jpg,.jpeg,.csv,.xlsx,.xml"

_SIGNATURES: Final = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)
_XLSX: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_WORDING: Final = Wording("the file", "none is needed", "", "the file is empty")


@dataclass(frozen=True)
class Refused(Exception):
    """Why a file is not taken: ``too_large``, ``wrong_type``, ``hostile_xml`` or ``empty``."""

    key: str


def content_type(data: bytes) -> str:
    """The type the bytes are, or Refused. The name the client gave the file is not asked."""
    if not data:
        raise Refused("empty")
    if len(data) > MAX_FILE:
        raise Refused("too_large")
    for signature, media_type in _SIGNATURES:
        if data.startswith(signature):
            return media_type
    if data.startswith(b"PK\x03\x04"):
        return _xlsx(data)
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return _xml(data)
    return _csv(data)


def _xlsx(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise Refused("wrong_type") from exc
    names = {entry.filename for entry in entries}
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise Refused("wrong_type")  # a zip, but no workbook (nor anything else we take)
    if len(entries) > MAX_ZIP_ENTRIES or sum(e.file_size for e in entries) > MAX_UNPACKED:
        raise Refused("too_large")
    return _XLSX


def _xml(data: bytes) -> str:
    try:
        parse_untrusted(data, MAX_FILE, _WORDING)
    except XmlRefused as refused:
        raise Refused("hostile_xml" if refused.kind == "doctype" else "wrong_type") from refused
    return "application/xml"


def _csv(data: bytes) -> str:
    """Text in UTF-8 (or Windows-1252, as older exports are) with lines; no binary bytes."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise Refused("wrong_type") from exc
    if any(ord(c) < 32 and c not in "\t\r\n" for c in text):
        raise Refused("wrong_type")
    return "text/csv"


EXTENSIONS: Final = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    _XLSX: ".xlsx",
    "application/xml": ".xml",
    "text/csv": ".csv",
}


def safe_name(name: str, media_type: str) -> str:
    """The client's file name as kept: printable, at most 150 characters, the type's extension."""
    kept = "".join(c for c in name if c.isprintable() and c not in '/\\:"<>|*?').strip(" .")
    stem = kept.rsplit(".", 1)[0][:150] or "upload"
    return stem + EXTENSIONS[media_type]
