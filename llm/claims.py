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

import numpy as np

from llm.evidence import ACROSS_SHIFT, STOPWORDS, sentence_vectors, split_sentences
from llm.notes import Note
from llm.quantities import MARKER, NUMBER_STEMS, differing_quantities, quantities, shown_quantity
from llm.records import Claim
from retrieval.embed import MecabBm25
from retrieval.embedders import Embedder
from retrieval.languages import is_cjk
from retrieval.types import SearchHit

_ANSWER_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[\"'(\[A-Z0-9*])|(?<=[。！？])")
# reasons that contradict the sentence, not just fail to find it
CONTRADICTIONS = {"reason_says_instead", "reason_opposite", "reason_period", "reason_roles", "reason_names"}
UNRELATED_BELOW = 0.45  # cosine under which the closest source sentence is about something else (bench/grounding.py)
COVERED_ENOUGH = 0.5  # share of the sentence's content words (numbers aside) found in the source

_NEGATION_EN = re.compile(
    r"\b(?:not|no|never|cannot|can't|won't|isn't|aren't|don't|doesn't|didn't|without|"
    r"neither|nor|none|nothing|unable|non-refundable|nonrefundable)\b|n't\b",
    re.IGNORECASE,
)
_NEGATION_JA = re.compile(r"ない|ません|ず(?:に|、|。)|不可|できません|禁止|対象外|なし|無し")
_ABSOLUTES = re.compile(
    r"\b(?:only|always|never|optional|immediately|free|unlimited|anyone|automatically)\b|"
    r"のみ|だけ|不要|誰でも|いつでも|無料|直後|必ず|自由に",
    re.IGNORECASE,
)
_PERIODS = {
    "月額": "month", "毎月": "month", "per month": "month", "a month": "month", "monthly": "month", "年額": "year",
    "毎年": "year", "per year": "year", "a year": "year", "yearly": "year", "annual": "year", "annually": "year",
    "日額": "day", "per day": "day", "a day": "day", "daily": "day", "1日あたり": "day", "per night": "night",
    "1泊": "night", "a night": "night", "週": "week", "per week": "week", "weekly": "week",
}  # fmt: skip
_PERIOD = re.compile("|".join(re.escape(p) for p in sorted(_PERIODS, key=len, reverse=True)), re.IGNORECASE)
_ROLES = [
    "ceo", "cfo", "cto", "coo", "cio", "president", "chairman", "chairwoman", "director", "manager", "lead",
    "head", "supervisor", "officer", "administrator", "admin", "owner", "founder", "partner", "vice", "intern",
    "contractor", "auditor",
]  # fmt: skip
_ROLES_JA = (
    "社長", "副社長", "会長", "部長", "課長", "係長", "主任", "取締役", "役員", "執行役員", "本部長", "室長", "店長", "担当者", "上長", "人事", "総務",
    "経理",
)  # fmt: skip
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]+")
_STOP = STOPWORDS | {  # and words that never name a thing in a claim
    "a", "an", "or", "these", "those", "also", "there", "their", "they", "them", "then", "than", "each", "every",
    "more", "most", "such", "only", "just", "very", "some", "other", "both", "is", "be", "been", "being", "of",
    "to", "in", "on", "at", "by", "as", "it", "we", "us", "if", "so", "do", "get", "gets", "got", "up", "out",
    "over", "under", "within", "after", "before",
}  # fmt: skip


def answer_sentences(answer: str) -> list[str]:
    """The checkable sentences of an answer: list items and sentences (English and Japanese), headings ignored."""
    sentences = []
    for line in answer.splitlines():
        line = line.strip()
        if not line or re.match(r"^#{1,6}\s", line) or re.fullmatch(r"[-*_=|: ]+", line):
            continue
        line = re.sub(r"^(?:[-*+•]|\d+[.)])\s+", "", line)
        sentences.extend(part.strip() for part in _ANSWER_SENTENCE.split(line) if part.strip())
    return [s for s in sentences if len(MARKER.sub("", s).strip(" *_\"'“”")) >= 3]


_NOT_NEGATION_JA = re.compile(
    r"なければならない|なくてはならない|ねばならない|なければなりません|にかかわらず|かかわらず|"
    r"問わず|少なくとも|に限らず"
)


def _negated(text: str) -> bool:
    if is_cjk(text):  # obligation (〜なければならない: must) and "regardless of" are not denials
        return bool(_NEGATION_JA.search(_NOT_NEGATION_JA.sub("", text)))
    return bool(_NEGATION_EN.search(text))


def _roles(text: str) -> set[str]:
    lower = text.lower()
    found = {role for role in _ROLES if re.search(rf"\b{role}s?\b", lower)}
    return found | {role for role in _ROLES_JA if role in text}


# "According to source [1], …", "[1]によると、…", "根据[1]中的信息，…": where the model read it, not what it claims
_ATTRIBUTION = re.compile(
    r"^(?:(?:according to|based on|as (?:stated|described|mentioned|noted) in)\s+(?:the\s+)?"
    r"(?:(?:sources?|documents?|passages?|context|information)\s*)?,\s*"
    r"|(?:資料|文書|出典|情報)?[^、，,。]{0,8}(?:によると|によれば)[、，,]\s*"
    r"|(?:根据|根據)[^，,、。]{0,20}[，,、]\s*)",
    re.IGNORECASE,
)


def without_attribution(sentence: str) -> str:
    return _ATTRIBUTION.sub("", sentence, count=1) or sentence


def _names(text: str) -> set[str]:
    """Capitalised words that are not at a sentence start: people, products, companies."""
    words = re.findall(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-zA-Z]{2,}\b", text.strip())
    return {w for w in words if w.lower() not in _STOP}


@functools.cache
def _mecab() -> MecabBm25:
    return MecabBm25()


def _stem(word: str) -> str:
    """An English word's first five letters, a plural's without its s: "4 weeks" is what "a 4-week" source says."""
    return (word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word)[:5]


@functools.lru_cache(maxsize=50_000)
def content_words(text: str) -> frozenset[str]:
    """The words that carry meaning (MeCab's dictionary forms for Japanese), first five letters of English ones."""
    text = MARKER.sub(" ", text)
    if is_cjk(text):
        words = {w.lower() for w in _mecab().words(text) if len(w) > 1 or re.match(r"[\u3400-\u9fff]", w)}
    else:
        words = {_stem(w.lower()) for w in _WORD.findall(text) if w.lower() not in _STOP and len(w) > 2}
    return frozenset(w for w in words if not w[0].isdigit() and w not in NUMBER_STEMS)  # numbers: on their own


def _problem(
    claim: str,
    source: str,
    similarity: float,
    names: frozenset[str] = frozenset(),
    common: frozenset[str] = frozenset(),
    across: bool = False,
) -> str:
    """Why `source` does not support `claim`, or "" when it does. Across languages (`across`) only what does not
    depend on shared words is checked: meaning, every quantity, polarity and period. `names` are the proper names the passages use
    (plans, products, companies) and `common` the words they use in lower case: a capitalised word of the claim,
    even at the start of a sentence, is a name unless the passages use it as a plain word, and it must be in
    `source` ("Starter customers can…" is not "Enterprise customers can…")."""
    changed = differing_quantities(claim, source, across)
    if changed and similarity >= UNRELATED_BELOW:
        stated = sorted(quantities(source))
        if not stated:
            return Note("reason_not_stated", claimed=shown_quantity(changed[0]))
        said = ", ".join(shown_quantity(q) for q in stated)
        return Note("reason_says_instead", stated=said, claimed=shown_quantity(changed[0]))
    if similarity < UNRELATED_BELOW:
        return Note("reason_not_found")
    # polarity is a property of one sentence, not of a pair of them. Across languages no words pick the clause: a
    # source is the opposite only when each of its sentences is negated ("refunded within 14 days. After that, no
    # refunds" does not deny "refunded within 14 days"), and a negated claim needs one negated sentence
    if across:
        negated = [_negated(part) for part in split_sentences(source) or [source]]
        if _negated(claim) and not any(negated):
            return Note("reason_not_excluded")
        if not _negated(claim) and all(negated):
            return Note("reason_opposite")
        return _period_problem(claim, source)
    closest = _closest_part(claim, source)
    if _negated(claim) != _negated(closest):
        return Note("reason_opposite") if _negated(closest) else Note("reason_not_excluded")
    extra_roles = _roles(claim) - _roles(source)
    if extra_roles:
        return Note("reason_roles", roles=", ".join(sorted(extra_roles)))
    mentioned = _names(claim) | {
        w
        for w in re.findall(r"\b[A-Z][a-zA-Z]{2,}\b", claim)
        if w in names or (common and w.lower() not in common and w.lower() not in _STOP)
    }
    extra_names = {n for n in mentioned if n.lower()[:5] not in source.lower()}
    if extra_names:
        return Note("reason_names", names=", ".join(sorted(extra_names)))
    words = content_words(claim)
    covered = len(words & content_words(source)) / len(words) if words else 1.0
    period = _period_problem(claim, source)
    if period:
        return period
    if covered < COVERED_ENOUGH:
        return Note("reason_not_found")
    absolutes = {a.lower() for a in _ABSOLUTES.findall(claim)} - {a.lower() for a in _ABSOLUTES.findall(source)}
    if absolutes:
        return Note("reason_absolute", word=sorted(absolutes)[0])
    return ""


def _period_problem(claim: str, source: str) -> str:
    """ "per month" where the source says per year (月額 and monthly are one period)."""
    periods = {_PERIODS[p.lower()] for p in _PERIOD.findall(claim)} - {
        _PERIODS[p.lower()] for p in _PERIOD.findall(source)
    }
    if periods and _PERIOD.search(source):
        said = sorted({_PERIODS[p.lower()] for p in _PERIOD.findall(source)})
        return Note("reason_period", stated=" or per ".join(said), claimed=sorted(periods)[0])
    return ""


_CLAUSE = re.compile(r"[;；:：]\s*|,\s+(?=but\b|and\b|while\b|whereas\b)|(?<=が、)|(?<=し、)")


def _closest_part(claim: str, source: str) -> str:
    """The clause of `source` that shares the most content words with the claim."""
    parts = [c for sentence in split_sentences(source) or [source] for c in _CLAUSE.split(sentence) if c.strip()]
    words = content_words(claim)
    return max(parts, key=lambda part: len(words & content_words(part)))


class ClaimChecker:
    """Decides each sentence of an answer against the passages the model saw. Owns nothing but the embedders:
    `embedder` (MiniLM, which the bars were measured on) and, with a multilingual search, `across` for a sentence
    and a source in different languages."""

    def __init__(self, embedder: Embedder, across: Embedder | None = None) -> None:
        self.embedder = embedder
        self.across = across

    def check(self, answer: str, passages: list[SearchHit]) -> list[Claim]:
        sentences = answer_sentences(answer)
        if not sentences:
            return []
        singles = [(n, s) for n, hit in enumerate(passages, 1) for s in split_sentences(hit.chunk.text)]
        if not singles:
            return [Claim(s, False, reason=Note("reason_not_found")) for s in sentences]
        single_vectors = sentence_vectors(self.embedder, [s for _, s in singles])
        # answers often merge two neighbouring source sentences: each pair is a source too, its vector the mean
        pairs = [i for i in range(len(singles) - 1) if singles[i][0] == singles[i + 1][0]]
        sources = singles + [(singles[i][0], f"{singles[i][1]} {singles[i + 1][1]}") for i in pairs]
        pair_vectors = [single_vectors[i] + single_vectors[i + 1] for i in pairs]
        source_vectors = np.vstack([single_vectors, *[v / np.linalg.norm(v) for v in pair_vectors]])
        names = frozenset(n for hit in passages for n in _names(hit.chunk.text))
        common = frozenset(w for hit in passages for w in re.findall(r"\b[a-z][a-z'-]+\b", hit.chunk.text))
        claims_text = [without_attribution(MARKER.sub("", s).strip()) for s in sentences]
        # "It can be split" means little alone: each sentence is also read after the one before it
        in_context = [f"{before} {claim}" for before, claim in zip(["", *claims_text], claims_text)]
        vectors = self.embedder.embed(claims_text + in_context)
        count = len(sentences)
        similarities = np.maximum(vectors[:count] @ source_vectors.T, vectors[count:] @ source_vectors.T)
        across = np.zeros(similarities.shape, dtype=bool)
        if self.across is not None:  # each sentence's language and each source's, once
            across = np.array([is_cjk(c) for c in claims_text])[:, None] != np.array([is_cjk(s) for _, s in sources])
        if across.any():
            similarities = np.where(
                across, self._across_similarities(claims_text, sources) - ACROSS_SHIFT, similarities
            )
        return [
            self._decide(text, [int(n) for n in MARKER.findall(sentence)], row, sources, names, common, languages)
            for sentence, text, row, languages in zip(sentences, claims_text, similarities, across)
        ]

    def _across_similarities(self, claims: list[str], sources: list[tuple[int, str]]) -> np.ndarray:
        """The multilingual embedder's cosines, claims (as questions are) against source sentences."""
        claim_vectors = np.vstack([self.across.embed_one(claim) for claim in claims])
        return claim_vectors @ sentence_vectors(self.across, [s for _, s in sources]).T

    @staticmethod
    def _decide(
        text: str,
        cited: list[int],
        similarities: np.ndarray,
        sources: list[tuple[int, str]],
        names: frozenset[str],
        common: frozenset[str],
        across: np.ndarray,
    ) -> Claim:
        """The source sentence closest in meaning speaks first: if it contradicts the claim (another number, the
        opposite polarity, another role or name), the claim is unsupported, whatever a looser match elsewhere
        says. Otherwise it is supported by a source sentence it cites if one passes, else by any passage (the
        citation is corrected), else unsupported with the reason from the closest sentence."""
        words = content_words(text)
        overlap = np.array([len(words & content_words(s)) / len(words) if words else 0.0 for _, s in sources])
        order = np.argsort(-(similarities + 0.3 * overlap))
        closest = int(order[0])

        def verdict(index: int) -> tuple[str, Claim]:
            n, source = sources[index]
            problem = _problem(text, source, float(similarities[index]), names, common, bool(across[index]))
            return problem, Claim(
                text, not problem, [] if problem else [n], source, round(float(similarities[index]), 3), problem
            )

        problem, claim = verdict(closest)
        # across languages the closest sentence is a weaker guess ("14日以内です" reads closest to "After 14 days, no
        # refunds…"): its opposite polarity is not the last word, another sentence may support the claim
        guessed = bool(across[closest]) and problem and problem.key == "reason_opposite"
        if not problem or (problem.key in CONTRADICTIONS and not guessed):
            return claim
        ranked = [i for i in order if sources[i][0] in cited] + [i for i in order if sources[i][0] not in cited]
        for index in ranked[:8]:
            other_problem, other = verdict(int(index))
            if not other_problem:
                return other
        return claim


def grounded_share(claims: list[Claim]) -> float | None:
    """Share of an answer's sentences that are supported; None when there is nothing to check."""
    return round(sum(c.supported for c in claims) / len(claims), 3) if claims else None
