"""Cognito ID-token verification, run as HTTP middleware.

The same code runs under `chalice local`, Chalice's test client and Lambda: Chalice's
built-in Cognito authorizer is not enforced locally and answers denials in API Gateway's own
shape, so the check is ours. RS256 only, against the pool's JWKS (fetched once, cached).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Generic, TypeVar

from chalicelib.domain.errors import (
    AppError,
    Forbidden,
    ServiceUnavailable,
    Unauthorized,
    UnsupportedMediaType,
)
from chalicelib.settings import get_settings

logger = logging.getLogger(__name__)

AGENT_GROUP_PREFIX = "agent-"
PUBLIC_ROUTES = frozenset({"/openapi.json"})


@dataclass(frozen=True)
class Principal:
    subject: str
    member_id: str | None
    groups: frozenset[str]

    @property
    def agent_services(self) -> frozenset[str]:
        return frozenset(
            g.removeprefix(AGENT_GROUP_PREFIX)
            for g in self.groups
            if g.startswith(AGENT_GROUP_PREFIX)
        )

    def require_member(self) -> str:
        if not self.member_id:
            raise Forbidden("Cet espace est réservé aux adhérents.")
        return self.member_id

    def require_agent_of(self, service: str) -> None:
        if service not in self.agent_services:
            raise Forbidden("Vous n'êtes pas agent de ce service.")


V = TypeVar("V")


class _Memory(Generic[V]):
    """A bounded map whose entries stand until their own moment (least recently used out first,
    beyond `max_entries`); thread-safe. `until` and `now` are on the caller's clock."""

    def __init__(self, max_entries: int) -> None:
        self._max_entries = max_entries
        self._entries: OrderedDict[str, tuple[V, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str, now: float) -> V | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry[1] <= now:
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def put(self, key: str, value: V, until: float) -> None:
        with self._lock:
            self._entries[key] = (value, until)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)


class TokenVerifier:
    """Verifies a token's signature and claims once, then remembers the exact token string it
    accepted until the token expires, `remember_seconds` at most (bounded, least recently used
    out first): a member's portal sends the same ID token with every call of the hour it lives,
    and the signature check and the base64 decoding were a third of a read's own time
    (docs/performance.md). Only the exact string verified before is served from memory: any
    other byte is a new token, checked in full. As with API Gateway's authorizer cache, a key
    withdrawn from the pool's JWKS stops a remembered token after `remember_seconds`."""

    def __init__(
        self,
        issuer: str,
        audience: str,
        jwks_url: str,
        cache_seconds: int,
        *,
        remember_seconds: float = 300,
        max_remembered: int = 1024,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._issuer = issuer
        self._audience = audience
        import jwt  # on first use: the queue and schedule functions never verify a token

        self._jwks = jwt.PyJWKClient(
            jwks_url, cache_jwk_set=True, lifespan=cache_seconds, timeout=5
        )
        self._remember_seconds = remember_seconds
        self._clock = clock
        self._remembered: _Memory[Principal] = _Memory(max_remembered)

    def verify(self, token: str) -> Principal:
        now = self._clock()
        remembered = self._remembered.get(token, now)
        if remembered is not None:
            return remembered
        principal, expires_at = self._verified(token)
        self._remembered.put(token, principal, min(expires_at, now + self._remember_seconds))
        return principal

    def _verified(self, token: str) -> tuple[Principal, float]:
        """The full check: header, key, signature, issuer, audience, times, token use."""
        import jwt

        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != "RS256" or not header.get("kid"):
                raise Unauthorized("Jeton refusé: algorithme non admis.")
            signing_key = self._jwks.get_signing_key(header["kid"])  # the header, read once
            claims: dict[str, Any] = jwt.decode(
                token,
                signing_key.key,
                algorithms=["RS256"],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "token_use"]},
            )
        except jwt.PyJWKClientConnectionError as error:
            logger.error("JWKS unreachable: %s", type(error).__name__)
            raise ServiceUnavailable("Vérification d'identité indisponible.") from error
        except jwt.ExpiredSignatureError as error:
            raise Unauthorized("Jeton expiré.") from error
        except (jwt.PyJWTError, ValueError) as error:
            raise Unauthorized("Jeton invalide.") from error
        if claims.get("token_use") != "id":
            raise Unauthorized("Un jeton d'identité (ID token) est attendu.")
        groups = claims.get("cognito:groups") or []
        member_id = claims.get("custom:member_id")
        principal = Principal(
            subject=str(claims["sub"]),
            member_id=str(member_id) if member_id else None,
            groups=frozenset(str(g) for g in groups),
        )
        return principal, float(claims["exp"])


class AccountBindings:
    """Holds a member's token to the member's own account: its `sub` must be the one recorded
    when the insurer created the account (`store.accounts`). Without this, the member would be
    whatever `custom:member_id` the token carries, and a pool that lets users sign up or write
    that attribute (moto's does both) would let anyone choose which member they are.

    Bindings are read once per warm container, then again after `ttl_seconds`; a token whose
    `sub` differs from the cached one is checked against the table before it is refused.
    """

    def __init__(
        self,
        lookup: Callable[[str], str | None],
        ttl_seconds: float = 300,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lookup = lookup
        self._ttl = ttl_seconds
        self._clock = clock
        self._bound: _Memory[str] = _Memory(max_entries)

    def hold(self, member_id: str, subject: str) -> None:
        if self._bound.get(member_id, self._clock()) == subject:
            return
        bound = self._lookup(member_id)
        if bound is not None:
            self._bound.put(member_id, bound, self._clock() + self._ttl)
        if bound != subject:
            logger.warning("token refused: its account is not the member's")
            raise Forbidden("Ce compte n'est pas rattaché à cet adhérent.")


@lru_cache(maxsize=1)
def account_bindings() -> AccountBindings:
    from chalicelib.store.accounts import MemberAccounts
    from chalicelib.store.dynamo import unavailable_on_throttling

    accounts = MemberAccounts()

    def bound_sub(member_id: str) -> str | None:
        with unavailable_on_throttling():
            return accounts.bound_sub(member_id)

    return AccountBindings(bound_sub)


@lru_cache(maxsize=1)
def verifier() -> TokenVerifier:
    settings = get_settings()
    return TokenVerifier(
        issuer=settings.cognito_issuer,
        audience=settings.cognito_app_client_id,
        jwks_url=settings.cognito_jwks_url,
        cache_seconds=settings.jwks_cache_seconds,
    )


_principal: ContextVar[Principal] = ContextVar("principal")


def current_principal() -> Principal:
    try:
        return _principal.get()
    except LookupError as error:  # a route reached without the middleware: refuse, never guess
        raise Unauthorized("Authentification requise.") from error


def current_member_id() -> str:
    return current_principal().require_member()


@contextmanager
def signed_in(principal: Principal) -> Iterator[None]:
    token = _principal.set(principal)
    try:
        yield
    finally:
        _principal.reset(token)


def bearer_token(headers: Any) -> str:
    value = headers.get("authorization") or ""
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authentification requise (Authorization: Bearer <jeton>).")
    return token.strip()


def _require_json(event: Any) -> None:
    """Answer 415 in our shape before Chalice answers it in its own."""
    content_type = (event.headers.get("content-type") or "application/json").lower()
    media_type = content_type.split(";", 1)[0].strip()  # its parameters (charset) aside
    if event.method in {"POST", "PUT", "PATCH"} and media_type != "application/json":
        raise UnsupportedMediaType("Le corps doit être en JSON (Content-Type: application/json).")


def authenticate(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """HTTP middleware: verify the token before any route runs; log the call, correlated."""
    from chalicelib.observability import correlated

    context = event.context or {}
    incoming = event.headers.get("x-correlation-id") or context.get("requestId")
    with correlated(incoming) as correlation:
        started = time.perf_counter()
        try:
            response = _checked(event, get_response)
        except Exception as error:  # not Chalice's log of it: that quotes the error's text
            from chalicelib.api.errors import internal_error_response
            from chalicelib.observability import failure

            logger.error("unhandled error", extra=failure(error))
            response = internal_error_response()
        response.headers["X-Correlation-Id"] = correlation
        logger.info(
            "%s %s %s",
            event.method,
            context.get("resourcePath"),
            response.status_code,
            extra={
                "status": response.status_code,
                "ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return response


def _checked(event: Any, get_response: Callable[[Any], Any]) -> Any:
    from chalicelib.api.errors import error_response
    from chalicelib.observability import member_ref, powertools_logger

    route = (event.context or {}).get("resourcePath")
    if route in PUBLIC_ROUTES or event.method == "OPTIONS":
        return get_response(event)
    try:
        principal = verifier().verify(bearer_token(event.headers))
        if principal.member_id:
            account_bindings().hold(principal.member_id, principal.subject)
        _require_json(event)
    except AppError as error:
        return error_response(error)
    if principal.member_id:  # removed with the call's other keys (`correlated`)
        powertools_logger().append_keys(member_ref=member_ref(principal.member_id))
    with signed_in(principal):
        return get_response(event)
