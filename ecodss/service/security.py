"""API keys, roles, per-key rate limits and the request-body size limit.

* **Keys** are bearer tokens ``ecd_<key id>_<secret>`` (256 random bits). The store keeps only the
  SHA-256 of the token — a fast hash suffices for high-entropy random secrets (no dictionary to
  attack, unlike passwords) — and compares digests in constant time (:func:`hmac.compare_digest`).
  ``ecodss keys create NAME --role operator`` prints a token once; it cannot be shown again.
* **Roles**: ``readonly`` reads models, jobs, results and makes the synchronous AQI/alert calls;
  ``operator`` may also submit and cancel jobs.
* **Rate limit**: a token bucket per key (``rate_per_minute`` of the key, else the server's
  default), holding at most :data:`BURST_SECONDS` worth of requests; an empty bucket answers 429
  with ``Retry-After``.
* **Body size**: requests above ``max_body_bytes`` answer 413, whether they announce their length
  or stream it (chunked).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .problems import Problem, problem_response
from .store import ROLES, ServiceStore

#: Seconds of the key's rate a burst may use at once (bucket capacity = rate * BURST_SECONDS).
BURST_SECONDS = 10.0
#: How long a looked-up key stays cached [s] (a revoked key stops working within this time).
KEY_CACHE_SECONDS = 5.0
_PREFIX = "ecd"


@dataclass(frozen=True)
class Principal:
    """The caller behind a valid key."""

    key_id: str
    name: str
    role: str
    rate_per_minute: float | None

    @property
    def is_operator(self) -> bool:
        return self.role == "operator"


def token_digest(token: str) -> str:
    """Hex SHA-256 of a token (what the store keeps)."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_key(store: ServiceStore, name: str, role: str = "readonly",
               rate_per_minute: float | None = None) -> tuple[str, str]:
    """Create an API key; returns ``(key_id, token)`` — the token is not stored, only its hash."""
    if role not in ROLES:
        raise ValueError(f"role {role!r} must be one of {list(ROLES)}")
    if rate_per_minute is not None and not rate_per_minute > 0:
        raise ValueError(f"rate_per_minute={rate_per_minute} must be > 0")
    key_id = secrets.token_hex(6)
    token = f"{_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    store.add_key(key_id, name, role, token_digest(token), rate_per_minute)
    return key_id, token


class TokenBucket:
    """Token buckets per key: ``allow(key, rate)`` -> (allowed, seconds to wait)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float]] = {}

    def allow(self, key: str, rate_per_minute: float) -> tuple[bool, float]:
        rate = rate_per_minute / 60.0  # [requests s-1]
        capacity = max(1.0, rate * BURST_SECONDS)
        now = time.monotonic()
        with self._lock:
            tokens, last = self._state.get(key, (capacity, now))
            tokens = min(capacity, tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._state[key] = (tokens - 1.0, now)
                return True, 0.0
            self._state[key] = (tokens, now)
            return False, (1.0 - tokens) / rate


class Authenticator:
    """Resolves bearer tokens to :class:`Principal` s and applies the per-key rate limit."""

    def __init__(self, store: ServiceStore, default_rate_per_minute: float | None = 600.0):
        self.store = store
        self.default_rate = default_rate_per_minute
        self.buckets = TokenBucket()
        self._cache: dict[str, tuple[float, Principal | None]] = {}
        self._lock = threading.Lock()

    def _lookup(self, token: str) -> Principal | None:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(token)
        if hit is not None and now - hit[0] < KEY_CACHE_SECONDS:
            return hit[1]
        principal = None
        parts = token.split("_", 2)
        if len(parts) == 3 and parts[0] == _PREFIX:
            row = self.store.key(parts[1])
            if row is not None and row["revoked"] is None and hmac.compare_digest(
                    row["digest"], token_digest(token)):
                principal = Principal(row["key_id"], row["name"], row["role"],
                                      row["rate_per_minute"])
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[token] = (now, principal)
        return principal

    def authenticate(self, credentials: HTTPAuthorizationCredentials | None) -> Principal:
        challenge = {"WWW-Authenticate": 'Bearer realm="ecodss"'}
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise Problem(401, "an API key is required: send 'Authorization: Bearer <key>'",
                          headers=challenge)
        principal = self._lookup(credentials.credentials)
        if principal is None:
            raise Problem(401, "the API key is not valid (unknown or revoked)",
                          headers=challenge)
        rate = principal.rate_per_minute or self.default_rate
        if rate:
            ok, wait = self.buckets.allow(principal.key_id, rate)
            if not ok:
                retry = max(1, math.ceil(wait))
                raise Problem(429, f"rate limit of {rate:g} requests per minute exceeded for "
                              f"key {principal.key_id}; retry in {retry} s",
                              headers={"Retry-After": str(retry)})
        return principal


_bearer = HTTPBearer(auto_error=False, description="API key from `ecodss keys create`")


def _principal(request: Request, credentials: Annotated[
        HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Principal:
    principal = request.app.state.auth.authenticate(credentials)
    request.state.principal = principal
    return principal


def require_reader(principal: Annotated[Principal, Depends(_principal)]) -> Principal:
    """Any valid key (read-only or operator)."""
    return principal


def require_operator(principal: Annotated[Principal, Depends(_principal)]) -> Principal:
    """An operator key: only operators submit or cancel jobs."""
    if not principal.is_operator:
        raise Problem(403, f"key {principal.key_id} has role {principal.role!r}; submitting and "
                      "cancelling jobs needs the 'operator' role")
    return principal


class BodySizeLimit:
    """ASGI middleware answering 413 to request bodies larger than ``max_bytes``."""

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, int(max_bytes)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        too_big = problem_response(
            None, 413, f"the request body exceeds the limit of {self.max_bytes} bytes")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                size = 0
            if size > self.max_bytes:
                return await too_big(scope, receive, send)
            return await self.app(scope, receive, send)  # the server enforces the length
        # no declared length (chunked): read up to the limit first, then replay the body
        body, more = [], True
        seen = 0
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            body.append(message.get("body", b""))
            seen += len(body[-1])
            if seen > self.max_bytes:
                return await too_big(scope, receive, send)
            more = message.get("more_body", False)
        replay = [{"type": "http.request", "body": b"".join(body), "more_body": False}]

        async def replay_receive():
            return replay.pop() if replay else await receive()

        await self.app(scope, replay_receive, send)
