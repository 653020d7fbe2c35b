"""Who may call the API and MCP, decided in one place (app/api/access.py): a valid bearer token names its user, a
personal kura answers localhost only, and each caller has a per-minute budget: past it, 429 with Retry-After, the
refusal audited."""

from __future__ import annotations

import pytest

from app.api.access import Gate
from app.api.errors import ApiError
from app.audit import AuditLog
from app.service import Kura, Via
from app.settings import Settings


def gate(tmp_path, **settings) -> Gate:
    return Gate(Kura(Settings(home=tmp_path / "home", rate_limit_per_minute=2, **settings)))


def refused(gate: Gate, headers: dict) -> ApiError:
    with pytest.raises(ApiError) as caught:
        gate.admit(headers, "/v1/search")
    return caught.value


def test_a_token_names_its_user_and_anything_else_is_401(tmp_path):
    door = gate(tmp_path)
    door.kura.users.add("sam", "sam-password", ("staff",))
    token, _ = door.kura.tokens.create("sam", "ide")
    who = door.identify({"authorization": f"Bearer {token}"}, Via.MCP)
    assert (who.name, who.groups, who.via) == ("sam", ("staff",), Via.MCP) and who.token.endswith(" ide")
    for headers in ({}, {"authorization": "Bearer kura_nope"}, {"authorization": f"Basic {token}"}):
        assert refused(door, headers).status == 401


def test_a_personal_kura_answers_localhost_only(tmp_path):
    door = gate(tmp_path, single_user=True)
    assert door.identify({"host": "127.0.0.1:8501"}).admin
    assert refused(door, {"host": "kura.example.com"}).status == 403


def test_past_its_budget_a_caller_gets_429_with_retry_after_and_it_is_audited(tmp_path):
    door = gate(tmp_path, single_user=True)
    local = {"host": "localhost:8501"}
    door.admit(local, "/v1/search")
    door.admit(local, "/v1/search")
    third = refused(door, local)
    assert third.status == 429 and int(third.headers["Retry-After"]) > 0
    assert AuditLog(tmp_path / "home" / "audit.jsonl").read(action="rate_limited")[0]["request"] == "/v1/search"
