"""Who is calling, decided once for every HTTP door (the API routes and the MCP endpoint): a bearer token's user,
or, in single-user mode, the one local user from localhost only; then the caller's rate limit. Every refusal is an
ApiError the doors turn into the same JSON error."""

from __future__ import annotations

import math
from collections.abc import Mapping

from app.api.errors import ApiError
from app.guards import RateLimiter, is_local_request
from app.service import Caller, Kura, Via


class Gate:
    def __init__(self, kura: Kura) -> None:
        self.kura = kura
        self.limiter = RateLimiter(kura.settings.rate_limit_per_minute)

    def identify(self, headers: Mapping[str, str], via: Via = Via.API) -> Caller:
        """The caller these headers carry, or ApiError 401/403."""
        if self.kura.settings.single_user:
            if not is_local_request(headers):
                raise ApiError(403, "this personal kura (KURA_SINGLE_USER) answers requests to localhost only")
            return Caller.of(self.kura.single_user(), via)
        scheme, _, token = (headers.get("authorization") or "").partition(" ")
        who = self.kura.caller_for_token(token.strip(), via) if scheme.lower() == "bearer" else None
        if who is None:
            raise ApiError(401, "a valid bearer token is needed: an admin creates one with `kura tokens create "
                           "USER`; send it as `Authorization: Bearer TOKEN`", "authentication_error")  # fmt: skip
        return who

    def admit(self, headers: Mapping[str, str], path: str, via: Via = Via.API) -> Caller:
        """identify(), then one request against the caller's per-minute budget (429 with Retry-After when spent)."""
        who = self.identify(headers, via)
        wait = self.limiter.allow(who.token or who.name)
        if wait:
            self.kura.rate_limited(who, path)
            raise ApiError(429, f"too many requests: try again in {math.ceil(wait)} s (KURA_RATE_LIMIT_PER_MINUTE)",
                           "rate_limit_error", {"Retry-After": str(math.ceil(wait))})  # fmt: skip
        return who
