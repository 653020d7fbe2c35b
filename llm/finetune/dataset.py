"""Examples → a chat dataset a trainer reads: JSONL in the "messages" format (developer, user, assistant, as gpt-oss's
harmony chat template renders them), redacted, deduplicated, split into train and validation by a hash (the same
example always lands on the same side, whatever else is added), with a dataset card saying what is in it."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.errors import KuraError

MIN_EXAMPLES = 20
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
CARD = re.compile(r"(?<![\w-])(?:\d[ -]?){12,18}\d(?![\w-])")  # 13-19 digits, spaced or dashed in any grouping
PHONE = re.compile(r"(?<![\w+-])(?:\+\d{1,3}[ -]?)?(?:\(\d{1,4}\)[ -]?)?\d{1,4}(?:[ -]\d{2,4}){1,3}(?![\w-])")
DATE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")


class DatasetError(KuraError):
    """The data cannot make a dataset (too little of it); the message says what to do."""


@dataclass(frozen=True)
class Example:
    """One conversation to learn from: the prompt kura sends, and the reply a person approved or rated up."""

    messages: tuple[dict, ...]  # developer, user (sources and task), assistant
    kind: str  # "approved reply" or "answer rated up"
    at: str  # ISO date of the approval or rating
    groups: tuple[str, ...]  # who may read every passage it was built from
    ticket: dict | None = None  # an approved reply's ticket (subject, body, customer, product): drafted again by eval

    @property
    def key(self) -> str:
        """The same prompt and reply are one example, however often they were approved."""
        text = "\x00".join(" ".join(m["content"].split()) for m in self.messages)
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class DatasetCard:
    train: int = 0
    validation: int = 0
    kinds: Counter = field(default_factory=Counter)
    skipped: Counter = field(default_factory=Counter)  # reason → count
    duplicates: int = 0
    first: str = ""
    last: str = ""
    groups: list[str] = field(default_factory=list)
    redacted: bool = True
    exported_by: str = ""

    def to_json(self) -> dict:
        return {**self.__dict__, "kinds": dict(self.kinds), "skipped": dict(self.skipped)}

    def to_markdown(self) -> str:
        lines = [
            "# kura fine-tuning dataset",
            "",
            f"- examples: {self.train} train, {self.validation} validation ({self.duplicates} duplicates dropped)",
            *(f"- {kind}: {count}" for kind, count in sorted(self.kinds.items())),
            f"- dates: {self.first or '–'} to {self.last or '–'}",
            f"- passages readable by: {', '.join(self.groups) or '–'} (do not share the dataset more widely)",
            f"- e-mail addresses, phone numbers and card numbers redacted: {'yes' if self.redacted else 'NO'}",
            f"- exported by: {self.exported_by}",
            *(f"- left out ({reason}): {count}" for reason, count in sorted(self.skipped.items())),
            "",
            'Format: JSON lines, one `{"messages": [...]}` per line (developer, user, assistant), the prompt exactly',
            "as kura builds it for the model. Train with `kura finetune train DIR --base MODEL_DIR --out ADAPTER_DIR`.",
        ]
        return "\n".join(lines) + "\n"


def redact(text: str) -> str:
    """E-mail addresses, card numbers and phone numbers replaced by what they were; dates, prices and versions kept."""
    text = EMAIL.sub("[email]", text)
    text = CARD.sub(lambda m: "[card number]" if not DATE.fullmatch(m.group()) else m.group(), text)

    def phone(match: re.Match) -> str:
        digits = sum(c.isdigit() for c in match.group())
        return "[phone]" if 9 <= digits <= 15 and not DATE.fullmatch(match.group()) else match.group()

    return PHONE.sub(phone, text)


def is_validation(example: Example, percent: int) -> bool:
    return int(example.key[:8], 16) % 100 < percent


def write_dataset(
    examples: Sequence[Example],
    out: Path,
    card: DatasetCard,
    *,
    validation_percent: int = 10,
    min_examples: int = MIN_EXAMPLES,
) -> DatasetCard:
    """train.jsonl, validation.jsonl and README.md (the card) in `out`; DatasetError when there is too little."""
    if card.redacted:
        examples = [
            Example(
                tuple({**m, "content": redact(m["content"])} for m in e.messages), e.kind, e.at, e.groups,
                e.ticket and {name: redact(value) for name, value in e.ticket.items()},
            )
            for e in examples
        ]  # fmt: skip
    unique = list({e.key: e for e in sorted(examples, key=lambda e: e.at)}.values())
    card.duplicates = len(examples) - len(unique)
    if len(unique) < min_examples:
        found = ", ".join(f"{n} {kind}s" for kind, n in Counter(e.kind for e in unique).items()) or "none"
        raise DatasetError(
            f"only {len(unique)} usable examples ({found}); at least {min_examples} are needed to teach the model "
            "anything. Approve more drafted replies (Draft page) and rate good answers up, or lower --min-examples."
        )
    validation = [e for e in unique if is_validation(e, validation_percent)]
    if not validation:  # always something to compare on: the example with the smallest hash
        validation = [min(unique, key=lambda e: e.key)]
    train = [e for e in unique if e not in validation]
    out.mkdir(parents=True, exist_ok=True)
    for name, part in (("train", train), ("validation", validation)):
        with (out / f"{name}.jsonl").open("w", encoding="utf-8") as handle:
            for example in part:
                handle.write(json.dumps({"messages": list(example.messages)}, ensure_ascii=False) + "\n")
    with (out / "validation-tickets.jsonl").open("w", encoding="utf-8") as handle:  # `kura finetune eval` drafts these
        for example in validation:
            if example.ticket:
                reply = example.messages[-1]["content"]
                handle.write(json.dumps({"ticket": example.ticket, "approved": reply}, ensure_ascii=False) + "\n")
    card.train, card.validation = len(train), len(validation)
    card.kinds = Counter(e.kind for e in unique)
    card.first, card.last = unique[0].at[:10], unique[-1].at[:10]
    card.groups = sorted({g for e in unique for g in e.groups})
    (out / "README.md").write_text(card.to_markdown(), encoding="utf-8")
    (out / "card.json").write_text(json.dumps(card.to_json(), indent=2), encoding="utf-8")
    return card


def read_lines(folder: Path, name: str) -> list[dict]:
    """One file of an exported dataset (train.jsonl, validation.jsonl, validation-tickets.jsonl), line by line."""
    path = Path(folder) / name
    if not path.is_file():
        raise DatasetError(f"{path} is missing: export a dataset with `kura finetune export --out {folder}`")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
