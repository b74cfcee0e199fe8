"""The sandbox's HTTP server, under the name it had before the sandbox became a package
(``providers.sandbox.server``)."""

from __future__ import annotations

from providers.sandbox.process import main_serve
from providers.sandbox.server import SandboxServer, check_bind_host, loopback_origins, serve

__all__ = ["SandboxServer", "check_bind_host", "loopback_origins", "main_serve", "serve"]
