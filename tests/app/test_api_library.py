"""Changing the library over HTTP (admins), and the library being changed while people ask. An upload is checked
like the Library page's, ingested in the background and polled as a job until its report; a staff token may not
upload, sync or delete; a folder re-sync runs as a job while sixteen questions arrive at once, and every question is
answered and nothing is lost. The API describes itself at /v1/docs with no asset from outside the server."""

from __future__ import annotations

import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import SAMPLES

pytestmark = pytest.mark.slow  # a real server process


def bearer(server, user: str) -> dict:
    return {"Authorization": f"Bearer {server[1][user]}"}


def finished(server, job: dict, user: str = "ada", timeout: float = 300) -> dict:
    """Poll a job until it is done or failed; every poll shows its progress so far."""
    url = server[0]
    deadline = time.monotonic() + timeout
    while job["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, f"job {job['id']} still {job['state']}"
        time.sleep(0.5)
        job = httpx.get(f"{url}/v1/jobs/{job['id']}", headers=bearer(server, user)).json()
    return job


def test_an_admin_uploads_files_and_polls_the_job_until_its_report(server):
    url = server[0]
    files = [
        ("files", ("travel-rules.md", b"# Travel\n\nTrain tickets over 30,000 yen need a manager's approval.\n")),
        ("files", ("notes.exe", b"MZ\x90\x00")),
    ]
    started = httpx.post(f"{url}/v1/documents", files=files, data={"groups": "everyone"}, headers=bearer(server, "ada"))
    assert started.status_code == 202 and started.json()["kind"] == "upload"
    job = finished(server, started.json())
    assert job["state"] == "done" and job["progress"]["files_done"] == job["progress"]["files_total"] == 1
    [rejected] = job["result"]["rejected"]
    assert rejected["name"] == "notes.exe" and "cannot be ingested (allowed:" in rejected["reason"]
    hits = httpx.post(f"{url}/v1/search", json={"query": "train ticket approval"}, headers=bearer(server, "sam"))
    assert hits.json()["hits"][0]["source"] == "uploads/travel-rules.md", "searchable by the groups it was given"

    [uploaded] = [d for d in httpx.get(f"{url}/v1/documents", headers=bearer(server, "ada")).json()["documents"]
                  if d["path"] == "uploads/travel-rules.md"]  # fmt: skip
    gone = httpx.delete(f"{url}/v1/documents/{uploaded['id']}", headers=bearer(server, "ada"))
    assert gone.status_code == 200 and gone.json()["title"] == "Travel"
    again = httpx.delete(f"{url}/v1/documents/{uploaded['id']}", headers=bearer(server, "ada"))
    assert again.status_code == 404 and "GET /v1/documents" in again.json()["error"]["message"]


def test_staff_may_not_change_the_library_nor_see_an_admins_job(server):
    url = server[0]
    staff = bearer(server, "sam")
    upload = httpx.post(f"{url}/v1/documents", files=[("files", ("a.md", b"# A\n\ntext\n"))], headers=staff)
    sync = httpx.post(f"{url}/v1/sync", json={"folder": str(server[3])}, headers=staff)
    delete = httpx.delete(f"{url}/v1/documents/0123", headers=staff)
    for refused in (upload, sync, delete):
        assert refused.status_code == 403 and "admins" in refused.json()["error"]["message"]
    job = httpx.post(f"{url}/v1/sync", json={"folder": "/no/such/folder"}, headers=bearer(server, "ada"))
    assert job.status_code == 400 and "not a folder on the server" in job.json()["error"]["message"]


def test_sixteen_questions_while_a_sync_ingests_every_answer_arrives_and_nothing_is_lost(server, tmp_path):
    url, _, _, library = server
    more = library / "more"
    shutil.copytree(SAMPLES / "support", more)
    for n in range(12):  # enough to keep the ingest busy while the questions arrive
        (more / f"faq-{n}.md").write_text(f"# FAQ {n}\n\nQuestion {n}: the answer code is K-{n:04d}.\n" * 20)
    before = len(httpx.get(f"{url}/v1/documents", headers=bearer(server, "ada")).json()["documents"])
    job = httpx.post(f"{url}/v1/sync", json={"folder": str(more)}, headers=bearer(server, "ada")).json()

    def ask(n: int) -> httpx.Response:
        question = ["How many weeks of parental leave?", "How do refunds work?"][n % 2]
        return httpx.post(f"{url}/v1/chat/completions", headers=bearer(server, "sam"), timeout=300,
                          json={"model": "kura", "messages": [{"role": "user", "content": question}]})  # fmt: skip

    with ThreadPoolExecutor(16) as pool:
        replies = list(pool.map(ask, range(16)))
    assert all(r.status_code == 200 and r.json()["choices"][0]["message"]["content"] for r in replies)
    assert all(r.json()["citations"] for r in replies), "every question answered from the documents"
    job = finished(server, job)
    assert job["state"] == "done" and job["result"]["report"]["failed"] == []
    after = httpx.get(f"{url}/v1/documents", headers=bearer(server, "ada")).json()["documents"]
    assert len(after) == before + 12 + len(list((SAMPLES / "support").iterdir())), "every file went in"
    hit = httpx.post(f"{url}/v1/search", json={"query": "answer code K-0007"}, headers=bearer(server, "sam")).json()
    assert "K-0007" in hit["hits"][0]["text"]


def test_the_api_describes_itself_offline(server):
    url = server[0]
    page = httpx.get(f"{url}/v1/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith("/v1/") for a in assets), f"no asset from outside the server: {assets}"
    assert all(httpx.get(url + a).status_code == 200 for a in assets)
    schema = httpx.get(f"{url}/v1/openapi.json").json()
    assert {"/chat/completions", "/search", "/documents", "/sync", "/jobs/{job_id}"} <= set(schema["paths"])
    assert schema["servers"] == [{"url": "/v1"}] and "/cli" not in str(schema["paths"])
