"""OCR cost: seconds per scanned page, English and Japanese, through kura's parser (Tesseract via pytesseract), on
pages rendered here like tests/ingest/test_ocr.py's (tilted, blurred, speckled A4-width scans, 3 lines each), and
how close the text read is to the text rendered (difflib's similarity ratio, spaces ignored; 1.0 = identical).

    .venv/bin/python -m bench.ocr
"""

from __future__ import annotations

import difflib
import tempfile
import time
from pathlib import Path

from ingest import formats
from tests.ingest.test_ocr import ENGLISH, JAPANESE, compact, scan

PAGES = 8


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="kura-ocr-"))
    print("| language | pages | s/page | similarity to the rendered text |\n| --- | --- | --- | --- |")
    for name, lines in (("English", ENGLISH), ("Japanese", JAPANESE)):
        pages = [scan(lines, seed=n) for n in range(PAGES)]
        path = folder / f"{name}.tiff"
        pages[0].save(path, save_all=True, append_images=pages[1:])
        started = time.perf_counter()
        sections = formats.parse(path).sections
        seconds = (time.perf_counter() - started) / PAGES
        wanted = compact("".join(lines))
        found = [compact(s.text) for s in sections]
        similarity = sum(difflib.SequenceMatcher(None, wanted, text).ratio() for text in found) / PAGES
        print(f"| {name} | {PAGES} | {seconds:.2f} | {similarity:.3f} |")


if __name__ == "__main__":
    main()
