"""The sandbox: every provider emulator mounted behind one router, with faults and a request log,
served in-process or over real HTTP.

Modules, each depending only on those above it:

- ``errors``: ``SandboxError``;
- ``scenario``: reading scenarios (``demo``, YAML or JSON files);
- ``faults``: latency, error rates and scripted fault rules;
- ``requestlog``: what arrived, without secrets or bodies;
- ``router``: ``Sandbox``, which routes to the emulators and answers the ``/_sandbox`` admin paths;
- ``server``: the sandbox over HTTP (asyncio + h11), on one or many loopback origins;
- ``process``: the sandbox as a process (``main_serve``), on one address, N origins or a given list.

``python -m providers.sandbox`` serves it (``--origins N`` for one origin per tenant,
``--addresses`` for one process's share of them).
"""

from __future__ import annotations

from providers.sandbox.errors import SandboxError
from providers.sandbox.faults import FaultRule, Faults, parse_faults
from providers.sandbox.process import main_serve
from providers.sandbox.requestlog import REQUEST_LOG_LIMIT, RequestLog, graphql_operation, redact_query
from providers.sandbox.router import ADMIN_PREFIX, Pending, Reply, Sandbox, path_segments
from providers.sandbox.scenario import DEMO_ROOT, as_scenario, demo_scenario, plain_copy, read_scenario
from providers.sandbox.server import SandboxServer, check_bind_host, loopback_origins, serve

__all__ = [
    "ADMIN_PREFIX",
    "DEMO_ROOT",
    "REQUEST_LOG_LIMIT",
    "FaultRule",
    "Faults",
    "Pending",
    "Reply",
    "RequestLog",
    "Sandbox",
    "SandboxError",
    "SandboxServer",
    "as_scenario",
    "check_bind_host",
    "demo_scenario",
    "graphql_operation",
    "loopback_origins",
    "main_serve",
    "parse_faults",
    "path_segments",
    "plain_copy",
    "read_scenario",
    "redact_query",
    "serve",
]
