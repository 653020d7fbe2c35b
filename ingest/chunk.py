"""ParsedDocument → Chunks: sentence-aware splitting (LlamaIndex SentenceSplitter) within each section,
sized in the embedding model's own tokens, with char offsets into the document's full text."""

from __future__ import annotations

from collections.abc import Callable

from ingest.documents import ParsedDocument
from retrieval.types import Chunk

SECTION_SEPARATOR = "\n\n"


def full_text(document: ParsedDocument) -> str:
    """The document text that chunk offsets point into: sections joined by a blank line."""
    return SECTION_SEPARATOR.join(section.text for section in document.sections)


def chunk_document(
    document: ParsedDocument,
    *,
    doc_id: str,
    source: str,
    groups: tuple[str, ...],
    owner: str | None = None,
    chunk_tokens: int,
    chunk_overlap: int,
    tokenize: Callable[[str], list],
) -> list[Chunk]:
    from llama_index.core import Document
    from llama_index.core.node_parser import SentenceSplitter

    splitter = SentenceSplitter(chunk_size=chunk_tokens, chunk_overlap=chunk_overlap, tokenizer=tokenize)
    chunks: list[Chunk] = []
    offset = 0
    for section in document.sections:
        if section.text.strip():
            for node in splitter.get_nodes_from_documents([Document(text=section.text)]):
                text = node.get_content()
                start = node.start_char_idx if node.start_char_idx is not None else max(section.text.find(text), 0)
                chunks.append(
                    Chunk(
                        doc_id=doc_id,
                        position=len(chunks),
                        text=text,
                        source=source,
                        title=document.title,
                        heading=section.heading,
                        page=section.page,
                        start=offset + start,
                        end=offset + start + len(text),
                        groups=groups,
                        owner=owner,
                        ocr_confidence=section.ocr_confidence,
                    )
                )
        offset += len(section.text) + len(SECTION_SEPARATOR)
    return chunks
