"""Amounts and dates as a reader of each language writes them (Babel's CLDR data).

``money(Decimal("1234.5"), "de")`` is ``1.234,50 €``, in ``nl`` ``€ 1.234,50``, in
``en`` ``€1,234.50``; ``long_date`` is ``3. Dezember 2026``, ``3 december 2026``,
``3 December 2026``. Letters and the templates' ``money`` and ``date`` filters use them.
"""

import datetime as dt
from decimal import Decimal, InvalidOperation

from babel.dates import format_date
from babel.numbers import format_currency

# The locale a language is written in; the tenant's country does not change it.
LOCALES = {"nl": "nl_NL", "de": "de_DE", "en": "en_GB"}


def _locale(language: str) -> str:
    return LOCALES.get(language, LOCALES["nl"])


def money(amount: Decimal, language: str) -> str:
    return _plain(format_currency(amount, "EUR", locale=_locale(language)))


def long_date(day: dt.date, language: str) -> str:
    return _plain(format_date(day, format="long", locale=_locale(language)))


def _plain(text: str) -> str:
    # CLDR's no-break spaces as plain ones: an SMS stays in the GSM alphabet (a no-break
    # space would make it UCS-2, half as long), and a text reads the same in every font.
    return str(text).replace("\u00a0", " ").replace("\u202f", " ")


def as_amount(value: object) -> Decimal | None:
    """A number, or a text of one, as a Decimal; None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def as_day(value: object) -> dt.date | None:
    """A date, or an ISO text of one (``2026-12-03``), as a date; None for anything else."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None
