"""The architecture as the layout shows it, checked: layers point one way, modules stay small,
and tether speaks HTTP through httpx (h11 only in the sandbox's own server)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("engine", "providers", "states")
MAX_LINES = 500

# What each layer may import of tether's own packages (SPEC: engine -> providers, states).
ALLOWED = {
    "engine": {"engine", "providers", "states", "schemas"},
    "providers": {"providers"},
    "states": {"states"},
}


def _modules() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def _imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_a_module_imports_only_its_own_layer_and_those_below(path: Path) -> None:
    layer = path.relative_to(ROOT).parts[0]
    ours = _imported_roots(path) & {"engine", "providers", "states", "schemas", "tests"}
    assert ours <= ALLOWED[layer], f"{path.relative_to(ROOT)} imports {sorted(ours - ALLOWED[layer])}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_over_500_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines"


def test_h11_is_imported_only_by_the_sandbox_server() -> None:
    users = sorted(str(p.relative_to(ROOT)) for p in _modules() if "h11" in _imported_roots(p))
    assert users == ["providers/sandbox/server.py"]


def _imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_provider_sdk_imports_only_itself_and_the_http_client_types() -> None:
    """A plug-in imports the SDK; the SDK must not drag a built-in provider or the sandbox in."""
    for path in sorted((ROOT / "providers" / "sdk").rglob("*.py")):
        ours = {m for m in _imported_modules(path) if m.split(".")[0] in {"engine", "providers", "states"}}
        stray = {m for m in ours if not m.startswith(("providers.sdk", "providers.http"))}
        assert not stray, f"{path.relative_to(ROOT)} imports {sorted(stray)}"
