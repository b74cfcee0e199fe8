"""``${file:PATH}`` reads only inside the repository of tether.yaml or TETHER_SECRET_DIRS, and a
refusal comes before any request."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import httpx
import pytest

from engine.config import load_config, resolve_credentials
from engine.errors import ConfigError
from engine.runner import PlanRequest, build_plan
from engine.secret_files import secret_file_refusal
from states.model import State

CONFIG = """\
version: 1
accounts:
  shop-eu:
    provider: shopify
    endpoint: http://127.0.0.1:9/shopify/demo-shop
    options: {{shop: demo-shop.myshopify.com, api_version: "2026-10"}}
    credentials:
      access_token: "${{file:{path}}}"
integrations:
  old-hooks: {{account: shop-eu, kind: webhook, match: {{uri: "https://erp.example/*"}}, ensure: absent}}
"""


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    """A repository (with git) holding tether.yaml in a subfolder, and a secret outside it."""
    repo = tmp_path / "repo"
    (repo / "ops").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    outside = tmp_path / "elsewhere" / "id_token"
    outside.parent.mkdir()
    outside.write_text("runner-secret-that-must-stay\n")
    return repo, outside


def plan_with(repo: Path, path: str) -> tuple[Exception | None, int]:
    (repo / "ops" / "tether.yaml").write_text(CONFIG.format(path=path), encoding="utf-8")
    sent: list[httpx.Request] = []

    def count(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(500)

    try:
        config = load_config(cwd=repo / "ops")
        asyncio.run(build_plan(config, State.empty(), PlanRequest(timeout_s=5), transport=httpx.MockTransport(count)))
    except ConfigError as exc:
        return exc, len(sent)
    return None, len(sent)


def test_a_file_outside_the_repository_is_refused_with_no_request_sent(layout: tuple[Path, Path]) -> None:
    repo, outside = layout
    error, sent = plan_with(repo, str(outside))
    assert error is not None and sent == 0
    text = str(error)
    assert "outside the repository" in text and "TETHER_SECRET_DIRS" in text
    assert "runner-secret-that-must-stay" not in text


def test_a_symlink_inside_pointing_out_is_refused_with_no_request_sent(layout: tuple[Path, Path]) -> None:
    repo, outside = layout
    (repo / "ops" / "token").symlink_to(outside)
    error, sent = plan_with(repo, "token")
    assert error is not None and sent == 0
    assert "through a symlink" in str(error) and str(outside) in str(error)


def test_files_in_the_repository_and_in_secret_dirs_are_read(
    layout: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo, outside = layout
    (repo / "secrets").mkdir()
    (repo / "secrets" / "token").write_text("shpat_in_repo\n")  # the git root, above tether.yaml's folder
    (repo / "ops" / "tether.yaml").write_text(CONFIG.format(path="../secrets/token"), encoding="utf-8")
    config = load_config(cwd=repo / "ops")
    assert resolve_credentials(config.accounts["shop-eu"], config.base_dir) == {"access_token": "shpat_in_repo"}

    (repo / "ops" / "tether.yaml").write_text(CONFIG.format(path=str(outside)), encoding="utf-8")
    with pytest.raises(ConfigError, match="outside the repository"):
        load_config(cwd=repo / "ops")
    monkeypatch.setenv("TETHER_SECRET_DIRS", os.pathsep.join(["/nonexistent", str(outside.parent)]))
    config = load_config(cwd=repo / "ops")
    assert resolve_credentials(config.accounts["shop-eu"], config.base_dir) == {
        "access_token": "runner-secret-that-must-stay"
    }
    # Resolving checks again: the environment of the run may differ from that of loading.
    monkeypatch.delenv("TETHER_SECRET_DIRS")
    with pytest.raises(ConfigError, match="outside the repository"):
        resolve_credentials(config.accounts["shop-eu"], config.base_dir)


def test_validate_refuses_a_file_outside_the_repository_offline_with_file_and_line(
    layout: tuple[Path, Path],
) -> None:
    """A reviewer's `tether validate` sees it, naming the file and line of the reference."""
    repo, outside = layout
    (repo / "ops" / "tether.yaml").write_text(CONFIG.format(path=str(outside)), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(cwd=repo / "ops")
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.file.endswith("tether.yaml") and diagnostic.line == 8
    assert "credentials.access_token" in diagnostic.message and "outside the repository" in diagnostic.message


def test_without_git_only_the_folder_of_tether_yaml_counts(tmp_path: Path) -> None:
    folder = tmp_path / "plain" / "cfg"
    folder.mkdir(parents=True)
    assert secret_file_refusal(folder / "token", folder, {}) is None
    assert secret_file_refusal(folder / "sub" / "token", folder, {}) is None
    refused = secret_file_refusal(folder / ".." / "token", folder, {})
    assert refused is not None and "outside the repository" in refused[0]


def test_a_reference_given_on_the_command_line_is_not_confined(layout: tuple[Path, Path]) -> None:
    from engine.config.secrets import resolve_reference

    repo, outside = layout
    value = resolve_reference(f"${{file:{outside}}}", "--identity", repo / "ops")
    assert value == "runner-secret-that-must-stay"


def test_a_file_swapped_for_a_link_out_after_the_check_is_refused_when_read(
    layout: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The path is checked, then the file is replaced by a link out of the repository before it
    is opened: what was opened is checked again, and its content never comes back."""
    import engine.config.secrets as secrets

    repo, outside = layout
    token = repo / "ops" / "token"
    token.write_text("shpat_in_repo\n")
    (repo / "ops" / "tether.yaml").write_text(CONFIG.format(path="token"), encoding="utf-8")
    config = load_config(cwd=repo / "ops")
    checked: list[Path] = []

    def check_then_swap(path: Path, base_dir: Path, environ: object) -> tuple[str, str] | None:
        answer = secret_file_refusal(path, base_dir, environ)  # type: ignore[arg-type]
        checked.append(Path(path))
        if len(checked) == 1:  # the check before opening passes; then the swap happens
            token.unlink()
            token.symlink_to(outside)
        return answer

    monkeypatch.setattr(secrets, "secret_file_refusal", check_then_swap)
    with pytest.raises(ConfigError) as refused:
        resolve_credentials(config.accounts["shop-eu"], config.base_dir)
    assert "outside the repository" in str(refused.value) and str(outside) in str(refused.value)
    assert "runner-secret-that-must-stay" not in str(refused.value)
    assert len(checked) == 2 and checked[1] == outside  # the second check was of the file opened


def test_a_fifo_is_refused_without_blocking(layout: tuple[Path, Path]) -> None:
    repo, _ = layout
    os.mkfifo(repo / "ops" / "pipe")
    (repo / "ops" / "tether.yaml").write_text(CONFIG.format(path="pipe"), encoding="utf-8")
    config = load_config(cwd=repo / "ops")
    with pytest.raises(ConfigError, match="not a regular file"):
        resolve_credentials(config.accounts["shop-eu"], config.base_dir)
