"""What the answer path tells the reader besides the answer: warnings, draft notes for the agent, and why a
sentence is not supported. Each is a Note: a str, in English (what the CLI, the API and logs show), that also
carries its key and parameters, so the app can say it in the reader's language (app/i18n.py, same keys)."""

from __future__ import annotations

ENGLISH: dict[str, str] = {
    # answers
    "passages_dropped": "{count} relevant passage(s) did not fit the model's context "
    "(KURA_LLM_CONTEXT_TOKENS={limit}).",
    "sentences_removed": "{count} sentence(s) of the model's answer were removed: your documents do not support "
    "them (KURA_UNSUPPORTED=drop).",
    "answer_replaced": "No sentence of the model's answer is supported by your documents, so the answer is the "
    "passages' own words instead (KURA_UNSUPPORTED=drop).",
    "awaiting_reembedding": "{count} passages are not searched yet: the embedding model changed (KURA_EMBEDDER) and "
    "they wait to be re-embedded. Run `kura ingest` on your folders (or Library → Re-sync), then ask again.",
    "no_answer_text": "No answer text could be built from the passages found; the sources below are all there is.",
    "reasoning_only": "The model reasoned but returned no answer text (a known gpt-oss/vLLM failure: "
    "`content: null`). The sources below are still valid; ask again, or raise KURA_LLM_MAX_TOKENS.",
    "empty_answer": "The model returned an empty answer. The sources below are still valid; ask again.",
    "cut_off": "The answer was cut off at the token limit (KURA_LLM_MAX_TOKENS={limit}).",
    "repetition_stopped": "The model started repeating itself, so kura stopped it; what it wrote before is kept.",
    "stopped": "Stopped: the answer is incomplete, and its sentences were not checked against your documents.",
    "no_longer_readable": "This answer cited a document you can no longer read, so it is hidden.",
    # notes on a drafted reply, for the agent
    "no_customer_name": "No customer name in the ticket: the reply uses a generic greeting.",
    "no_passage_for_ticket": "No knowledge-base passage answers this ticket: research it or escalate before replying.",
    "drafted_without_model": "Drafted without a language model: the body quotes the best knowledge-base passage; "
    "rephrase it and remove what does not apply.",
    "holding_reply": "The model failed ({error}); the reply below is a holding reply.",
    "not_in_sources": "Not in the sources: “{text}” — {reason}. Verify or remove it before sending.",
    "source_line": "Source [{n}]: {name} — {where}",
    "unanswered_question": "No source answers this part of the ticket: “{question}”. Research it or escalate it.",
    "placeholder_removed": "A sentence with the placeholder {placeholder} was taken out: the ticket does not fill it.",
    "placeholder_left": "The reply still contains the placeholder {placeholder}: fill it in or remove it.",
    "ticket_echo_removed": "{count} sentence(s) repeating the customer's ticket were taken out.",
    # why a sentence is not supported (llm/claims.py)
    "reason_not_stated": "the sources do not state {claimed}",
    "reason_says_instead": "the sources say {stated}, not {claimed}",
    "reason_not_found": "not found in your documents",
    "reason_opposite": "the sources say the opposite",
    "reason_not_excluded": "the sources do not say this is excluded",
    "reason_roles": "the sources do not name {roles} here",
    "reason_names": "the sources do not mention {names}",
    "reason_period": "the sources say per {stated}, not per {claimed}",
    "reason_absolute": "the sources do not say “{word}”",
}


class Note(str):
    """Note("cut_off", limit=512) == "The answer was cut off at the token limit (KURA_LLM_MAX_TOKENS=512)."."""

    key: str
    params: dict[str, object]

    def __new__(cls, key: str, **params: object) -> Note:
        note = super().__new__(cls, ENGLISH[key].format(**params))
        note.key, note.params = key, params
        return note

    def __reduce__(self):  # pickled (a cached Streamlit resource, a forked worker) as the key and parameters
        return _rebuilt, (self.key, self.params)


def _rebuilt(key: str, params: dict[str, object]) -> Note:
    return Note(key, **params)


def as_data(value: object) -> object:
    """A Note (or a list or dict holding Notes) as plain JSON data that keeps its key: {"note", "params"}."""
    if isinstance(value, Note):
        return {"note": value.key, "params": {name: as_data(v) for name, v in value.params.items()}}
    if isinstance(value, list):
        return [as_data(v) for v in value]
    if isinstance(value, dict):
        return {name: as_data(v) for name, v in value.items()}
    return value


def from_data(value: object) -> object:
    """as_data's inverse: Notes come back as Notes, so a stored conversation is shown in the reader's language."""
    if isinstance(value, dict) and set(value) == {"note", "params"} and value["note"] in ENGLISH:
        return Note(value["note"], **{name: from_data(v) for name, v in value["params"].items()})
    if isinstance(value, list):
        return [from_data(v) for v in value]
    if isinstance(value, dict):
        return {name: from_data(v) for name, v in value.items()}
    return value
