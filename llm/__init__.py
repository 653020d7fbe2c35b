"""Turning evidence into answers: prompts, chat backends (local llama.cpp, OpenAI-compatible), citations."""

from llm.answer import ABSTAIN_MESSAGE, Answer, Answerer, AnswerOptions, Citation
from llm.backends import ChatBackend, LLMError, LocalLlamaBackend, OpenAIBackend

__all__ = [
    "ABSTAIN_MESSAGE",
    "Answer",
    "AnswerOptions",
    "Answerer",
    "ChatBackend",
    "Citation",
    "LLMError",
    "LocalLlamaBackend",
    "OpenAIBackend",
]
