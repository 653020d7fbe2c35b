"""Each supported format becomes sections with the heading path or page a citation needs;
unreadable files raise ParseError with a reason a person can act on."""

from __future__ import annotations

import pypdf
import pytest

from ingest.documents import ParseError, decode_text
from ingest.formats import parse
from tests.conftest import SAMPLES


def test_markdown_sections_carry_their_heading_path():
    doc = parse(SAMPLES / "policies" / "leave-and-time-off.md")
    assert doc.title == "Leave and Time Off"
    by_heading = {s.heading: s.text for s in doc.sections}
    assert "Leave and Time Off > Paid Time Off" in by_heading
    assert "25 days of paid time off" in by_heading["Leave and Time Off > Paid Time Off"]


def test_pdf_keeps_page_numbers():
    doc = parse(SAMPLES / "policies" / "onboarding-guide.pdf")
    assert doc.title == "Onboarding Guide"
    pages = {s.page: s.text for s in doc.sections}
    assert set(pages) == {1, 2}
    assert "25th of each month" in pages[2]
    assert "Shibuya office" in pages[1]


def test_docx_keeps_headings_and_table_rows():
    doc = parse(SAMPLES / "policies" / "code-of-conduct.docx")
    assert doc.title == "Code Of Conduct"
    gifts = next(s for s in doc.sections if s.heading.endswith("Gifts and Hospitality"))
    assert gifts.heading == "Code of Conduct > Gifts and Hospitality"
    assert "10,000 yen" in gifts.text
    assert any("Channel: Ethics hotline | Contact: 0120-000-123 | Anonymous: Yes" in s.text for s in doc.sections)


def test_html_drops_boilerplate_and_tracks_headings(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(
        "<html><head><title>Travel FAQ</title><script>var tracking = 1;</script></head><body>"
        "<nav>Home | About</nav><h1>Travel</h1><p>Book through the travel desk.</p>"
        "<h2>Hotels</h2><p>The hotel limit is 18,000 yen.</p><footer>© Aozora</footer></body></html>"
    )
    doc = parse(page)
    assert doc.title == "Travel FAQ"
    text = " ".join(s.text for s in doc.sections)
    assert "tracking" not in text and "Home | About" not in text and "©" not in text
    hotels = next(s for s in doc.sections if "hotel limit" in s.text)
    assert hotels.heading == "Travel > Hotels"


def test_text_in_utf16_and_cp1252_is_decoded(tmp_path):
    utf16 = tmp_path / "notes.txt"
    utf16.write_bytes("Résumé du congé: 25 jours".encode("utf-16"))
    assert "Résumé du congé" in parse(utf16).sections[0].text
    french = (
        "Le café crème est servi à la cafétéria du siège. Les employés reçoivent vingt-cinq jours de congés "
        "payés par année civile; les congés non utilisés peuvent être reportés. Très bien, merci à tous."
    )
    assert decode_text(french.encode("cp1252"), utf16) == french


def test_encrypted_pdf_is_refused_with_a_clear_reason(tmp_path):
    writer = pypdf.PdfWriter(clone_from=str(SAMPLES / "policies" / "onboarding-guide.pdf"))
    writer.encrypt(user_password="secret", owner_password="owner")
    locked = tmp_path / "locked.pdf"
    with locked.open("wb") as handle:
        writer.write(handle)
    with pytest.raises(ParseError, match="encrypted"):
        parse(locked)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("broken.docx", b"this is not a zip archive", "not a valid DOCX"),
        ("broken.pdf", b"%PDF-1.4 garbage without objects", "PDF"),
        ("script.exe", b"MZ", "unsupported file type"),
    ],
)
def test_bad_files_raise_parse_error(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ParseError, match=reason):
        parse(path)


def test_a_heading_is_the_sections_label_never_glued_onto_its_text():
    """In every format with headings, the heading goes to the heading path; the text under it stays its own,
    so a quote never reads "Payroll Salaries are paid…"."""
    from ingest.html import html_document

    document = html_document("<h1>Handbook</h1><h2>Payroll</h2><p>Salaries are paid on the 25th.</p>", "x")
    [section] = document.sections
    assert (section.heading, section.text) == ("Handbook > Payroll", "Salaries are paid on the 25th.")


def test_table_rows_keep_their_column_names_so_a_quoted_row_is_understood(tmp_path):
    """A quote “Starter | 5 USD” says nothing; “Plan: Starter | Price: 5 USD” does."""
    import docx

    from ingest.html import html_document

    page = html_document(
        "<table><tr><th>Plan</th><th>Price</th></tr><tr><td>Starter</td><td>5 USD</td></tr></table>", "plans"
    )
    assert "Plan: Starter | Price: 5 USD" in page.sections[0].text
    document = docx.Document()
    table = document.add_table(rows=2, cols=2)
    for cell, text in zip(table._cells, ["Plan", "Price", "Business", "12 USD"]):
        cell.text = text
    document.save(tmp_path / "plans.docx")
    assert "Plan: Business | Price: 12 USD" in parse(tmp_path / "plans.docx").sections[0].text
