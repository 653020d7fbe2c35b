"""Every filter a store operation uses, built once as qdrant-client's own `models.Filter`. Access rules live
here and only here: a scope always restricts to the caller's groups (an empty group list matches nothing), or
to documents the caller owns. The server engine sends these as they are; the Edge engine converts them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from retrieval.store.models import models
from retrieval.types import AccessScope


def readable(scope: AccessScope) -> list[models.Condition]:
    """What the caller may read: a chunk of one of their groups (or one they own), within their chosen sources."""
    groups = models.FieldCondition(key="groups", match=models.MatchAny(any=list(scope.groups)))
    rules: list[models.Condition] = [groups]
    if scope.user:
        owned = models.FieldCondition(key="owner", match=models.MatchValue(value=scope.user))
        rules = [models.Filter(should=[groups, owned])]
    if scope.sources:
        rules.append(models.FieldCondition(key="source", match=models.MatchAny(any=list(scope.sources))))
    return rules


@dataclass(frozen=True)
class VectorsOf:
    """Which model's vectors a store searches: chunks are tagged with the embedder that made them, and a search
    compares a question only with vectors of its own model. Chunks stored before tags existed were made by the
    default model (`untagged`: whether this is it)."""

    embedder: str
    untagged: bool = False

    def condition(self) -> models.Condition:
        mine = models.FieldCondition(key="embedder", match=models.MatchValue(value=self.embedder))
        return (
            models.Filter(should=[mine, models.IsEmptyCondition(is_empty=models.PayloadField(key="embedder"))])
            if self.untagged
            else mine
        )


def made_by_others(vectors: VectorsOf) -> models.Filter:
    """Chunks whose vectors another model made: left out of search until they are re-embedded."""
    return models.Filter(must_not=[vectors.condition()])


def build(
    scope: AccessScope | None = None,
    vectors: VectorsOf | None = None,
    doc_id: str | None = None,
    min_position: int | None = None,
    text_keys: Sequence[str] | None = None,
    chunk_ids: Sequence[str] | None = None,
) -> models.Filter | None:
    """The conjunction of whatever is given; None when nothing narrows the operation."""
    must: list[models.Condition] = readable(scope) if scope is not None else []
    if vectors is not None:
        must.append(vectors.condition())
    if doc_id is not None:
        must.append(models.FieldCondition(key="doc_id", match=models.MatchValue(value=doc_id)))
    if min_position is not None:
        must.append(models.FieldCondition(key="position", range=models.Range(gte=min_position)))
    if text_keys is not None:
        must.append(models.FieldCondition(key="text_key", match=models.MatchAny(any=list(text_keys))))
    if chunk_ids is not None:
        must.append(models.HasIdCondition(has_id=list(chunk_ids)))
    return models.Filter(must=must) if must else None
