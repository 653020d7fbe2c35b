"""Ticket drafting over the sample support articles: the reply is framed in the house style, grounded in
the knowledge base, and every sentence the sources do not support is listed for the agent with why."""

from __future__ import annotations

from pathlib import Path

import pytest

from llm.draft import Drafter, HouseStyle, Ticket, ticket_query
from retrieval import AccessScope, ConfigError

TICKETS = Path(__file__).parent / "tickets"
EVERYONE = AccessScope(("everyone",))


def test_a_text_ticket_is_read_with_its_fields():
    ticket = Ticket.from_file(TICKETS / "refund.txt")
    assert (ticket.subject, ticket.customer, ticket.product) == (
        "Refund for our annual plan",
        "Ms. Tanaka",
        "Kumo Sync Business",
    )
    assert ticket.body.startswith("Hello support team,")


def test_an_eml_ticket_is_read_and_the_query_drops_greeting_signature_and_quotes():
    ticket = Ticket.from_file(TICKETS / "stuck.eml")
    assert ticket.subject == "Kumo Sync stuck on Preparing" and ticket.customer == "Ken Ito"
    query = ticket_query(ticket)
    assert "power cut" in query and "Hi," not in query and "Thanks" not in query and "ticket was received" not in query


class ScriptedBackend:
    """Scripted model (what kura does with its reply is under test): a refund reply with one changed amount and one
    promise the sources never make."""

    name = "openai"
    generative, rewrites_questions, demo = True, True, False

    def ahead(self) -> int:
        return 0

    description = "scripted"

    def __init__(self, reply: str) -> None:
        self.reply = reply

    def generate(self, messages, **options):
        from llm.backends import Delta

        yield Delta(self.reply, finish_reason="stop")


def test_every_unsupported_sentence_of_a_draft_is_in_the_agents_notes(ingested_samples):
    from llm import Answerer

    reply = (
        "Annual Kumo Sync subscriptions can be refunded in full within 14 days of purchase [1]. "
        "We will also add a credit of ¥5,000 to your account within 3 days."
    )
    answerer = Answerer(ingested_samples.retriever, ingested_samples.embedder, ScriptedBackend(reply))
    draft = Drafter(answerer).draft(Ticket.from_file(TICKETS / "refund.txt"), EVERYONE)
    assert [c.supported for c in draft.claims] == [True, False] and draft.grounded == 0.5
    flagged = [n for n in draft.internal_notes if n.startswith("Not in the sources")]
    assert len(flagged) == 1 and "credit of ¥5,000" in flagged[0]
    assert draft.to_json()["claims"][1]["reason"]


def test_house_style_from_a_file_frames_the_reply(tmp_path):
    style_file = tmp_path / "style.toml"
    style_file.write_text('greeting = "Dear {customer},"\nsign_off = "Kind regards,\\nAozora Support"\n')
    style = HouseStyle.load(style_file)
    assert (
        style.frame(Ticket("s", "b", "Ms. Tanaka"), "Body.")
        == "Dear Ms. Tanaka,\n\nBody.\n\nKind regards,\nAozora Support"
    )
    assert style.frame(Ticket("s", "b"), "Body.").startswith("Hello,")
    style_file.write_text('colour = "blue"\n')
    with pytest.raises(ConfigError, match="colour"):
        HouseStyle.load(style_file)


def test_extractive_draft_quotes_the_refund_policy(ingested_samples):
    drafter = Drafter(ingested_samples.answerer("extractive"))
    draft = drafter.draft(Ticket.from_file(TICKETS / "refund.txt"), EVERYONE)
    assert not draft.abstained and draft.backend == "extractive"
    assert draft.reply.startswith("Hello Ms. Tanaka,") and draft.reply.endswith("Best regards,\nCustomer Support")
    assert any(c.source.endswith("support/refunds-and-billing.md") for c in draft.citations)
    assert "within 14 days of purchase" in draft.reply
    assert not [n for n in draft.internal_notes if "do not state" in n], draft.internal_notes
    assert any("without a language model" in n for n in draft.internal_notes)


def test_support_articles_are_preferred_as_sources(ingested_samples):
    drafter = Drafter(ingested_samples.answerer("extractive"))
    draft = drafter.draft(Ticket.from_file(TICKETS / "stuck.eml"), EVERYONE)
    assert draft.citations and "/support/" in draft.citations[0].source
    assert "index" in draft.reply.lower()


def test_an_unanswerable_ticket_gets_a_holding_reply_and_an_escalation_note(ingested_samples):
    ticket = Ticket("Printer on fire", "Our office printer in Osaka caught fire during lunch. Who pays?", "Mr. Sato")
    draft = Drafter(ingested_samples.answerer("extractive")).draft(ticket, EVERYONE)
    assert draft.abstained and draft.citations == []
    assert "looking into" in draft.reply and any("escalate" in n for n in draft.internal_notes)


@pytest.mark.slow
def test_a_model_written_draft_is_framed_checked_and_cited(ingested_samples):
    draft = Drafter(ingested_samples.answerer("local")).draft(Ticket.from_file(TICKETS / "refund.txt"), EVERYONE)
    assert draft.backend == "local" and draft.error is None
    assert draft.reply.startswith("Hello Ms. Tanaka,") and draft.reply.endswith("Customer Support")
    assert any(c.source.endswith("refunds-and-billing.md") for c in draft.citations)
    flagged = [n for n in draft.internal_notes if n.startswith("Not in the sources")]
    assert len(flagged) == len(draft.claims) - sum(c.supported for c in draft.claims), "every unsupported one"


MIXED = Ticket(
    "Sync stuck and a refund",
    "Hello,\nSince the power cut on Monday, Kumo Sync has shown Preparing for hours and nothing uploads.\n"
    "I would also like a refund for our annual subscription.\nDo you offer a discount for student clubs?\n"
    "Thanks,\nMei",
    customer="Mei",
)
TEMPLATE_LIKE = (
    "Dear [customer_name],\n\nYou wrote: Since the power cut on Monday, Kumo Sync has shown Preparing for hours and "
    "nothing uploads. Quit Kumo Sync, delete the folder KumoSync/index and start Kumo Sync again [1]. Annual subscriptions can "
    "be refunded in full within 14 days of purchase [2]. For anything else, write to [email_address].\n\n"
    "Best regards,\n[Your Name]"
)


def test_a_ticket_asking_two_things_finds_passages_for_both(ingested_samples):
    draft = Drafter(ingested_samples.answerer("extractive")).draft(MIXED, EVERYONE)
    found = {Path(h.chunk.source).name for h in draft.passages}
    assert {"sync-stuck.md", "refunds-and-billing.md"} <= found, found
    quoted = {Path(c.source).name for c in draft.citations}
    assert {"sync-stuck.md", "refunds-and-billing.md"} <= quoted, "without a model, each part gets its passage"
    assert "[1]" in draft.reply and "[2]" in draft.reply


def test_a_draft_has_one_greeting_one_sign_off_no_placeholders_and_never_repeats_the_ticket(ingested_samples):
    from llm import Answerer

    answerer = Answerer(ingested_samples.retriever, ingested_samples.embedder, ScriptedBackend(TEMPLATE_LIKE))
    draft = Drafter(answerer).draft(MIXED, EVERYONE)
    assert draft.reply.startswith("Hello Mei,\n") and draft.reply.count("Hello") == 1 and "Dear" not in draft.reply
    assert draft.reply.count("Best regards") == 1 and draft.reply.endswith("Customer Support")
    assert "[" not in draft.reply.replace("[1]", "").replace("[2]", ""), draft.reply
    assert "nothing uploads" not in draft.reply, "the ticket is not pasted back"
    assert "delete the folder KumoSync/index" in draft.reply
    notes = " ".join(draft.internal_notes)
    assert "[email_address]" in notes and "repeating the customer's ticket" in notes
    assert "discount for student clubs" in notes, "a question no source answers is listed for the agent"


def test_the_notes_follow_the_agents_edits(ingested_samples):
    from llm import Answerer

    answerer = Answerer(ingested_samples.retriever, ingested_samples.embedder, ScriptedBackend(TEMPLATE_LIKE))
    drafter = Drafter(answerer)
    draft = drafter.draft(MIXED, EVERYONE)
    assert not [n for n in draft.internal_notes if n.startswith("Not in the sources")]
    edited = draft.reply.replace("Best regards", "We will refund you within 2 days, on [date].\n\nBest regards")
    checked = drafter.checked(draft, edited)
    assert any(n.startswith("Not in the sources") and "2 days" in n for n in checked.internal_notes)
    assert any("[date]" in n for n in checked.internal_notes if n.startswith("The reply still contains"))
