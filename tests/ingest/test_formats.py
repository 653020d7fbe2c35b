"""Each format beyond the foundation's five, made here with its real writer library, keeps what a citation
needs: slide numbers and notes, sheet names with row ranges, column names on every table row, headings, mail
attachments."""

from __future__ import annotations

import zipfile
from email.message import EmailMessage

import pytest

from ingest import ParseError, parse


def test_pptx_slides_become_pages_with_titles_tables_and_notes(tmp_path):
    from pptx import Presentation
    from pptx.util import Inches

    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Quarterly results"
    slide.placeholders[1].text = "Revenue grew 12 percent."
    slide.notes_slide.notes_text_frame.text = "Mention the Osaka office."
    table = deck.slides.add_slide(deck.slide_layouts[5])
    table.shapes.title.text = "Prices"
    grid = table.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(4), Inches(1)).table
    for (r, c), text in {(0, 0): "Plan", (0, 1): "Price", (1, 0): "Team", (1, 1): "1,200 yen"}.items():
        grid.cell(r, c).text = text
    deck.save(tmp_path / "deck.pptx")
    document = parse(tmp_path / "deck.pptx")
    first, second = document.sections
    assert (first.page, first.heading) == (1, "Slide 1: Quarterly results")
    assert "Revenue grew 12 percent." in first.text and "Notes: Mention the Osaka office." in first.text
    assert second.page == 2 and "Plan: Team | Price: 1,200 yen" in second.text, "a table row keeps its column names"


def test_spreadsheet_rows_keep_their_column_names_and_sheet(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Offices"
    sheet.append(["City", "Staff", "Opened"])
    for i in range(90):
        sheet.append([f"City {i}", i, 2000 + i % 20])
    book.save(tmp_path / "offices.xlsx")
    sections = parse(tmp_path / "offices.xlsx").sections
    assert [s.heading for s in sections] == [
        "Sheet Offices > rows 2-41",
        "Sheet Offices > rows 42-81",
        "Sheet Offices > rows 82-91",
    ]
    assert sections[0].text.splitlines()[0] == "City: City 0 | Staff: 0 | Opened: 2000"


@pytest.mark.parametrize(
    "name, content", [("prices.csv", "plan;price\nTeam;1200\n"), ("prices.tsv", "plan\tprice\nTeam\t1200\n")]
)
def test_csv_and_tsv_are_read_with_their_delimiter(tmp_path, name, content):
    (tmp_path / name).write_text(content, encoding="cp1252")
    assert parse(tmp_path / name).sections[0].text == "plan: Team | price: 1200"


def test_odt_headings_and_paragraphs(tmp_path):
    content = (
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:text>'
        '<text:h text:outline-level="1">Travel</text:h><text:p>Book trains early.</text:p>'
        "</office:text></office:body></office:document-content>"
    )
    with zipfile.ZipFile(tmp_path / "travel.odt", "w") as archive:
        archive.writestr("content.xml", content)
    (section,) = parse(tmp_path / "travel.odt").sections
    assert section.heading == "Travel" and "Book trains early." in section.text


def test_epub_chapters_in_reading_order(tmp_path):
    with zipfile.ZipFile(tmp_path / "book.epub", "w") as archive:
        archive.writestr(
            "META-INF/container.xml",
            '<container><rootfiles><rootfile full-path="OEBPS/book.opf"/></rootfiles></container>',
        )
        archive.writestr(
            "OEBPS/book.opf",
            "<package><metadata><title>Guide</title></metadata><manifest>"
            '<item id="b" href="b.xhtml"/><item id="a" href="a.xhtml"/></manifest>'
            '<spine><itemref idref="a"/><itemref idref="b"/></spine></package>',
        )
        archive.writestr("OEBPS/a.xhtml", "<html><body><h1>One</h1><p>First chapter.</p></body></html>")
        archive.writestr("OEBPS/b.xhtml", "<html><body><h1>Two</h1><p>Second chapter.</p></body></html>")
    document = parse(tmp_path / "book.epub")
    assert document.title == "Guide" and [s.heading for s in document.sections] == ["One", "Two"]


def test_rtf_text(tmp_path):
    (tmp_path / "memo.rtf").write_text(r"{\rtf1\ansi {\b Memo}\par The canteen opens at 11.\par}")
    assert "The canteen opens at 11." in parse(tmp_path / "memo.rtf").sections[0].text


def test_an_email_keeps_its_headers_and_its_attachments_become_cited_sections(tmp_path):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "mei@example.com", "support@example.com", "Invoice"
    message.set_content("Please find the invoice attached.")
    message.add_attachment(b"Invoice total: 12,000 yen", maintype="text", subtype="plain", filename="invoice.txt")
    (tmp_path / "mail.eml").write_bytes(bytes(message))
    document = parse(tmp_path / "mail.eml")
    body, attachment = document.sections
    assert document.title == "Invoice" and "From: mei@example.com" in body.text and "invoice attached" in body.text
    assert attachment.heading == "Attachment: invoice.txt" and "12,000 yen" in attachment.text


@pytest.mark.parametrize("name, advice", [("old.doc", ".docx"), ("old.ppt", ".pptx")])
def test_legacy_office_files_say_how_to_convert_them(tmp_path, name, advice):
    (tmp_path / name).write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(ParseError, match=f"save it as {advice}"):
        parse(tmp_path / name)
