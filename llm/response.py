"""A reply being written, as one object (cf. simonw/llm's Response): iterate it for the text as the model writes
it, then `result()` gives the final Answer or Draft with its citations and checks. `close()` stops the model
mid-answer (the Stop button): the generator is closed, so a local model's turn is released at once."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

T = TypeVar("T")


class Stage(StrEnum):
    SEARCHING = "searching"
    WRITING = "writing"  # passages found; the model (or the quotes) being written
    CHECKING = "checking"  # each sentence checked against the passages
    DONE = "done"


@dataclass
class Progress:
    """What the reply is doing now, for a front end to show while no text arrives yet. Each change of stage is
    also an empty text chunk, so whoever iterates the Response gets the chance to show it."""

    stage: Stage = Stage.SEARCHING
    passages: int = 0  # relevant passages found


class Response(Generic[T]):
    def __init__(self, steps: Generator[str, None, T], progress: Progress | None = None) -> None:
        self._steps = steps
        self.progress = progress or Progress()
        self._result: T | None = None
        self._done = False

    def __iter__(self) -> Iterator[str]:
        if not self._done:
            self._result = yield from self._steps
            self._done = True
            self.progress.stage = Stage.DONE

    def result(self) -> T:
        """The final object, after the rest of the text (if any) has been written."""
        for _ in self:
            pass
        assert self._result is not None
        return self._result

    def close(self) -> None:
        self._steps.close()
