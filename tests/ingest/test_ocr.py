"""Scanned documents are read, in English and Japanese. A page image is rendered here from known text, tilted,
blurred and speckled like a scan; kura finds the expected text in it, keeps page numbers and Tesseract's
confidence, reads only the pages of a PDF that have no text layer, keeps to the per-file time limit, and answers
questions from scans in both languages. Without Tesseract, a scan fails with what to install, not a traceback."""

from __future__ import annotations

import io
import random
import shutil
from pathlib import Path

import pytest

from ingest import formats
from ingest.documents import ParseError

pytestmark = [
    pytest.mark.skipif(shutil.which("tesseract") is None, reason="Tesseract is missing: apt-get install tesseract-ocr"),
    pytest.mark.slow,  # OCR of a dozen pages
]
FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
ENGLISH = ["Travel policy", "The hotel limit in Osaka is 15,000 yen per night.", "Taxis after 22:00 are reimbursed."]
JAPANESE = ["出張規程", "大阪のホテル上限は一泊一万五千円です。", "深夜のタクシー代は精算できます。"]


def scan(lines: list[str], seed: int = 1):
    """A page as a scanner would give it: text on white, tilted a little, blurred, with specks."""
    from PIL import Image, ImageDraw, ImageFilter, ImageFont

    if not Path(FONT).exists():
        pytest.skip(f"{FONT} is missing: apt-get install fonts-noto-cjk (.ci/run does)")
    page = Image.new("L", (1240, 700), 255)
    draw = ImageDraw.Draw(page)
    for n, line in enumerate(lines):
        draw.text((60, 60 + n * 52), line, font=ImageFont.truetype(FONT, 30), fill=0)
    pixels, dice = page.load(), random.Random(seed)
    for _ in range(5000):
        pixels[dice.randrange(1240), dice.randrange(700)] = dice.choice((0, 255))
    return page.rotate(0.7, fillcolor=255).filter(ImageFilter.GaussianBlur(0.6))


def compact(text: str) -> str:
    return "".join(text.split())


def test_a_scanned_english_page_is_read_with_its_confidence(tmp_path):
    scan(ENGLISH).save(tmp_path / "travel.png")
    [section] = formats.parse(tmp_path / "travel.png").sections
    assert "hotel limit in Osaka" in section.text and "15,000" in section.text
    assert section.ocr_confidence > 60 and section.page is None


def test_a_scanned_japanese_page_is_read(tmp_path):
    scan(JAPANESE).save(tmp_path / "出張規程.jpg")
    text = compact(formats.parse(tmp_path / "出張規程.jpg").sections[0].text)
    assert "大阪のホテル上限" in text and "精算できます" in text


def test_a_pdf_keeps_its_text_layer_and_reads_only_its_scanned_pages(tmp_path):
    from fpdf import FPDF

    image = io.BytesIO()
    scan(ENGLISH).save(image, format="PNG")
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Page one has a text layer: expense reports are due by the 5th.")
    pdf.add_page()
    pdf.image(image, x=0, y=0, w=210)
    pdf.output(str(tmp_path / "mixed.pdf"))
    first, second = formats.parse(tmp_path / "mixed.pdf").sections
    assert first.page == 1 and first.ocr_confidence is None and "due by the 5th" in first.text
    assert second.page == 2 and second.ocr_confidence > 60 and "hotel limit in Osaka" in second.text


def test_a_multi_page_tiff_keeps_its_page_numbers(tmp_path):
    pages = [scan(ENGLISH), scan(JAPANESE, seed=2)]
    pages[0].save(tmp_path / "fax.tiff", save_all=True, append_images=pages[1:])
    sections = formats.parse(tmp_path / "fax.tiff").sections
    assert [s.page for s in sections] == [1, 2] and "出張規程" in compact(sections[1].text)


def test_a_question_is_answered_from_a_scan(kura, tmp_path):
    from app.service import Caller

    (tmp_path / "docs").mkdir()
    scan(ENGLISH).save(tmp_path / "docs" / "travel-scan.png")
    report = kura.ingest(Caller("ops", ("everyone",), admin=True), [tmp_path / "docs"], groups=("everyone",))
    assert report.added == 1 and not report.failed
    answer = kura.ask(Caller("sam", ("everyone",)), "What is the hotel limit in Osaka?", stream=False)
    result = answer.response.result()
    assert "15,000" in result.answer and result.citations[0].source.endswith("travel-scan.png")


def test_a_japanese_question_is_answered_from_a_japanese_scan(kura, tmp_path):
    from app.service import Caller

    (tmp_path / "docs").mkdir()
    scan(JAPANESE).save(tmp_path / "docs" / "出張規程.png")
    kura.ingest(Caller("ops", ("everyone",), admin=True), [tmp_path / "docs"], groups=("everyone",))
    result = kura.ask(Caller("sam", ("everyone",)), "大阪のホテル上限はいくらですか？", stream=False).response.result()
    assert "一万五千円" in compact(result.answer) and not result.abstained


def test_reading_a_scan_keeps_to_the_per_file_time_limit(tmp_path):
    from ingest.worker import ParseOptions, parse_isolated

    pages = [scan(ENGLISH, seed=n) for n in range(6)]
    pages[0].save(tmp_path / "long-fax.tiff", save_all=True, append_images=pages[1:])
    with pytest.raises(ParseError, match="took longer than 0.5 s"):
        parse_isolated(tmp_path / "long-fax.tiff", ParseOptions(timeout_s=0.5))


def test_without_tesseract_a_scan_fails_with_what_to_install(tmp_path, monkeypatch):
    import pytesseract

    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", str(tmp_path / "no-tesseract"))
    scan(ENGLISH).save(tmp_path / "travel.png")
    with pytest.raises(ParseError, match="needs Tesseract OCR: install Debian's tesseract-ocr"):
        formats.parse(tmp_path / "travel.png")
