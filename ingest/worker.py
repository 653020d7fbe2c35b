"""Parsing in a child process with a time limit and a memory limit: a hostile PDF or a zip bomb disguised as a
DOCX fails that one file with a reason; it never hangs, and never takes the batch (or the machine) down."""

from __future__ import annotations

import functools
import importlib
import multiprocessing
import resource
import threading
from dataclasses import dataclass
from pathlib import Path

from ingest import formats, ocr
from ingest.documents import ParsedDocument, ParseError


@dataclass(frozen=True)
class ParseOptions:
    """How a file is read: its limits (time, memory, size), and the languages scans are read in."""

    timeout_s: float = 120.0
    memory_mb: int = 2048
    max_file_mb: int = 512
    ocr_languages: str = ocr.DEFAULT_LANGUAGES


def describe(exc: BaseException) -> str:
    """A reason a person can act on, for any failure while reading a file."""
    if isinstance(exc, ParseError):
        return str(exc)
    if isinstance(exc, PermissionError):
        return "permission denied: kura cannot read this file"
    if isinstance(exc, MemoryError):
        return "reading it needed more memory than allowed (KURA_PARSE_MEMORY_MB); it may be a zip bomb"
    return f"could not be read ({type(exc).__name__}: {exc})"


def _address_space() -> int:
    with open("/proc/self/status") as status:
        kilobytes = next(int(line.split()[1]) for line in status if line.startswith("VmSize:"))
    return kilobytes * 1024


def _parse_in_child(path: str, memory_mb: int, ocr_languages: str, connection) -> None:

    # The child starts as a copy of the parent's address space (models and all): it may grow by memory_mb.
    limit = _address_space() + memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        connection.send(("ok", formats.parse(Path(path), ocr_languages)))
    except BaseException as exc:  # everything becomes a reason; the parent decides what to do with it
        connection.send(("error", describe(exc)))
    finally:
        connection.close()


_LOADING_PARSERS = threading.Lock()


def load_parsers() -> None:
    """Import every parser library on the thread that starts a batch, before its parse threads exist, one
    batch at a time. Two threads that import the same packages lazily can each hold a module lock the other
    needs: Python then fails one of the imports (_DeadlockError), and that file with it."""
    with _LOADING_PARSERS:
        for name in formats.libraries():
            importlib.import_module(name)


@functools.cache
def _context():
    """fork, after the parser libraries are loaded: each child starts with them, in milliseconds. A child only
    parses and sends the result back; it never touches the parent's other threads."""
    load_parsers()
    return multiprocessing.get_context("fork")


# Small plain-text files (the table's in_process formats) are read in this process: only kura's own decoding and
# splitting touch them, and their size bounds time and memory. Starting a child costs ~50 ms, more than reading one.
IN_PROCESS_MAX_BYTES = 1 << 20


def parse_isolated(path: Path, limits: ParseOptions) -> ParsedDocument:
    """parse(path) in its own process; ParseError with the reason when it fails, is too big, slow or hungry."""
    size = path.stat().st_size
    if size == 0:
        raise ParseError("the file is empty")
    if size > limits.max_file_mb * 1024 * 1024:
        raise ParseError(f"the file is larger than the {limits.max_file_mb} MB limit (KURA_MAX_FILE_MB)")
    if path.suffix.lower() in formats.in_process() and size <= IN_PROCESS_MAX_BYTES:
        return formats.parse(path, limits.ocr_languages)
    context = _context()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_parse_in_child, args=(str(path), limits.memory_mb, limits.ocr_languages, sender), daemon=True
    )
    process.start()
    sender.close()
    try:
        if not receiver.poll(limits.timeout_s):
            raise ParseError(
                f"reading it took longer than {limits.timeout_s:g} s (KURA_PARSE_TIMEOUT_S); "
                "the file may be malformed or hostile"
            )
        kind, value = receiver.recv()
    except EOFError:
        raise ParseError(
            "the parser crashed on this file (it ran out of memory or hit a bug); the file may be malformed"
        ) from None
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join()
    if kind == "error":
        raise ParseError(value)
    return value
