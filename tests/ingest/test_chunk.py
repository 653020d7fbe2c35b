"""Chunks are sized in the embedder's tokens and their offsets point back into the document text."""

from __future__ import annotations

from ingest.chunk import chunk_document, full_text
from ingest.documents import ParsedDocument, Section
from ingest.formats import parse
from tests.conftest import SAMPLES


def test_offsets_point_into_the_full_text(embedder):
    doc = parse(SAMPLES / "product" / "kumo-sync-faq.md")
    chunks = chunk_document(
        doc,
        doc_id="d1",
        source="faq.md",
        groups=("everyone",),
        chunk_tokens=60,
        chunk_overlap=10,
        tokenize=embedder.model.tokenizer.tokenize,
    )
    text = full_text(doc)
    assert len(chunks) > len(doc.sections) / 2
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.groups == ("everyone",)
    assert [c.position for c in chunks] == list(range(len(chunks)))


def test_long_sections_are_split_within_the_token_budget(embedder):
    sentence = "Every employee receives a company laptop with full-disk encryption enabled. "
    doc = ParsedDocument("Long", [Section(sentence * 60, heading="Long > Laptops", page=3)])
    chunks = chunk_document(
        doc,
        doc_id="d2",
        source="long.md",
        groups=(),
        chunk_tokens=100,
        chunk_overlap=20,
        tokenize=embedder.model.tokenizer.tokenize,
    )
    assert len(chunks) >= 8
    assert all(embedder.count_tokens(c.text) <= 100 for c in chunks)
    assert {c.page for c in chunks} == {3} and {c.heading for c in chunks} == {"Long > Laptops"}


def test_chunk_ids_are_deterministic(embedder):
    doc = parse(SAMPLES / "support" / "sync-stuck.md")

    def make():
        return chunk_document(
            doc,
            doc_id="same",
            source="s.md",
            groups=(),
            chunk_tokens=80,
            chunk_overlap=10,
            tokenize=embedder.model.tokenizer.tokenize,
        )

    assert [c.chunk_id for c in make()] == [c.chunk_id for c in make()]
