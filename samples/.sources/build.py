"""Regenerate the sample PDF and DOCX from their markdown sources in samples/.sources/.

Run with the project's venv (fpdf2 and python-docx come with the test extras):
    .venv/bin/python samples/.sources/build.py
The outputs are committed, so users and tests never need to run this."""

from __future__ import annotations

import re
from pathlib import Path

import docx
from fpdf import FPDF

HERE = Path(__file__).parent.parent
SOURCES = Path(__file__).parent


def blocks(markdown: str):
    """(kind, level, text) for headings, paragraphs and table rows of a simple markdown file."""
    for block in re.split(r"\n\s*\n", markdown.strip()):
        lines = block.strip().splitlines()
        heading = re.match(r"(#{1,6})\s+(.*)", lines[0])
        if heading:
            yield "heading", len(heading.group(1)), heading.group(2)
        elif lines[0].startswith("|"):
            rows = [[c.strip() for c in line.strip("|").split("|")] for line in lines if not set(line) <= set("|- ")]
            yield "table", 0, rows
        else:
            yield "paragraph", 0, " ".join(line.strip() for line in lines)


def build_pdf(source: Path, target: Path) -> None:
    pdf = FPDF()
    pdf.set_title(source.stem.replace("-", " ").title())
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    for kind, level, text in blocks(source.read_text()):
        if kind == "heading":
            if level == 2 and text in ("Probation",):
                pdf.add_page()  # a second page, so page numbers in citations are exercised
            pdf.set_font("Helvetica", "B", 18 - 2 * level)
            pdf.multi_cell(0, 9, text, new_x="LMARGIN", new_y="NEXT")
        else:
            pdf.set_font("Helvetica", "", 11)
            pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)
    pdf.output(str(target))


def build_docx(source: Path, target: Path) -> None:
    document = docx.Document()
    document.core_properties.title = source.stem.replace("-", " ").title()
    for kind, level, content in blocks(source.read_text()):
        if kind == "heading":
            document.add_heading(content, level=level)
        elif kind == "table":
            table = document.add_table(rows=len(content), cols=len(content[0]))
            for r, row in enumerate(content):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
        else:
            document.add_paragraph(content)
    document.save(str(target))


if __name__ == "__main__":
    build_pdf(SOURCES / "onboarding-guide.md", HERE / "policies" / "onboarding-guide.pdf")
    build_docx(SOURCES / "code-of-conduct.md", HERE / "policies" / "code-of-conduct.docx")
