"""Receivables: bringing debtors and open items in (docs/receivables.md)."""
