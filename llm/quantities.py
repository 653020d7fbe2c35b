"""Quantities as a sentence states them: numbers (30, thirty, 3万), units (円 = yen, 週間 = week), times and dates.
The claim check compares them between an answer and its source: "6 weeks" above a quote saying 16 is wrong."""

from __future__ import annotations

import re
import unicodedata

MARKER = re.compile(r"\s*\[(\d{1,2})\]")  # a citation [n]: its number is not a claim

_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "a dozen": 12, "half": 0.5,
}  # fmt: skip
NUMBER_STEMS = frozenset(word[:5] for word in _NUMBER_WORDS)
_KANJI_SCALE = {"万": 10_000, "億": 100_000_000, "千": 1_000}
_QUANTITY = re.compile(
    r"(?P<number>\d+(?:[.,]\d+)*(?:\.\d+)?|(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)-"
    r"(?:one|two|three|four|five|six|seven|eight|nine)|\b(?:"
    + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
    + r")\b)"
    r"\s*(?P<scale>万|億|千|thousand|million|billion)?\s*-?\s*(?P<unit>%|percent|円|yen|ドル|dollars?|usd|eur|euros?|"
    r"days?|日間?|weeks?|週間?|months?|か月|ヶ月|カ月|years?|年間?|hours?|時間|minutes?|分|gb|tb|mb|ポイント|"
    r"percent|times?|回|人|名|件|pages?|ページ)?",
    re.IGNORECASE,
)
_UNITS = {
    "percent": "%", "円": "yen", "dollar": "usd", "dollars": "usd", "ドル": "usd", "euro": "eur", "euros": "eur",
    "day": "day", "days": "day", "日": "day", "日間": "day", "week": "week", "weeks": "week", "週": "week",
    "週間": "week", "month": "month", "months": "month", "か月": "month", "ヶ月": "month", "カ月": "month", "year": "year",
    "years": "year", "年": "year", "年間": "year", "hour": "hour", "hours": "hour", "時間": "hour", "minute": "minute",
    "minutes": "minute", "分": "minute", "time": "times", "回": "times", "page": "page", "pages": "page",
    "ページ": "page", "名": "people", "人": "people",
}  # fmt: skip
_SCALES = {"thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000, **_KANJI_SCALE}
_MONTHS = [
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december",
]  # fmt: skip


def _number(text: str) -> float | None:
    text = text.lower()
    if "-" in text and all(part in _NUMBER_WORDS for part in text.split("-")):  # twenty-five
        return float(sum(_NUMBER_WORDS[part] for part in text.split("-")))
    if text in _NUMBER_WORDS:
        return float(_NUMBER_WORDS[text])
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def quantities(text: str) -> set[tuple[float, str]]:
    """Every number stated, with its unit: (30.0, 'day'), (30000.0, 'yen'), (18.0, ':') for a time, (3.0, 'march')
    for a date. Numbers that are part of a citation marker are not claims."""
    text = unicodedata.normalize("NFKC", MARKER.sub(" ", text))
    found: set[tuple[float, str]] = set()
    for hour, minute in re.findall(r"\b(\d{1,2}):(\d{2})\b", text):
        found.add((float(hour) + float(minute) / 60, "time"))
    text = re.sub(r"\b\d{1,2}:\d{2}\b", " ", text)
    dates = re.compile(r"\b(" + "|".join(_MONTHS) + r")\s+(\d{1,2})\b", re.IGNORECASE)
    for month, day in dates.findall(text):
        found.add((float(day), month.lower()))
    text = dates.sub(" ", text)
    for match in _QUANTITY.finditer(text):
        value = _number(match["number"])
        if value is None:
            continue
        scale = match["scale"]
        if scale:
            value *= _SCALES[scale.lower()]
        unit = (match["unit"] or "").lower()
        found.add((value, _UNITS.get(unit, unit)))
    return found


# Japanese counts with a counter (3回, 5人) where English names the thing counted ("three blocks", "five staff")
COUNTERS = frozenset({"times", "people"})


def differing_quantities(claim: str, source: str, across: bool = False) -> list[tuple[float, str]]:
    """What the claim states that the source does not: a number the claim gives without a unit matches the same
    number with any unit; one with a unit needs that unit (10 GB is not 10 users or 10 TB). `across` languages, a
    count with a counter also matches the bare number."""
    stated = quantities(source)
    values = {value for value, _ in stated}
    bare = {value for value, unit in stated if unit == ""}
    return [
        (value, unit)
        for value, unit in quantities(claim)
        if (value, unit) not in stated
        and not (unit == "" and value in values)
        and not (across and unit in COUNTERS and value in bare)
    ]


def shown_quantity(quantity: tuple[float, str]) -> str:
    """A quantity as a reader writes it: 16 weeks, 30,000 yen, 50%, 18:00, march 3."""
    value, unit = quantity
    number = f"{value:,.0f}" if value == int(value) else f"{value:g}"
    if unit == "time":
        return f"{int(value)}:{round((value - int(value)) * 60):02d}"
    if unit == "%":
        return f"{number}%"
    if unit in _MONTHS:
        return f"{unit.capitalize()} {number}"
    plural = "s" if unit in ("day", "week", "month", "year", "hour", "minute", "page") and value != 1 else ""
    return f"{number} {unit}{plural}".strip()
