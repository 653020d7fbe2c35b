"""What `kura status` and the app's status view report: counts, masked settings, and whether each part answers."""

from __future__ import annotations

from app.services import Kura


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

        response = httpx.get(s.llm_base_url.rstrip("/") + "/models", timeout=5,
                             headers={"Authorization": f"Bearer {s.llm_api_key.get_secret_value()}"})
        response.raise_for_status()
        return f"{s.llm_base_url} serves {[m['id'] for m in response.json().get('data', [])]}"

    return probe


def check_health(kura: Kura) -> dict:
    health = {
        "store": _check(lambda: kura.store.description),
        "embedder": _check(lambda: f"{kura.embedder.model_path.name} ({kura.embedder.dim} dims)"),
        "llm": _check(_llm_probe(kura)),
    }
    documents = sum(1 for r in kura.manifest.all() if r.status == "ingested")
    return {
        "documents": documents,
        "chunks": kura.store.count() if health["store"]["ok"] else None,
        "collection": kura.settings.collection,
        "settings": kura.settings.public_dict(),
        "health": health,
    }
