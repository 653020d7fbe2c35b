"""E-mail: EML (MIME) and Outlook MSG. Headers and body become the first section; each readable attachment is
parsed by its own format and kept under the heading "Attachment: NAME", so a citation names the attachment."""

from __future__ import annotations

import email
import email.policy
import tempfile
from pathlib import Path

from ingest.documents import ParsedDocument, ParseError, Section

HEADERS = ("From", "To", "Cc", "Date", "Subject")
ENCRYPTED_PARTS = (".p7m", ".pgp-encrypted", ".asc", ".gpg")
ENCRYPTED = "the message is encrypted (S/MIME or PGP); kura cannot read encrypted mail: ingest a decrypted copy"


def _message_section(headers: dict[str, str], body: str) -> Section:
    lines = [f"{name}: {value}" for name, value in headers.items() if value]
    return Section("\n".join(lines) + "\n\n" + body.strip(), headers.get("Subject", ""))


def attachment_sections(name: str, data: bytes) -> list[Section]:
    """An attachment parsed by its own extension; one that cannot be read is left out of the index."""
    from ingest.parse import parse

    suffix = Path(name).suffix.lower()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"attachment{suffix}"
        path.write_bytes(data)
        try:
            document = parse(path)
        except ParseError:
            return []
    label = f"Attachment: {name}"
    return [Section(s.text, f"{label} > {s.heading}" if s.heading else label, s.page) for s in document.sections]


def parse_eml(path: Path) -> ParsedDocument:
    from ingest.parse import html_document

    data = path.read_bytes()
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data[:200]:  # saved as UTF-16
        from ingest.documents import decode_text

        text = (
            decode_text(data, path)
            if data[:2] in (b"\xff\xfe", b"\xfe\xff")
            else data.decode("utf-16-le" if data[1:2] == b"\x00" else "utf-16-be")
        )
        message = email.message_from_string(text, policy=email.policy.default)
    else:
        message = email.message_from_bytes(data, policy=email.policy.default)
    if not any(message.get(h) for h in ("From", "Subject", "Date", "Message-ID")):
        raise ParseError("not an e-mail message (no From, Subject or Date header)")
    if message.get_content_type() in ("multipart/encrypted", "application/pkcs7-mime"):
        raise ParseError(ENCRYPTED)
    headers = {name: str(message.get(name, "") or "") for name in HEADERS}
    part = message.get_body(preferencelist=("plain", "html"))
    body = ""
    if part is not None:
        try:
            body = part.get_content()
        except (LookupError, UnicodeDecodeError):
            body = part.get_payload(decode=True).decode("utf-8", errors="replace")
        if part.get_content_type() == "text/html":
            body = "\n".join(s.text for s in html_document(body, "").sections)
    sections = [_message_section(headers, body)]
    for attachment in message.iter_attachments():
        name = attachment.get_filename()
        data = attachment.get_payload(decode=True)
        if name and data:
            sections += attachment_sections(name, data)
    return ParsedDocument(headers["Subject"] or path.stem, sections)


def _msg_string(ole, stream: str) -> str:
    """A MAPI property: Unicode (…001F) or 8-bit (…001E)."""
    for suffix, encoding in (("001F", "utf-16-le"), ("001E", "cp1252")):
        name = f"{stream}{suffix}"
        if ole.exists(name):
            return ole.openstream(name).read().decode(encoding, errors="replace").rstrip("\x00")
    return ""


def parse_msg(path: Path) -> ParsedDocument:
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
        sections += attachment_sections(name, data)
    return ParsedDocument(headers["Subject"] or path.stem, sections)
