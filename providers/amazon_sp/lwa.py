"""Login with Amazon: exchange the app's credentials for short-lived SP-API access tokens.

Two kinds of token exist and they are not interchangeable: a *seller* token
(``grant_type=refresh_token``) acts for the selling partner who authorized the app, and a
*grantless* token (``grant_type=client_credentials`` with a scope) acts for the app alone and is
the only kind the grantless Notifications operations accept. Each is cached until shortly before
its ``expires_in`` runs out, so a whole refresh costs one exchange per kind, and a token the API
rejects is dropped so the next call fetches a new one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from providers.http import ApiClient, json_body
from providers.sdk.errors import AuthError, ProviderError

from .operations import NOTIFICATIONS_SCOPE

SELLER = "seller"
GRANTLESS = "grantless"

_HINTS = {
    "invalid_grant": (
        "the refresh token is invalid, expired or revoked: authorize the app again for this "
        "selling partner and update credentials.refresh_token"
    ),
    "invalid_client": "check credentials.client_id and credentials.client_secret (the app's LWA credentials)",
    "unauthorized_client": "this app may not use that grant; check the app's registration in Developer Central",
    "invalid_scope": f"this app may not request the scope {NOTIFICATIONS_SCOPE}",
}


class LwaError(AuthError):
    """Login with Amazon refused the exchange; ``code`` is LWA's ``error`` (invalid_grant ...)."""

    def __init__(
        self, message: str, *, code: str, kind: str, status: int | None, request_id: str | None
    ) -> None:
        super().__init__(message, status=status, request_id=request_id)
        self.code = code
        self.kind = kind

    @property
    def scope_refused(self) -> bool:
        """The app may not have a grantless token: only the grantless operations are lost."""
        return self.kind == GRANTLESS and self.code in ("invalid_scope", "unauthorized_client")


@dataclass(frozen=True)
class AccessToken:
    value: str
    expires_at: float  # on the session's clock


def describe_lwa_error(response: httpx.Response) -> str:
    """LWA answers ``{"error": ..., "error_description": ...}``, not SP-API's ``errors`` list."""
    try:
        body = json_body(response)
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict) and "error" in body:
        description = body.get("error_description") or ""
        return f"{body['error']}: {description}".rstrip(": ")
    return response.text[:200]


class LwaSession:
    """Caches one token per kind; at most one exchange per kind is in flight at a time."""

    def __init__(
        self,
        api: ApiClient,
        *,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        clock: Callable[[], float] = time.monotonic,
        margin: float = 60.0,
    ) -> None:
        self._api = api
        self._client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self._clock = clock
        self._margin = margin
        self._cache: dict[str, AccessToken] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.exchanges = 0

    async def token(self, kind: str) -> str:
        cached = self._cache.get(kind)
        if cached is not None and self._clock() < cached.expires_at:
            return cached.value
        lock = self._locks.setdefault(kind, asyncio.Lock())
        async with lock:
            cached = self._cache.get(kind)
            if cached is not None and self._clock() < cached.expires_at:
                return cached.value
            fresh = await self._exchange(kind)
            self._cache[kind] = fresh
            return fresh.value

    def invalidate(self, kind: str, value: str) -> None:
        """Forget a token the API refused, unless another caller has already replaced it."""
        cached = self._cache.get(kind)
        if cached is not None and cached.value == value:
            del self._cache[kind]

    def _form(self, kind: str) -> dict[str, str]:
        form = {"client_id": self._client_id, "client_secret": self._client_secret}
        if kind == SELLER:
            return {"grant_type": "refresh_token", "refresh_token": self._refresh_token, **form}
        return {"grant_type": "client_credentials", "scope": NOTIFICATIONS_SCOPE, **form}

    async def _exchange(self, kind: str) -> AccessToken:
        started = self._clock()
        self.exchanges += 1
        response = await self._api.request(
            "POST",
            "",
            operation="lwa",
            data=self._form(kind),
            idempotent=True,  # issuing another token is harmless, so a lost answer may be re-asked
            accept=(400, 401, 403),
            mutating=False,  # a token exchange changes nothing at the seller's
        )
        redact = self._api.factory.redactor
        what = "refresh token" if kind == SELLER else f"grantless request ({NOTIFICATIONS_SCOPE})"
        request_id = response.headers.get("x-amzn-RequestId")
        if response.status_code >= 400:
            try:
                code = str(json_body(response).get("error", ""))
            except (ValueError, AttributeError):
                code = ""
            hint = _HINTS.get(code, "check the account's credentials")
            raise LwaError(
                redact(
                    f"{self._api.provider} {self._api.account}: Login with Amazon refused the {what} "
                    f"({describe_lwa_error(response)}); {hint}"
                ),
                code=code,
                kind=kind,
                status=response.status_code,
                request_id=request_id,
            )
        try:
            body = json_body(response)
            value = str(body["access_token"])
            lifetime = float(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ProviderError(
                f"{self._api.provider} {self._api.account}: Login with Amazon answered "
                f"{response.status_code} without an access token",
                status=response.status_code,
                request_id=request_id,
            ) from None
        redact.add(value)
        if isinstance(body, dict) and body.get("refresh_token"):
            redact.add(str(body["refresh_token"]))
        return AccessToken(value, started + max(0.0, lifetime - self._margin))
