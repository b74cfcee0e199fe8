"""Secrets never reach a log line or an error message: ``Redactor`` masks every known one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from urllib.parse import quote


class Redactor:
    """Replaces every known secret value (and obvious credential headers) with ``***``."""

    SENSITIVE_HEADERS = frozenset(
        {"authorization", "x-shopify-access-token", "x-amz-access-token", "cookie", "x-api-key"}
    )

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is masked whole.
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)
        # Each secret's URL-quoted form where it differs, computed once per secret rather than
        # on every text masked (a run holds one token per account).
        self._quoted: dict[str, str | None] = {s: self._quote(s) for s in self._secrets}
        self._forms = tuple((s, self._quoted[s]) for s in self._secrets)

    @staticmethod
    def _quote(secret: str) -> str | None:
        quoted = quote(secret, safe="")
        return quoted if quoted != secret else None

    def add(self, secret: str) -> None:
        if secret and len(secret) >= 4 and secret not in self._quoted:
            self._secrets.append(secret)
            self._secrets.sort(key=len, reverse=True)
            self._quoted[secret] = self._quote(secret)
            self._forms = tuple((s, self._quoted[s]) for s in self._secrets)

    def __call__(self, text: str) -> str:
        for secret, quoted in self._forms:
            if secret in text:
                text = text.replace(secret, "***")
            if quoted is not None and quoted in text:
                text = text.replace(quoted, "***")
        return text

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {
            k: ("***" if k.lower() in self.SENSITIVE_HEADERS else self(v)) for k, v in headers.items()
        }


REDACTOR = Redactor()
"""Shared by every HttpFactory in the process and by the log processor (engine.logs)."""
