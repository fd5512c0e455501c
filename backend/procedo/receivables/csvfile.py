"""Reading the CSV exports of an ERP: debtors and open items, each cell checked with its place.

A file has a header line naming its columns (any order, any case; unknown
columns are refused, so a typo is not silently dropped). The delimiter is a
comma or a semicolon (what Excel writes in NL/DE/BE), read from the header.
Every problem is reported as ``line L, column C (name): what is wrong; what to
do``; lines count from 1 at the header, as a text editor shows them.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO, Final

from procedo.db.receivables import ITEM_KINDS, ITEM_STATUSES

Params = dict[str, str | int]


class CsvProblem(ValueError):
    """A cell (or line) that cannot be read.

    ``code`` and ``params`` say the same as ``message`` for a screen that words it in
    the user's language (the designer's import dialog): ``date`` with ``value``.
    """

    def __init__(
        self,
        line: int,
        column: int | None,
        name: str | None,
        message: str,
        code: str = "invalid",
        params: Params | None = None,
    ) -> None:
        self.line, self.column, self.name = line, column, name
        self.message, self.code, self.params = message, code, params or {}
        where = f"line {line}" + (f", column {column} ({name})" if column is not None else "")
        super().__init__(f"{where}: {message}")


class CellError(ValueError):
    """A cell's value refused by its column's parser: the message, its code and values."""

    def __init__(self, code: str, message: str, **params: str | int) -> None:
        super().__init__(message)
        self.code, self.params = code, params


Parse = Callable[[str], Any]


@dataclass(frozen=True)
class Column:
    name: str
    parse: Parse
    required: bool = False


_AMOUNT: Final = re.compile(r"^-?[0-9]{1,16}(?:[.,][0-9]{1,2})?$")
_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CURRENCY: Final = re.compile(r"^[A-Z]{3}$")
_NUMBER: Final = re.compile(r"^[^\x00-\x1f]{1,64}$")
CONTACT_METHODS: Final = ("email", "letter", "phone", "any")
MAX_TEXT: Final = 1000


def text(value: str) -> str:
    if len(value) > MAX_TEXT:
        raise CellError(
            "too_long", f"is {len(value)} characters long; at most {MAX_TEXT}", length=len(value)
        )
    return value


def document_number(value: str) -> str:
    if not _NUMBER.match(value):
        raise CellError("number", "must be 1 to 64 characters, without control characters")
    return value


def amount(value: str) -> Decimal:
    if not _AMOUNT.match(value):
        raise CellError(
            "amount",
            f"{value!r} is no amount; write digits with at most two decimals after a point "
            "or comma, without thousands separators (1234.50)",
            value=value,
        )
    return Decimal(value.replace(",", "."))


def iso_date(value: str) -> dt.date:
    try:
        if len(value) != 10:
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CellError(
            "date", f"{value!r} is no date; write YYYY-MM-DD (2026-03-31)", value=value
        ) from None


def email(value: str) -> str:
    if not _EMAIL.match(value) or len(value) > 254:
        raise CellError("email", f"{value!r} is no email address", value=value)
    return value


def currency(value: str) -> str:
    if not _CURRENCY.match(value):
        raise CellError(
            "currency", f"{value!r} is no currency; write its ISO 4217 code (EUR)", value=value
        )
    return value


def one_of(*allowed: str) -> Parse:
    def parse(value: str) -> str:
        if value not in allowed:
            shown = ", ".join(allowed)
            raise CellError(
                "one_of", f"{value!r} is not one of {shown}", value=value, allowed=shown
            )
        return value

    return parse


def yes_no(value: str) -> bool:
    lowered = value.lower()
    if lowered in ("true", "yes", "ja", "1"):
        return True
    if lowered in ("false", "no", "nee", "nein", "0"):
        return False
    raise CellError("yes_no", f"{value!r} is neither yes nor no; write true or false", value=value)


DEBTOR_COLUMNS: Final = (
    Column("number", document_number, required=True),
    Column("name", text, required=True),
    Column("email", email),
    Column("phone", text),
    Column("address", text),
    Column("preferred_contact", one_of(*CONTACT_METHODS)),
    Column("credit_limit", amount),
    Column("account_manager_email", email),
    Column("sales_rep_email", email),
    Column("problematic", yes_no),
    *(Column(f"custom_{n}", text) for n in range(1, 8)),
)
OPEN_ITEM_COLUMNS: Final = (
    Column("debtor_number", document_number, required=True),
    Column("number", document_number, required=True),
    Column("kind", one_of(*ITEM_KINDS)),
    Column("issue_date", iso_date, required=True),
    Column("due_date", iso_date, required=True),
    Column("amount", amount, required=True),
    Column("open_amount", amount, required=True),
    Column("currency", currency),
    Column("status", one_of(*ITEM_STATUSES)),
)


@dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, Any]  # every column of the format; None where the cell is empty
    present: tuple[str, ...]  # the columns the file has, in its order

    def column_of(self, name: str) -> int | None:
        return self.present.index(name) + 1 if name in self.present else None


def read_rows(source: Path | BinaryIO, columns: tuple[Column, ...]) -> Iterator[Row | CsvProblem]:
    """Each data line as a Row, or the first problem in it; a bad header stops the file.

    ``source`` is a file's path (the command) or an open binary file (an upload).
    """
    with source.open("rb") if isinstance(source, Path) else nullcontext(source) as raw:
        lines = _numbered(raw)
        try:
            header_line, header = next(lines)
        except StopIteration:
            yield CsvProblem(
                1, None, None, "the file is empty; the first line names the columns", "empty_file"
            )
            return
        delimiter = ";" if header.count(";") > header.count(",") else ","
        names = next(csv.reader([header], delimiter=delimiter))
        found = _check_header(names, columns, header_line)
        if isinstance(found, CsvProblem):
            yield found
            return
        present = tuple(column.name for column in found)
        for number, line in lines:
            if not line.strip():
                continue
            try:
                cells = next(csv.reader([line], delimiter=delimiter, strict=True))
            except csv.Error as exc:
                yield CsvProblem(number, None, None, f"cannot be read as CSV ({exc})", "not_csv")
                continue
            yield _row(number, cells, found, columns, present)


def _numbered(raw: BinaryIO) -> Iterator[tuple[int, str]]:
    """(line number, text) per record; a quoted cell may span lines, reported at its first.

    Lines are decoded one by one, so a byte that is not UTF-8 is reported on its line.
    """
    pending, start = "", 0
    for number, data in enumerate(raw, start=1):
        try:
            line = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CsvProblem(
                number,
                None,
                None,
                f"is not UTF-8 ({exc.reason}); save the file as UTF-8",
                "not_utf8",
            ) from None
        if number == 1:
            line = line.removeprefix("\ufeff")  # the byte-order mark Excel writes
        if not pending:
            start = number
        pending += line
        if pending.count('"') % 2 == 0:  # outside quotes: the record is complete
            yield start, pending.rstrip("\r\n")
            pending = ""
    if pending:
        yield start, pending


def _check_header(
    names: list[str], columns: tuple[Column, ...], line: int
) -> list[Column] | CsvProblem:
    known = {column.name: column for column in columns}
    found: list[Column] = []
    for index, raw_name in enumerate(names, start=1):
        name = raw_name.strip().lower()
        if name not in known:
            expected = ", ".join(column.name for column in columns)
            return CsvProblem(
                line,
                index,
                raw_name,
                f"is not a column of this file; the columns are {expected}",
                "unknown_column",
                {"expected": expected},
            )
        if known[name] in found:
            return CsvProblem(line, index, raw_name, "is named twice; keep one", "column_twice")
        found.append(known[name])
    missing = [c.name for c in columns if c.required and c not in found]
    if missing:
        shown = ", ".join(missing)
        return CsvProblem(
            line,
            None,
            None,
            f"the header lacks the column(s) {shown}",
            "missing_columns",
            {"missing": shown},
        )
    return found


def _row(
    number: int,
    cells: list[str],
    found: list[Column],
    columns: tuple[Column, ...],
    present: tuple[str, ...],
) -> Row | CsvProblem:
    if len(cells) != len(found):
        return CsvProblem(
            number,
            None,
            None,
            f"has {len(cells)} cells where the header names {len(found)}",
            "cell_count",
            {"cells": len(cells), "expected": len(found)},
        )
    values: dict[str, Any] = {column.name: None for column in columns}
    for index, (column, cell) in enumerate(zip(found, cells, strict=True), start=1):
        value = cell.strip()
        if not value:
            if column.required:
                return CsvProblem(
                    number, index, column.name, "is empty; it is required", "required"
                )
            continue
        try:
            values[column.name] = column.parse(value)
        except CellError as exc:
            return CsvProblem(number, index, column.name, str(exc), exc.code, exc.params)
        except ValueError as exc:
            return CsvProblem(number, index, column.name, str(exc))
    return Row(number, values, present)
