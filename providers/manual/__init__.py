"""``provider: manual``: bindings with no API, declared in tether.yaml and cancelled by runbook."""

from providers.manual.runbook import runbook_for

__all__ = ["runbook_for"]
