"""Amounts as a reader of each language writes them: € 1.234,50 (nl, de), € 1,234.50 (en)."""

from decimal import Decimal, InvalidOperation


def euros(amount: Decimal, language: str) -> str:
    text = f"{amount.quantize(Decimal('0.01')):,.2f}"
    if language in ("nl", "de"):
        text = text.replace(",", "_").replace(".", ",").replace("_", ".")
    return f"€ {text}"


def as_amount(value: object) -> Decimal | None:
    """A number, or a text of one, as a Decimal; None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None
