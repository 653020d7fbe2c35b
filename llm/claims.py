"""The claim check: every sentence of a generated answer, decided against the passages the model was given.

A model can put a wrong number above the right quote. Similarity alone cannot catch that ("6 weeks" and "8 weeks"
embed almost alike), so a sentence is supported only when a source sentence is close to it in meaning (MiniLM,
plus shared words) **and** passes strict checks against that source: every number, amount, date, duration and
unit it states is stated there too (30 and thirty are equal; 3万円 is 30,000 yen); it denies nothing the source
affirms and affirms nothing the source denies ("are not refunded" → "are refunded", "never" → "can"); the names
and roles it mentions are the source's ("support lead" → "CFO", 部長 → 社長); and most of its content words are
found there (a promise the sources never make is not). A sentence that carries `[n]` is checked against passage
n first; a sentence without one, against all of them, and the passage that supports it becomes its citation."""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np

from llm.evidence import split_sentences
from retrieval.embed import DenseEmbedder, MecabBm25, is_cjk
from retrieval.types import SearchHit

_MARKER = re.compile(r"\s*\[(\d{1,2})\]")
_ANSWER_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[A-Z0-9*])|(?<=[。！？])")
SIMILAR_ENOUGH = 0.55  # cosine of a supported sentence to its best source sentence (bench/grounding.py)
COVERED_ENOUGH = 0.6  # share of the sentence's content words found in the source
UNRELATED_BELOW = 0.45  # under this, the closest source sentence is about something else

_NUMBER_WORDS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "a dozen": 12, "half": 0.5,
}
_KANJI_SCALE = {"万": 10_000, "億": 100_000_000, "千": 1_000}
_QUANTITY = re.compile(
    r"(?P<number>\d+(?:[.,]\d+)*(?:\.\d+)?|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")"
    r"\s*(?P<scale>万|億|千|thousand|million|billion)?\s*-?\s*(?P<unit>%|percent|円|yen|ドル|dollars?|usd|eur|euros?|"
    r"days?|日間?|weeks?|週間?|months?|か月|ヶ月|カ月|years?|年間?|hours?|時間|minutes?|分|gb|tb|mb|ポイント|"
    r"percent|times?|回|人|名|件|pages?|ページ)?",
    re.IGNORECASE)
_UNITS = {"percent": "%", "円": "yen", "dollar": "usd", "dollars": "usd", "ドル": "usd", "euro": "eur", "euros": "eur",
          "day": "day", "days": "day", "日": "day", "日間": "day", "week": "week", "weeks": "week", "週": "week",
          "週間": "week", "month": "month", "months": "month", "か月": "month", "ヶ月": "month", "カ月": "month",
          "year": "year", "years": "year", "年": "year", "年間": "year", "hour": "hour", "hours": "hour",
          "時間": "hour", "minute": "minute", "minutes": "minute", "分": "minute", "time": "times", "回": "times",
          "page": "page", "pages": "page", "ページ": "page", "名": "people", "人": "people"}
_SCALES = {"thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000, **_KANJI_SCALE}
_MONTHS = ("january february march april may june july august september october november december").split()
_NEGATION_EN = re.compile(r"\b(?:not|no|never|cannot|can't|won't|isn't|aren't|don't|doesn't|didn't|without|"
                          r"neither|nor|none|nothing|unable|non-refundable|nonrefundable)\b|n't\b", re.IGNORECASE)
_NEGATION_JA = re.compile(r"ない|ません|ず(?:に|、|。)|不可|できません|禁止|対象外|なし|無し")
_MODAL_EN = re.compile(r"\b(?:may|can|could|might|must|should|always|only)\b", re.IGNORECASE)
_ROLES = ("ceo cfo cto coo cio president chairman chairwoman director manager lead head supervisor officer "
          "administrator admin owner founder partner vice intern contractor auditor").split()
_ROLES_JA = ("社長", "副社長", "会長", "部長", "課長", "係長", "主任", "取締役", "役員", "執行役員", "本部長", "室長",
             "店長", "担当者", "上長", "人事", "総務", "経理")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")
_STOP = frozenset(
    "the a an and or for are was were can could how what when where which who why does did with from that this "
    "these those into have has had you your our per any all not but its may must will would should about also "
    "there their they them then than each every more most such only just very some other both is be been being "
    "of to in on at by as it we us if so do get gets got up out over under within after before".split())


@dataclass
class Claim:
    """One sentence of an answer and the verdict on it."""

    text: str
    supported: bool
    citations: list[int] = field(default_factory=list)
    evidence: str = ""  # the source sentence it was checked against
    score: float = 0.0  # cosine similarity to that sentence
    reason: str = ""  # why it is not supported, said for the reader

    def to_json(self) -> dict:
        return dict(self.__dict__)


def answer_sentences(answer: str) -> list[str]:
    """The checkable sentences of an answer: list items and sentences (English and Japanese), headings ignored."""
    sentences = []
    for line in answer.splitlines():
        line = line.strip()
        if not line or re.match(r"^#{1,6}\s", line) or re.fullmatch(r"[-*_=|: ]+", line):
            continue
        line = re.sub(r"^(?:[-*+•]|\d+[.)])\s+", "", line)
        sentences.extend(part.strip() for part in _ANSWER_SENTENCE.split(line) if part.strip())
    return [s for s in sentences if len(_MARKER.sub("", s).strip(" *_\"'“”")) >= 3]


def _number(text: str) -> float | None:
    text = text.lower()
    if text in _NUMBER_WORDS:
        return float(_NUMBER_WORDS[text])
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def quantities(text: str) -> set[tuple[float, str]]:
    """Every number stated, with its unit: (30.0, 'day'), (30000.0, 'yen'), (18.0, ':') for a time, (3.0, 'march')
    for a date. Numbers that are part of a citation marker are not claims."""
    text = unicodedata.normalize("NFKC", _MARKER.sub(" ", text))
    found: set[tuple[float, str]] = set()
    for hour, minute in re.findall(r"\b(\d{1,2}):(\d{2})\b", text):
        found.add((float(hour) + float(minute) / 60, "time"))
    text = re.sub(r"\b\d{1,2}:\d{2}\b", " ", text)
    for month, day in re.findall(r"\b(" + "|".join(_MONTHS) + r")\s+(\d{1,2})\b", text, re.IGNORECASE):
        found.add((float(day), month.lower()))
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


def _differing_quantities(claim: str, source: str) -> list[tuple[float, str]]:
    """What the claim states that the source does not: a unitless number matches the same number with any unit."""
    stated = quantities(source)
    values = {value for value, _ in stated}
    return [(value, unit) for value, unit in quantities(claim)
            if (value, unit) not in stated and not (unit == "" and value in values)
            and not any(value == v and u == "" for v, u in stated)]


def _negated(text: str) -> bool:
    return bool(_NEGATION_JA.search(text) if is_cjk(text) else _NEGATION_EN.search(text))


def _roles(text: str) -> set[str]:
    lower = text.lower()
    found = {role for role in _ROLES if re.search(rf"\b{role}s?\b", lower)}
    return found | {role for role in _ROLES_JA if role in text}


def _names(text: str) -> set[str]:
    """Capitalised words that are not at a sentence start: people, products, companies."""
    words = re.findall(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-zA-Z]{2,}\b", text.strip())
    return {w for w in words if w.lower() not in _STOP}


@functools.cache
def _mecab() -> MecabBm25:
    return MecabBm25()


def content_words(text: str) -> set[str]:
    """The words that carry meaning (MeCab's dictionary forms for Japanese), first five letters of English ones."""
    text = _MARKER.sub(" ", text)
    if is_cjk(text):
        return {w.lower() for w in _mecab().words(text) if len(w) > 1 or re.match(r"[\u3400-\u9fff]", w)}
    return {w.lower()[:5] for w in _WORD.findall(text) if w.lower() not in _STOP and len(w) > 2}


def _problem(claim: str, source: str, similarity: float) -> str:
    """Why `source` does not support `claim`, or "" when it does."""
    changed = _differing_quantities(claim, source)
    if changed and similarity >= UNRELATED_BELOW:
        stated = sorted(quantities(source))
        if not stated:
            return f"the sources do not state {_shown(changed[0])}"
        return f"the sources say {', '.join(_shown(q) for q in stated)}, not {_shown(changed[0])}"
    if similarity < UNRELATED_BELOW:
        return "not found in your documents"
    if _negated(claim) != _negated(source):
        return "the sources say the opposite" if _negated(source) else "the sources do not say this is excluded"
    extra_roles = _roles(claim) - _roles(source)
    if extra_roles:
        return f"the sources do not name {', '.join(sorted(extra_roles))} here"
    extra_names = {n for n in _names(claim) if n.lower() not in source.lower()}
    if extra_names:
        return f"the sources do not mention {', '.join(sorted(extra_names))}"
    words = content_words(claim)
    covered = len(words & content_words(source)) / len(words) if words else 1.0
    if similarity < SIMILAR_ENOUGH or covered < COVERED_ENOUGH:
        return "not found in your documents"
    if _MODAL_EN.search(claim) and not is_cjk(claim):
        modals = {m.lower() for m in _MODAL_EN.findall(claim)} - {m.lower() for m in _MODAL_EN.findall(source)}
        if modals & {"always", "only", "must", "never"}:
            return f"the sources do not say “{sorted(modals)[0]}”"
    return ""


def _shown(quantity: tuple[float, str]) -> str:
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


class ClaimChecker:
    """Decides each sentence of an answer against the passages the model saw. Owns nothing but the embedder."""

    def __init__(self, embedder: DenseEmbedder) -> None:
        self.embedder = embedder

    def check(self, answer: str, passages: list[SearchHit]) -> list[Claim]:
        sentences = answer_sentences(answer)
        sources = [(n, s) for n, hit in enumerate(passages, 1) for s in _source_sentences(hit.chunk.text)]
        if not sentences:
            return []
        if not sources:
            return [Claim(s, False, reason="not found in your documents") for s in sentences]
        claims_text = [_MARKER.sub("", s).strip() for s in sentences]
        vectors = self.embedder.embed(claims_text + [s for _, s in sources])
        claim_vectors, source_vectors = vectors[: len(sentences)], vectors[len(sentences):]
        similarities = claim_vectors @ source_vectors.T
        return [self._decide(text, [int(n) for n in _MARKER.findall(sentence)], row, sources)
                for sentence, text, row in zip(sentences, claims_text, similarities)]

    @staticmethod
    def _decide(text: str, cited: list[int], similarities: np.ndarray, sources: list[tuple[int, str]]) -> Claim:
        """Supported by a source sentence it cites if one passes; else by any passage (the citation is corrected);
        else unsupported, with the reason from the closest source sentence."""
        words = content_words(text)
        overlap = np.array([len(words & content_words(s)) / len(words) if words else 0.0 for _, s in sources])
        order = np.argsort(-(similarities + 0.3 * overlap))
        ranked = [i for i in order if sources[i][0] in cited] + [i for i in order if sources[i][0] not in cited]
        for index in ranked[:8]:
            n, source = sources[index]
            if not _problem(text, source, float(similarities[index])):
                return Claim(text, True, [n], source, round(float(similarities[index]), 3))
        best = ranked[0]
        n, source = sources[best]
        return Claim(text, False, [], source, round(float(similarities[best]), 3),
                     _problem(text, source, float(similarities[best])))


def _source_sentences(text: str) -> list[str]:
    """A passage's sentences, and each pair of neighbours joined: answers often merge two source sentences."""
    sentences = split_sentences(text)
    return sentences + [f"{a} {b}" for a, b in zip(sentences, sentences[1:])]


def grounded_share(claims: list[Claim]) -> float | None:
    """Share of an answer's sentences that are supported; None when there is nothing to check."""
    return round(sum(c.supported for c in claims) / len(claims), 3) if claims else None
