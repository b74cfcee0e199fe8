"""Reading the configuration files: which files, their bytes, their YAML, and the report of
every problem found in them, in file and line order.

Nothing here judges the content; ``engine.config.schema``, ``messages`` and ``references`` do.
"""

from __future__ import annotations

import hashlib
import stat
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import ConfigError, Diagnostic
from engine.yamlsafe import YamlDocument, YamlPath

__all__ = [
    "CONFIG_DIR",
    "CONFIG_FILE",
    "MAX_FILE_BYTES",
    "Report",
    "Source",
    "config_sha256",
    "default_paths",
    "label_for",
    "read_file",
]

CONFIG_FILE = "tether.yaml"
CONFIG_DIR = "tether.d"
MAX_FILE_BYTES = 2 * 1024 * 1024


def default_paths(config: str | Path) -> list[Path]:
    """``config`` followed by the ``tether.d/*.yaml`` beside it, sorted by name.

    Hidden files (editor locks such as ``.#x.yaml``) are left out.
    """
    config = Path(config)
    extra_dir = config.parent / CONFIG_DIR
    extra = sorted(
        (p for p in extra_dir.glob("*.yaml") if not p.name.startswith(".")),
        key=lambda p: p.name,
    ) if extra_dir.is_dir() else []
    return [config, *extra]



@dataclass
class Source:
    path: Path
    label: str
    raw: bytes
    doc: YamlDocument
    index: int

    @property
    def data(self) -> Any:
        return self.doc.data

    def line(self, path: YamlPath) -> int | None:
        return self.doc.line(path)

    def where(self, path: YamlPath) -> str:
        line = self.line(path)
        return f"{self.label}:{line}" if line else self.label


@dataclass
class Report:
    """Diagnostics in file and line order, and which paths the schema already complained about."""

    items: list[tuple[int, int, int, Diagnostic]] = field(default_factory=list)
    flagged: set[tuple[int, YamlPath]] = field(default_factory=set)

    def add(self, source: Source, path: YamlPath, message: str, hint: str = "") -> None:
        line = source.line(path)
        self.items.append((source.index, line or 0, len(self.items), Diagnostic(source.label, line, message, hint)))

    def add_plain(self, diagnostic: Diagnostic, index: int) -> None:
        self.items.append((index, diagnostic.line or 0, len(self.items), diagnostic))

    def ok(self, source: Source, path: YamlPath) -> bool:
        return (source.index, path) not in self.flagged

    def diagnostics(self) -> list[Diagnostic]:
        seen: set[Diagnostic] = set()
        out = []
        for *_, diagnostic in sorted(self.items, key=lambda item: item[:3]):
            if diagnostic not in seen:
                seen.add(diagnostic)
                out.append(diagnostic)
        return out


def label_for(path: Path, base: Path) -> str:
    try:
        return path.absolute().relative_to(base).as_posix()
    except ValueError:
        return str(path)



def read_file(path: Path, label: str, first: bool) -> bytes:
    def fail(message: str, hint: str = "") -> ConfigError:
        return ConfigError([Diagnostic(label, None, message, hint)])

    try:
        info = path.stat()
    except FileNotFoundError:
        if first:
            raise fail(
                f"not found in {path.parent.absolute()}; run `tether init` to create it, "
                "or give the path of your file with --config"
            ) from None
        raise fail("file not found") from None
    except OSError as exc:
        raise fail(f"cannot be read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(info.st_mode):
        raise fail("is not a regular file")
    if info.st_size > MAX_FILE_BYTES:
        raise fail(
            f"the file is {info.st_size / 1048576:.1f} MiB; tether reads files of up to 2 MiB",
            "split the declarations across tether.d/*.yaml",
        )
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise fail(f"cannot be read: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise fail("the file is larger than 2 MiB; tether reads files of up to 2 MiB",
                   "split the declarations across tether.d/*.yaml")
    return raw



def config_sha256(sources: Sequence[Source], base_dir: Path) -> str:
    digest = hashlib.sha256()
    for source in sources:
        try:
            name = source.path.absolute().relative_to(base_dir).as_posix()
        except ValueError:
            name = source.path.absolute().as_posix()
        for part in (name.encode("utf-8"), source.raw):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
    return digest.hexdigest()

