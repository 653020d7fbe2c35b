"""Approved work becomes a training dataset. Agents draft replies to tickets and approve them (the real flow);
people rate answers up. `kura finetune export` turns that into chat examples as gpt-oss's template takes them:
the prompt kura sends (developer instructions, numbered sources, the task) and the reply as approved, without the
greeting and sign-off kura adds itself. E-mail addresses, phone and card numbers are redacted unless asked not to;
the same example is kept once; the split is decided by the example itself, so exporting again puts it on the same
side; too little data is refused with what to do; and nothing the exporting admin may not read goes in."""

from __future__ import annotations

import json

import pytest

from app.service import Caller, Kura, MinRating
from app.settings import Settings
from llm.backends import BackendName, Delta
from llm.draft import Ticket, without_greeting_and_signature
from llm.finetune.dataset import DatasetError, redact
from tests.conftest import SAMPLES

pytestmark = pytest.mark.slow  # a real store, a dozen drafts and approvals

AGENT = Caller("mei", ("support", "everyone"), admin=True)
TICKETS = [
    ("Refund for annual plan", "Hi, can I get a refund for my annual plan? Call me on 03-1234-5678."),
    ("Sync stuck", "Kumo Sync has been stuck on Preparing since yesterday. mei@customer.example"),
    ("Refund to my card", "Please refund my annual plan to my card 4111 1111 1111 1111."),
    ("Cancel subscription", "How do I cancel my subscription before it renews?"),
    ("Sync after update", "Sync stopped after the update, what should I do?"),
    ("Refund timing", "How long does a refund take to reach my bank account?"),
]


CONTACT = " We will call you on 03-1234-5678 or write to aiko@customer.example; card 4111 1111 1111 1111 is refunded."


class ScriptedModel:
    """A model whose answer is scripted: what export does with a rated-up answer is under test."""

    name, description = "openai", "scripted"
    generative, rewrites_questions, demo, takes_effort, named_models = True, True, False, True, True

    def ahead(self) -> int:
        return 0

    def generate(self, messages, **options):
        yield Delta("Refunds for annual plans are prorated [1].", finish_reason="stop")


@pytest.fixture(scope="module")
def support(tmp_path_factory, embedder):
    """The support articles for everyone, a board-only memo; six tickets drafted and approved, each twice (an
    agent approving the same reply again), one with a board passage; one answer rated up."""
    root = tmp_path_factory.mktemp("finetune")
    board = root / "board"
    board.mkdir()
    (board / "memo.md").write_text("# Refund exceptions\n\nThe board allows refunds after 90 days for key accounts.\n")
    kura = Kura(Settings(home=root / "home", llm_backend="extractive", _env_file=None))
    kura.__dict__["embedder"] = embedder
    kura.ingest(AGENT, [SAMPLES / "support"], groups=("everyone",))
    kura.ingest(AGENT, [board], groups=("board",))
    for subject, body in TICKETS:
        ticket = Ticket(subject, body, customer="Aiko")
        draft = kura.draft(AGENT, ticket, stream=False).response.result()
        body = without_greeting_and_signature(draft.reply) + (CONTACT if subject == TICKETS[0][0] else "")
        for _ in range(2):
            kura.approve(AGENT, ticket, draft, f"Hello Aiko,\n\n{body}\n\nBest regards,\nMei")
    board_member = Caller("rin", ("board", "everyone"), admin=True)
    ticket = Ticket("Late refund", "Can a key account get a refund after 90 days?")
    kura.approve(board_member, ticket, kura.draft(board_member, ticket, stream=False).response.result(), "Yes.")
    kura._backends[BackendName.OPENAI, None] = ScriptedModel()
    asking = kura.ask(AGENT, "Are annual plan refunds prorated?", backend="openai", stream=False)
    asking.response.result()
    kura.feedback(AGENT, asking.turn, "Are annual plan refunds prorated?", "up")
    yield kura, root
    kura.close()


def exported(support, name: str, caller: Caller = AGENT, **options) -> tuple[list[dict], list[dict], dict]:
    kura, root = support
    out = root / name
    kura.export_dataset(caller, out, min_examples=options.pop("min_examples", 3), **options)
    lines = [
        [json.loads(x) for x in (out / f"{part}.jsonl").read_text().splitlines()] for part in ("train", "validation")
    ]
    return lines[0], lines[1], json.loads((out / "card.json").read_text())


def test_an_approved_reply_becomes_the_prompt_kura_sends_and_the_reply_as_approved(support):
    train, validation, card = exported(support, "plain")
    [example] = [e for e in train + validation if "cancel my subscription" in e["messages"][1]["content"]]
    developer, user, assistant = example["messages"]
    assert developer["role"] == "developer" and "only the numbered sources" in developer["content"]
    assert user["content"].startswith("Sources:\n\n[1] ") and "cancel my subscription" in user["content"]
    assert assistant["role"] == "assistant" and "Hello Aiko" not in assistant["content"]
    assert "Best regards" not in assistant["content"], "kura adds the greeting and sign-off itself"
    assert card["kinds"] == {"approved reply": 6, "answer rated up": 1} and card["duplicates"] == 6
    assert card["train"] + card["validation"] == 7 and card["validation"] >= 1


def test_contact_details_and_card_numbers_are_redacted_by_default(support):
    train, validation, card = exported(support, "redacted")
    text = json.dumps(train + validation)
    assert "03-1234-5678" not in text and "mei@customer.example" not in text and "4111" not in text
    assert "[phone]" in text and "[email]" in text and "[card number]" in text and card["redacted"]
    raw = json.dumps(exported(support, "raw", redact=False)[:2])
    assert "03-1234-5678" in raw, "--no-redact keeps them"
    assert (
        redact("On 2026-11-30 it costs 30,000 yen, v2.4.1, order 12345")
        == "On 2026-11-30 it costs 30,000 yen, v2.4.1, order 12345"
    )


def test_the_split_is_the_same_every_time(support):
    first = exported(support, "first")
    second = exported(support, "second")
    assert first[:2] == second[:2]


def test_an_admin_exports_only_what_they_may_read(support):
    everything = exported(support, "board", Caller("rin", ("board", "everyone"), admin=True))
    staff = exported(support, "staff")
    assert "90 days" in json.dumps(everything[:2]) and "90 days" not in json.dumps(staff[:2])
    assert staff[2]["skipped"] == {"passages you may not read, or deleted": 1}
    with pytest.raises(Exception, match="Only admins"):
        exported(support, "nope", Caller("sam", ("everyone",)))


def test_too_little_data_is_refused_with_what_to_do(support):
    with pytest.raises(DatasetError, match=r"only 7 usable examples .* at least 20 .* Approve more drafted replies"):
        exported(support, "small", min_examples=20)


def test_answers_join_only_when_rated_up_unless_asked_and_only_since_a_date(support):
    from datetime import date

    assert exported(support, "answers")[2]["kinds"]["answer rated up"] == 1
    unrated = exported(support, "unrated", min_rating=MinRating.UNRATED)[2]
    assert unrated["kinds"]["answer rated up"] == 1, "extractive answers nobody rated are quotes, left out"
    with pytest.raises(DatasetError, match="only 0 usable examples"):
        exported(support, "future", since=date(2999, 1, 1))


def test_held_out_tickets_are_kept_for_comparing_models(support):
    kura, root = support
    _, validation, _ = exported(support, "eval")
    tickets = [json.loads(x) for x in (root / "eval" / "validation-tickets.jsonl").read_text().splitlines()]
    approved = [e["messages"][-1]["content"] for e in validation]
    assert tickets and all(t["approved"] in approved and t["ticket"]["subject"] for t in tickets)
