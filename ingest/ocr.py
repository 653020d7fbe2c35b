"""Text from scanned pages and images: Tesseract (Debian's tesseract-ocr, -jpn and -jpn-vert packages), called
through pytesseract. Only pages without a text layer are read this way; a PDF that mixes both keeps its text layer.
Each page's text comes with Tesseract's mean word confidence (0-100), which travels with its chunks. The languages
(KURA_OCR_LANGUAGES, default English and Japanese) are set around one parse by `reading`, so nested parses (an
e-mail's scanned attachment) use the same ones."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass

from ingest.documents import ParseError

DEFAULT_LANGUAGES = "eng+jpn"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
_languages: ContextVar[str] = ContextVar("ocr_languages", default=DEFAULT_LANGUAGES)


@contextlib.contextmanager
def reading(languages: str | None) -> Iterator[None]:
    """Within this block, OCR reads these languages (Tesseract codes joined by '+'); None keeps the current ones."""
    token = _languages.set(languages) if languages else None
    try:
        yield
    finally:
        if token is not None:
            _languages.reset(token)


@dataclass(frozen=True)
class Recognized:
    text: str
    confidence: float  # Tesseract's mean word confidence, 0-100


def _joined(words: list[str]) -> str:
    """Words of one line: Latin words separated by spaces; Japanese (which Tesseract splits into pieces) not."""
    line = ""
    for word in words:
        if line and line[-1].isascii() and word[0].isascii():
            line += " "
        line += word
    return line


def recognize(image) -> Recognized:
    """The text of one page image (a PIL image), line by line, with its confidence."""
    import pytesseract

    languages = _languages.get()
    try:
        data = pytesseract.image_to_data(image.convert("L"), lang=languages, output_type=pytesseract.Output.DICT)
    except pytesseract.TesseractNotFoundError:
        raise ParseError(
            "this is a scanned page or an image, and reading it needs Tesseract OCR: install Debian's "
            "tesseract-ocr and tesseract-ocr-jpn packages (make setup does when it may)"
        ) from None
    except pytesseract.TesseractError as exc:
        raise ParseError(
            f"Tesseract could not read it with the languages {languages!r} (KURA_OCR_LANGUAGES): install their "
            f"tesseract-ocr-<language> packages ({str(exc.message).strip()[:120]})"
        ) from None
    lines: dict[tuple[int, int, int], list[str]] = {}
    confidences = []
    for n, word in enumerate(data["text"]):
        if word.strip():
            key = (data["block_num"][n], data["par_num"][n], data["line_num"][n])
            lines.setdefault(key, []).append(word.strip())
            confidences.append(float(data["conf"][n]))
    text = "\n".join(_joined(words) for words in lines.values())
    return Recognized(text, round(sum(confidences) / len(confidences), 1) if confidences else 0.0)
