"""E-mail: EML (MIME) and Outlook MSG. Headers and body become the first section; each readable attachment is
parsed by its own format and kept under the heading "Attachment: NAME", so a citation names the attachment.
Which parser reads an attachment is given by the caller (ingest/formats.py): this module knows no other format."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ingest.documents import ParsedDocument, ParseError, Section, decode_text
from ingest.html import html_document

HEADERS = ("From", "To", "Cc", "Date", "Subject")
ENCRYPTED_PARTS = (".p7m", ".pgp-encrypted", ".asc", ".gpg")
ENCRYPTED = "the message is encrypted (S/MIME or PGP); kura cannot read encrypted mail: ingest a decrypted copy"


def _message_section(headers: dict[str, str], body: str) -> Section:
    lines = [f"{name}: {value}" for name, value in headers.items() if value]
    return Section("\n".join(lines) + "\n\n" + body.strip(), headers.get("Subject", ""))


ReadAttachment = Callable[[str, bytes], ParsedDocument]  # (file name, bytes) → the attachment parsed, or ParseError


def attachment_sections(name: str, data: bytes, read_attachment: ReadAttachment) -> list[Section]:
    """An attachment parsed by its own format; one that cannot be read is left out of the index."""
    try:
        document = read_attachment(name, data)
    except ParseError:
        return []
    label = f"Attachment: {name}"
    return [Section(s.text, f"{label} > {s.heading}" if s.heading else label, s.page) for s in document.sections]


@dataclass(frozen=True)
class Message:
    """An e-mail as kura reads it, whether it is ingested (.eml) or pasted as a support ticket."""

    headers: dict[str, str]
    body: str
    attachments: list[tuple[str, bytes]]
    encrypted: bool = False


def read_message(data: bytes, path: Path = Path("message.eml")) -> Message:
    """MIME bytes (UTF-8 or, as some clients save them, UTF-16) → headers, the plain-text body (an HTML-only body
    as its text) and the attachments. ParseError when the bytes are not an e-mail."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # saved as UTF-16 with a byte-order mark
        message = email.message_from_string(decode_text(data, path), policy=email.policy.default)
    elif b"\x00" in data[:200]:  # UTF-16 without one
        text = data.decode("utf-16-le" if data[1:2] == b"\x00" else "utf-16-be")
        message = email.message_from_string(text, policy=email.policy.default)
    else:
        message = email.message_from_bytes(data, policy=email.policy.default)
    if not any(message.get(h) for h in ("From", "Subject", "Date", "Message-ID")):
        raise ParseError("not an e-mail message (no From, Subject or Date header)")
    headers = {name: str(message.get(name, "") or "") for name in HEADERS}
    if message.get_content_type() in ("multipart/encrypted", "application/pkcs7-mime"):
        return Message(headers, "", [], encrypted=True)
    part = message.get_body(preferencelist=("plain", "html"))
    body = ""
    if part is not None:
        try:
            body = part.get_content()
        except (LookupError, UnicodeDecodeError):
            body = part.get_payload(decode=True).decode("utf-8", errors="replace")
        if part.get_content_type() == "text/html":
            body = "\n".join(s.text for s in html_document(body, "").sections)
    attachments = []
    for attachment in message.iter_attachments():
        name, content = attachment.get_filename(), attachment.get_payload(decode=True)
        if name and content:
            attachments.append((name, content))
    return Message(headers, body, attachments)


def parse_eml(path: Path, read_attachment: ReadAttachment) -> ParsedDocument:
    message = read_message(path.read_bytes(), path)
    if message.encrypted:
        raise ParseError(ENCRYPTED)
    sections = [_message_section(message.headers, message.body)]
    for name, data in message.attachments:
        sections += attachment_sections(name, data, read_attachment)
    return ParsedDocument(message.headers["Subject"] or path.stem, sections)


def _msg_string(ole, stream: str) -> str:
    """A MAPI property: Unicode (…001F) or 8-bit (…001E)."""
    for suffix, encoding in (("001F", "utf-16-le"), ("001E", "cp1252")):
        name = f"{stream}{suffix}"
        if ole.exists(name):
            return ole.openstream(name).read().decode(encoding, errors="replace").rstrip("\x00")
    return ""


def parse_msg(path: Path, read_attachment: ReadAttachment) -> ParsedDocument:
    import olefile

    if not olefile.isOleFile(str(path)):
        raise ParseError("not an Outlook .msg file")
    with olefile.OleFileIO(str(path)) as ole:
        headers = {
            "From": _msg_string(ole, "__substg1.0_0C1A"),
            "To": _msg_string(ole, "__substg1.0_0E04"),
            "Cc": _msg_string(ole, "__substg1.0_0E03"),
            "Subject": _msg_string(ole, "__substg1.0_0037"),
        }
        body = _msg_string(ole, "__substg1.0_1000")
        attachments = []
        for folder in {entry[0] for entry in ole.listdir() if entry[0].startswith("__attach_version1.0_")}:
            name = _msg_string(ole, f"{folder}/__substg1.0_3707") or _msg_string(ole, f"{folder}/__substg1.0_3704")
            data_stream = f"{folder}/__substg1.0_37010102"
            if name and ole.exists(data_stream):
                attachments.append((name, ole.openstream(data_stream).read()))
    if not body.strip() and any(name.lower().endswith(ENCRYPTED_PARTS) for name, _ in attachments):
        raise ParseError(ENCRYPTED)
    sections = [_message_section(headers, body)]
    for name, data in sorted(attachments):
        sections += attachment_sections(name, data, read_attachment)
    return ParsedDocument(headers["Subject"] or path.stem, sections)
