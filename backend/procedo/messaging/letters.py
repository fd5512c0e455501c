"""Letters as PDF: A4 on the tenant's letterhead, the address placed for a window envelope.

Layout after DIN 5008 form B, which fits the common DL/C5 window envelopes (and the
Dutch NEN 1026 window, 20-22 mm from the left): the address field starts 45 mm from
the top and 20 mm from the left, 85 x 45 mm, with the sender's return line in its
first 5 mm and the address in its last 27.3 mm; fold marks at 105 and 210 mm and the
punch mark at 148.5 mm. The text runs from 25 mm to 20 mm from the right edge. Every
page is numbered "page n of m" in the letter's language.

fpdf2 draws it: pure Python, so nothing beyond pip is needed on a server, and it places
every line to the tenth of a millimetre, which a window envelope needs; WeasyPrint
would bring Pango and HTML layout that a letter does not use (docs/messages.md).
A print batch is one document: the font is read and subset once, not per letter.
A letter may carry the debtor's portal as a short link: printed, and as a QR code.
"""

from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Final

import segno
from fpdf import FPDF
from PIL import Image

from procedo import formats
from procedo.messaging.epc import payload, qr_image
from procedo.messaging.epc import qr_matrix_image as _qr_of

LEFT: Final = 25.0
RIGHT: Final = 20.0
ADDRESS_X: Final = 20.0
ADDRESS_Y: Final = 45.0
ADDRESS_W: Final = 85.0
ADDRESS_ZONE_Y: Final = ADDRESS_Y + 17.7  # below the return line and the notes zone
INFO_X: Final = 125.0
BODY_Y: Final = 98.5
FOLD_MARKS: Final = (105.0, 210.0)
PUNCH_MARK: Final = 148.5
FONT_DIRS: Final = (
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/local/share/fonts",
    "/Library/Fonts",
)

WORDS: Final = {
    "page": {"en": "Page {n} of {m}", "nl": "Pagina {n} van {m}", "de": "Seite {n} von {m}"},
    "date": {"en": "Date", "nl": "Datum", "de": "Datum"},
    "reference": {"en": "Reference", "nl": "Kenmerk", "de": "Zeichen"},
    "customer": {"en": "Customer no.", "nl": "Klantnummer", "de": "Kundennummer"},
    "portal": {
        "en": "Your open invoices online: scan the code or go to",
        "nl": "Uw openstaande facturen online: scan de code of ga naar",
        "de": "Ihre offenen Rechnungen online: Code scannen oder aufrufen",
    },
    "scan": {
        "en": "Scan to pay {amount} with your banking app",
        "nl": "Scan om {amount} te betalen met uw bankapp",
        "de": "Scannen Sie, um {amount} mit Ihrer Banking-App zu zahlen",
    },
}


@dataclass(frozen=True)
class Letterhead:
    """The tenant's paper: name and address at the top, bank details for payments."""

    name: str
    address: str = ""
    iban: str = ""
    bic: str = ""
    footer: str = ""


@dataclass(frozen=True)
class Payment:
    """What the debtor should pay, printed and put in an EPC QR code."""

    amount: Decimal
    reference: str = ""


@dataclass(frozen=True)
class Letter:
    recipient: str  # name and postal address, one line each
    subject: str
    body: str  # the rendered template: HTML-escaped text, maybe with simple tags
    date: str
    language: str = "nl"
    reference: str = ""
    customer: str = ""
    payment: Payment | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    # The debtor's portal, a short link, when the text prints it: shown with its QR code.
    portal_url: str = ""


def _font_file(name: str) -> Path | None:
    """A Unicode TrueType font: PROCEDO_LETTER_FONT_DIR first, then the usual places."""
    wanted = os.environ.get("PROCEDO_LETTER_FONT_DIR")
    for folder in ([wanted] if wanted else []) + list(FONT_DIRS):
        path = Path(folder) / name
        if path.is_file():
            return path
    return None


@cache
def _fonts() -> tuple[Path, Path] | None:
    regular, bold = _font_file("DejaVuSans.ttf"), _font_file("DejaVuSans-Bold.ttf")
    return (regular, bold) if regular and bold else None


class _Paper(FPDF):
    def __init__(self, head: Letterhead) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.head = head
        fonts = _fonts()
        if fonts:
            self.add_font("Body", "", str(fonts[0]))
            self.add_font("Body", "B", str(fonts[1]))
            self.family = "Body"
        else:  # no Unicode font: the core font, which covers Latin-1
            self.family = "Helvetica"
        self.set_margins(LEFT, 20, RIGHT)
        self.set_auto_page_break(True, margin=25)

    def text_of(self, value: str) -> str:
        if self.family == "Body":
            return value
        return value.replace("€", "EUR").encode("latin-1", "replace").decode("latin-1")

    def header(self) -> None:
        self.set_font(self.family, "B", 14)
        self.set_xy(INFO_X, 15)
        self.cell(0, 6, self.text_of(self.head.name), new_x="LMARGIN", new_y="NEXT")
        self.set_font(self.family, "", 8)
        for line in self.head.address.splitlines():
            self.set_x(INFO_X)
            self.cell(0, 3.6, self.text_of(line), new_x="LMARGIN", new_y="NEXT")
        self.set_draw_color(150)
        for y in FOLD_MARKS:
            self.line(3, y, 8, y)
        self.line(3, PUNCH_MARK, 10, PUNCH_MARK)
        if self.page_no() > 1:
            self.set_y(40)

    def footer(self) -> None:
        if self.head.footer:
            self.set_y(-18)
            self.set_font(self.family, "", 7.5)
            self.cell(0, 4, self.text_of(self.head.footer), align="C")

    def number_pages(self, first: int, language: str) -> None:
        """'Page n of m' on each page of the letter that began on page `first`."""
        last = self.page
        self.set_auto_page_break(False)  # the number sits below the break margin
        for number in range(first, last + 1):
            self.page = number
            self.set_font(self.family, "", 7.5)
            self.set_xy(LEFT, -14)
            words = WORDS["page"][_lang(language)]
            self.cell(0, 4, words.format(n=number - first + 1, m=last - first + 1), align="R")
        self.page = last
        self.set_auto_page_break(True, margin=25)


def _lang(language: str) -> str:
    return language if language in ("en", "nl", "de") else "nl"


def money(amount: Decimal, language: str) -> str:
    return formats.money(amount, _lang(language))


_BLOCK = re.compile(r"<(p|br|ul|ol|li|table|h[1-6]|div)\b", re.I)


def _as_html(body: str) -> str:
    """Plain rendered text becomes paragraphs; a body with its own tags stays as written."""
    if _BLOCK.search(body):
        return body
    paragraphs = re.split(r"\n\s*\n", body.strip())
    return "".join("<p>" + p.replace("\n", "<br>") + "</p>" for p in paragraphs)


def render(letter: Letter, head: Letterhead) -> bytes:
    """The letter as a PDF document."""
    return render_many([letter], head)


def render_many(letters: list[Letter], head: Letterhead) -> bytes:
    """Letters one after the other in one PDF, each starting on a page of its own."""
    return render_with_pages(letters, head)[0]


def render_with_pages(
    letters: list[Letter], head: Letterhead
) -> tuple[bytes, list[tuple[int, int]]]:
    """The PDF and, per letter, its first page (from 0) and its number of pages."""
    pdf = _Paper(head)
    ranges = []
    for letter in letters:
        first = pdf.page + 1
        _write(pdf, letter, head)
        pdf.number_pages(first, letter.language)
        ranges.append((first - 1, pdf.page - first + 1))
    return bytes(pdf.output()), ranges


def _write(pdf: _Paper, letter: Letter, head: Letterhead) -> None:
    lang = _lang(letter.language)
    pdf.add_page()
    # The return line, small, in the first 5 mm of the window.
    pdf.set_font(pdf.family, "", 7)
    return_line = " · ".join([head.name, *head.address.splitlines()])
    pdf.set_xy(ADDRESS_X, ADDRESS_Y + 1)
    pdf.cell(ADDRESS_W, 3, pdf.text_of(return_line)[:90])
    pdf.set_font(pdf.family, "", 10)
    pdf.set_xy(ADDRESS_X, ADDRESS_ZONE_Y)
    for line in [ln for ln in letter.recipient.splitlines() if ln.strip()][:6]:
        pdf.set_x(ADDRESS_X)
        pdf.cell(ADDRESS_W, 4.5, pdf.text_of(line.strip()), new_x="LMARGIN", new_y="NEXT")
    info = [(WORDS["date"][lang], letter.date)]
    if letter.reference:
        info.append((WORDS["reference"][lang], letter.reference))
    if letter.customer:
        info.append((WORDS["customer"][lang], letter.customer))
    pdf.set_font(pdf.family, "", 9)
    pdf.set_xy(INFO_X, ADDRESS_Y + 5)
    for label, value in info:
        pdf.set_x(INFO_X)
        pdf.cell(30, 4.5, pdf.text_of(label))
        pdf.cell(0, 4.5, pdf.text_of(value), new_x="LMARGIN", new_y="NEXT")
    pdf.set_xy(LEFT, BODY_Y)
    pdf.set_font(pdf.family, "B", 11)
    pdf.multi_cell(0, 5.5, pdf.text_of(letter.subject), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(pdf.family, "", 10)
    pdf.write_html(pdf.text_of(_as_html(letter.body)))
    if letter.portal_url:
        _portal_block(pdf, letter)
    if letter.payment and head.iban:
        _pay_block(pdf, letter, head)


def portal_qr(url: str) -> Image.Image:
    """The portal's address as a QR code (error level M), one pixel per module."""
    return _qr_of(segno.make_qr(url, error="m", boost_error=False).matrix)


def _portal_block(pdf: _Paper, letter: Letter) -> None:
    """The short link to the debtor's portal, written out and as a QR code beside it."""
    if pdf.get_y() > 297 - 25 - 30:
        pdf.add_page()
    pdf.ln(5)
    top = pdf.get_y()
    pdf.image(portal_qr(letter.portal_url), x=LEFT, y=top, w=24, h=24)
    pdf.set_xy(LEFT + 28, top + 6)
    pdf.set_font(pdf.family, "", 9)
    pdf.cell(0, 5, pdf.text_of(WORDS["portal"][_lang(letter.language)]))
    pdf.set_xy(LEFT + 28, top + 11)
    pdf.set_font(pdf.family, "B", 10)
    pdf.cell(0, 5, letter.portal_url)
    pdf.set_font(pdf.family, "", 10)
    pdf.set_y(top + 26)


def _pay_block(pdf: _Paper, letter: Letter, head: Letterhead) -> None:
    assert letter.payment is not None
    lang = _lang(letter.language)
    amount = letter.payment.amount
    data = payload(
        head.name, head.iban, amount, letter.payment.reference, letter.customer, head.bic
    )
    if pdf.get_y() > 297 - 25 - 40:
        pdf.add_page()
    pdf.ln(6)
    top = pdf.get_y()
    pdf.image(qr_image(data), x=LEFT, y=top, w=32, h=32)
    pdf.set_xy(LEFT + 36, top + 4)
    pdf.set_font(pdf.family, "", 9)
    lines = [
        WORDS["scan"][lang].format(amount=money(amount, lang)),
        f"IBAN {head.iban}" + (f" · BIC {head.bic}" if head.bic else ""),
        letter.payment.reference,
    ]
    for line in filter(None, lines):
        pdf.set_x(LEFT + 36)
        pdf.cell(0, 5, pdf.text_of(html.unescape(line)), new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(top + 34)
