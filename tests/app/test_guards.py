"""Uploads are checked before anything is stored: safe names, allowed types, size limits, and Office files
that would unpack into a zip bomb. Per-user rate limits count within a sliding minute."""

from __future__ import annotations

import io
import zipfile

import pytest

from app.guards import RateLimiter, UploadRejected, check_upload, is_local_request, sanitise_filename


@pytest.mark.parametrize(
    "name, safe",
    [
        ("../../etc/passwd.md", "passwd.md"),
        ("..\\..\\windows\\system.ini.txt", "system.ini.txt"),
        (".bashrc.md", "bashrc.md"),
        ("report; rm -rf ~.PDF", "report_ rm -rf _.pdf"),
        ("経費精算規程.md", "経費精算規程.md"),
        ("ｆｕｌｌｗｉｄｔｈ.md", "fullwidth.md"),
        ("", "upload"),
    ],
)
def test_file_names_cannot_escape_the_upload_folder(name, safe):
    assert sanitise_filename(name) == safe


def limits(name: str, data: bytes) -> str:
    return check_upload(name, data, max_mb=1, max_unpacked_mb=2)


def rejection(name: str, data: bytes) -> str:
    with pytest.raises(UploadRejected) as caught:
        limits(name, data)
    return caught.value.key


def docx_unpacking_to(size: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"0" * size)
    return buffer.getvalue()


def test_allowed_files_pass_with_their_safe_name():
    assert limits("Handbook.MD", b"# Handbook") == "Handbook.md"
    assert limits("small.docx", docx_unpacking_to(1000)) == "small.docx"


def test_bad_uploads_are_refused_with_a_reason():
    assert rejection("setup.exe", b"MZ") == "upload_type"
    assert rejection("no-suffix", b"text") == "upload_type"
    assert rejection("big.txt", b"x" * (1024 * 1024 + 1)) == "upload_size"
    assert rejection("empty.md", b"") == "upload_empty"
    assert rejection("fake.docx", b"plain text, not a zip") == "upload_corrupt"


def test_a_zip_bomb_disguised_as_docx_is_refused_before_unpacking():
    bomb = docx_unpacking_to(3 * 1024 * 1024)
    assert len(bomb) < 100_000, "small on the wire"
    assert rejection("bomb.docx", bomb) == "upload_bomb"


def test_rate_limit_counts_a_sliding_minute_per_user():
    limiter = RateLimiter(per_minute=2)
    assert limiter.allow("mei", now=0) == 0 and limiter.allow("mei", now=10) == 0
    assert limiter.allow("mei", now=20) == 40.0, "third within the minute: wait until the first expires"
    assert limiter.allow("ken", now=20) == 0, "other users have their own budget"
    assert limiter.allow("mei", now=60.5) == 0


@pytest.mark.parametrize(
    "headers, local",
    [
        ({"Host": "localhost:8501"}, True),
        ({"Host": "127.0.0.1:8501"}, True),
        ({"Host": "[::1]:8501"}, True),
        ({"Host": "localhost:8501", "Origin": "http://localhost:8501"}, True),
        ({"Host": "attacker.example:8501"}, False),
        ({"Host": "localhost.attacker.example"}, False),
        ({"Host": "localhost:8501", "Origin": "http://attacker.example:8501"}, False),
        ({"Host": "10.0.0.5:8501"}, False),
    ],
)
def test_single_user_mode_answers_only_requests_to_and_from_localhost(headers, local):
    """DNS rebinding: a remote page whose name now resolves to 127.0.0.1 sends its own Host and Origin."""
    assert is_local_request(headers) is local
