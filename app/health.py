"""What `kura status` and the app's status view report: counts, masked settings, and whether each part answers."""

from __future__ import annotations

from app.services import Kura
from retrieval.urls import redacted


def _check(probe) -> dict:
    try:
        return {"ok": True, "detail": probe()}
    except Exception as exc:  # a status report must describe every failure, not raise it
        return {"ok": False, "detail": str(exc)}


def _llm_probe(kura: Kura):
    s = kura.settings

    def probe() -> str:
        if s.llm_backend == "extractive":
            return "extractive (no model)"
        if s.llm_backend == "local":
            if not s.llm_model_path.is_file():
                raise FileNotFoundError(f"no model file at {s.llm_model_path}; run `make setup`")
            return f"local GGUF {s.llm_model_path.name}"
        import httpx

        try:
            response = httpx.get(
                s.llm_base_url.rstrip("/") + "/models",
                timeout=5,
                headers={"Authorization": f"Bearer {s.llm_api_key.get_secret_value()}"},
            )
            response.raise_for_status()
        except httpx.HTTPError as exc:  # its message would repeat the URL, credentials and all
            status = (
                f"HTTP {exc.response.status_code}" if isinstance(exc, httpx.HTTPStatusError) else type(exc).__name__
            )
            raise RuntimeError(f"{redacted(s.llm_base_url)} did not answer ({status})") from None
        return f"{redacted(s.llm_base_url)} serves {[m['id'] for m in response.json().get('data', [])]}"

    return probe


def check_health(kura: Kura) -> dict:
    health = {
        "store": _check(lambda: kura.store.description),
        "embedder": _check(lambda: f"{kura.embedder.model_path.name} ({kura.embedder.dim} dims)"),
        "llm": _check(_llm_probe(kura)),
    }
    records = kura.manifest.all()
    documents = sum(1 for r in records if r.status == "ingested")
    chunks = kura.store.count() if health["store"]["ok"] else None
    recorded = sum(r.chunks for r in records)
    if chunks is not None and chunks != recorded:
        health["index"] = {
            "ok": False,
            "detail": f"the manifest records {recorded} passages but the store holds "
            f"{chunks}: run `kura ingest` on your folders to repair the index",
        }
    return {
        "documents": documents,
        "chunks": chunks,
        "collection": kura.settings.collection,
        "settings": kura.settings.public_dict(),
        "health": health,
    }
