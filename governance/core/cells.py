"""The one rule for text a person may open in a spreadsheet (OWASP, "CSV injection"): every CSV and XLSX Vigil
writes goes through it.

A spreadsheet runs a cell that starts with = + - @ as a formula, and some skip a leading tab or carriage return
before looking: a model named `=HYPERLINK(...)` would become a live link in an auditor's copy of the inventory.

- In a CSV such a text gets an apostrophe in front (the character spreadsheets read as "this is text"). A text that
  already starts with an apostrophe gets one more, so the rule is undone exactly by removing one leading apostrophe
  from any cell that has one (`undo`; docs/auditors-guide.md and docs/verify_audit_log.py do it before
  recomputing the audit trail's hashes).
- A text that is only a number ("-0.25", "+3", "1e-5") is left as it is: a spreadsheet reads it as that number, not
  as a formula. Numbers (int, float, Decimal) are never touched.
- In an XLSX a text is stored as a text cell with the quote-prefix style (what Excel does for '=...): the value stays
  exact and is never a formula. openpyxl would otherwise store any text starting with "=" as a formula.
"""

import csv
import re

QUOTE = "'"
# What a spreadsheet may read as the start of a formula (OWASP's list), and the apostrophe itself (see above).
LEADING = frozenset("=+-@\t\r" + QUOTE)
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet could take this text for a formula (or it starts with the apostrophe of the rule)."""
    return text[:1] in LEADING and _NUMBER.fullmatch(text) is None


def neutralised(value):
    """A CSV cell's value: text that could be read as a formula gets a leading apostrophe; anything else as it is."""
    if isinstance(value, str) and is_formula_like(value):
        return QUOTE + value
    return value


def undo(cell: str) -> str:
    """The text as Vigil holds it, from a CSV cell Vigil wrote: one leading apostrophe removed, if there is one."""
    return cell[1:] if cell.startswith(QUOTE) else cell


class SafeWriter:
    """csv.writer whose rows go through `neutralised` cell by cell."""

    def __init__(self, stream, **options):
        self._writer = csv.writer(stream, **options)

    def writerow(self, row):
        return self._writer.writerow([neutralised(value) for value in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def writer(stream, **options) -> SafeWriter:
    return SafeWriter(stream, **options)


def xlsx_cell(sheet, value, style=None):
    """A cell for openpyxl's write-only sheets: text always stored as text (never a formula), with the quote prefix
    when a spreadsheet could take it for one; numbers and dates as they are, with `style` (a NamedStyle name)."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl makes any text starting with "=" a formula
        if is_formula_like(value):
            cell.quotePrefix = True
    if style is not None:
        cell.style = style
    return cell
