"""Encrypted backups, unfinished backups settled by the next run, and pruning."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyrage
import pytest
from pyrage import x25519

from engine.backup import (
    BackupWriter,
    Manifest,
    copy_backup_file,
    list_backups,
    new_backup_id,
    prune,
    read_backup_file,
    settle_unfinished,
    verify,
)
from engine.errors import BackupError

NOW = datetime(2026, 11, 26, 5, 15, 0, tzinfo=timezone.utc)
INFO = {
    "address": "old-erp-hooks[4759306]",
    "account": "shop-eu",
    "provider": "shopify",
    "kind": "webhook",
    "live_id": "4759306",
    "run_id": "run-1",
}
RAW = {"id": 4759306, "topic": "ORDERS_CREATE", "uri": "https://erp.example.com/hooks/orders"}
ORDERS = [{"id": 450789469 + i, "name": f"#{1001 + i}", "customer": "Jana Nováková"} for i in range(300)]


def write(root: Path, *, encrypt_to: tuple[str, ...] = (), info: Mapping[str, Any] = INFO,
          now: datetime = NOW, finish: bool = True) -> BackupWriter | Manifest:
    async def run() -> BackupWriter | Manifest:
        writer = BackupWriter.begin(root, info, new_backup_id(str(info["address"]), now), now=now,
                                    encrypt_to=encrypt_to)
        writer.write_binding(RAW)
        await writer.write_dataset("orders", iter(ORDERS))
        if not finish:
            writer.close()
            return writer
        return writer.finish()

    return asyncio.run(run())


@pytest.fixture
def key() -> x25519.Identity:
    return x25519.Identity.generate()


def open_with_age(path: Path, identity: x25519.Identity, tmp_path: Path) -> bytes:
    """``age -d -i KEY`` where the age command is installed, else the same format through pyrage."""
    age = shutil.which("age")
    if age is None:
        return bytes(pyrage.decrypt(path.read_bytes(), [identity]))
    key_file = tmp_path / "key.txt"
    key_file.write_text(str(identity) + "\n")
    key_file.chmod(0o600)
    return subprocess.run([age, "-d", "-i", str(key_file), str(path)], check=True, capture_output=True).stdout


# --- encryption ----------------------------------------------------------------------------------


def test_encrypted_backup_has_nothing_in_the_clear_and_opens_with_age(tmp_path: Path, key: x25519.Identity) -> None:
    root = tmp_path / "backups"
    manifest = write(root, encrypt_to=(str(key.to_public()),))
    assert isinstance(manifest, Manifest) and manifest.encrypted
    directory = root / manifest.backup_id
    assert sorted(p.name for p in directory.iterdir()) == ["binding.json.age", "manifest.json", "orders.jsonl.age"]
    for path in directory.glob("*.age"):
        data = path.read_bytes()
        assert data.startswith(b"age-encryption.org/v1\n")
        assert b"4759306" not in data and "Nováková".encode() not in data and b"erp.example.com" not in data
    assert json.loads(open_with_age(directory / "binding.json.age", key, tmp_path)) == RAW
    lines = open_with_age(directory / "orders.jsonl.age", key, tmp_path).decode().splitlines()
    assert [json.loads(line) for line in lines] == ORDERS

    doc = json.loads((directory / "manifest.json").read_text())
    assert doc["encryption"] == {"format": "age", "recipients": [str(key.to_public())]}
    entries = {f["name"]: f for f in doc["files"]}
    assert entries["orders.jsonl.age"]["records"] == len(ORDERS)  # counts of what is inside
    assert entries["orders.jsonl.age"]["bytes"] == (directory / "orders.jsonl.age").stat().st_size
    assert manifest.datasets == ("binding", "orders")


def test_verify_needs_no_key_and_still_catches_a_flipped_byte(tmp_path: Path, key: x25519.Identity) -> None:
    root = tmp_path / "backups"
    manifest = write(root, encrypt_to=(str(key.to_public()),))
    assert isinstance(manifest, Manifest)
    assert verify(root, manifest.backup_id).ok
    target = root / manifest.backup_id / "orders.jsonl.age"
    data = bytearray(target.read_bytes())
    data[-5] ^= 0x01
    target.write_bytes(bytes(data))
    problems = verify(root, manifest.backup_id).problems
    assert problems and "sha256 differs" in problems[0]


def test_reading_back_takes_the_identity(tmp_path: Path, key: x25519.Identity) -> None:
    root = tmp_path / "backups"
    manifest = write(root, encrypt_to=(str(key.to_public()),))
    assert isinstance(manifest, Manifest)
    with pytest.raises(BackupError, match="encrypted to age1"):
        read_backup_file(root, manifest.backup_id, "binding.json")
    other = x25519.Identity.generate()
    with pytest.raises(BackupError, match="cannot decrypt"):
        read_backup_file(root, manifest.backup_id, "binding.json", identity=str(other))
    text = f"# created: 2026-11-26\n# public key: {key.to_public()}\n{key}\n"
    assert json.loads(read_backup_file(root, manifest.backup_id, "binding.json", identity=text)) == RAW
    assert read_backup_file(root, manifest.backup_id, "orders.jsonl.age", identity=text).count(b"\n") == len(ORDERS)


class Chunks:
    """An output that keeps what was written and how: the size of each write."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.writes: list[int] = []

    def write(self, chunk: bytes) -> int:
        self.data += chunk
        self.writes.append(len(chunk))
        return len(chunk)

    def flush(self) -> None:
        pass


@pytest.mark.parametrize("encrypted", [False, True])
def test_a_large_backup_is_copied_out_chunk_by_chunk(tmp_path: Path, key: x25519.Identity, encrypted: bool) -> None:
    """``backups cat`` of a large shop's orders: written out in pieces, never as one buffer."""
    root = tmp_path / "backups"
    orders = [{"id": n, "name": f"#{n}", "note": "x" * 200} for n in range(20_000)]  # about 5 MB

    async def run() -> Manifest:
        writer = BackupWriter.begin(root, INFO, new_backup_id("big", NOW), now=NOW,
                                    encrypt_to=(str(key.to_public()),) if encrypted else ())
        writer.write_binding(RAW)
        await writer.write_dataset("orders", iter(orders))
        return writer.finish()

    manifest = asyncio.run(run())
    out = Chunks()
    copy_backup_file(root, manifest.backup_id, "orders.jsonl", out, identity=str(key) if encrypted else None)  # type: ignore[arg-type]
    assert out.data.count(b"\n") == len(orders) and json.loads(out.data.splitlines()[-1]) == orders[-1]
    assert len(out.writes) > 1 and max(out.writes) < len(out.data) // 2
    if encrypted:
        nothing = Chunks()
        with pytest.raises(BackupError, match="cannot decrypt"):
            copy_backup_file(root, manifest.backup_id, "orders.jsonl", nothing, identity=str(x25519.Identity.generate()))  # type: ignore[arg-type]
        assert nothing.data == b""  # a wrong key writes nothing


def test_several_recipients_each_open_it(tmp_path: Path) -> None:
    first, second = x25519.Identity.generate(), x25519.Identity.generate()
    root = tmp_path / "backups"
    manifest = write(root, encrypt_to=(str(first.to_public()), str(second.to_public())))
    assert isinstance(manifest, Manifest)
    for identity in (first, second):
        assert json.loads(read_backup_file(root, manifest.backup_id, "binding.json", identity=str(identity))) == RAW


@pytest.mark.parametrize("bad", ["age1nope", "AGE-SECRET-KEY-1QQQ", "ssh-ed25519 AAAA"])
def test_a_bad_recipient_is_refused_before_anything_is_written(tmp_path: Path, bad: str) -> None:
    root = tmp_path / "backups"
    with pytest.raises(BackupError, match="not an age recipient"):
        write(root, encrypt_to=(bad,))
    assert not root.exists()


def test_unencrypted_backups_are_as_before(tmp_path: Path) -> None:
    root = tmp_path / "backups"
    manifest = write(root)
    assert isinstance(manifest, Manifest) and not manifest.encrypted
    assert sorted(p.name for p in (root / manifest.backup_id).iterdir()) == ["binding.json", "manifest.json", "orders.jsonl"]
    assert "encryption" not in json.loads((root / manifest.backup_id / "manifest.json").read_text())
    assert json.loads(read_backup_file(root, manifest.backup_id, "binding.json")) == RAW


# --- unfinished backups --------------------------------------------------------------------------


def test_the_settling_run_records_the_dead_run_and_the_replacement(tmp_path: Path) -> None:
    root = tmp_path / "backups"
    dead = write(root, finish=False)
    assert isinstance(dead, BackupWriter)
    other = write(root, info={**INFO, "address": "other[1]", "run_id": "run-live"}, finish=False)
    assert isinstance(other, BackupWriter)
    replacement = write(root, info={**INFO, "run_id": "run-2"}, now=NOW + timedelta(minutes=1))
    assert isinstance(replacement, Manifest)

    settled = settle_unfinished(root, {"run-1"}, settled_by="run-2")
    assert [m.backup_id for m in settled] == [dead.backup_id]
    listed = {m.backup_id: m for m in list_backups(root)}
    note = listed[dead.backup_id].unfinished
    assert note is not None and note.settled_by == "run-2" and note.replaced_by == replacement.backup_id
    assert f"replaced by backup {replacement.backup_id}" in listed[dead.backup_id].problem
    untouched = listed[other.backup_id].unfinished
    assert untouched is not None and untouched.settled_by is None  # not a dead run's backup
    assert verify(root, dead.backup_id).ok and verify(root, other.backup_id).ok
    assert settle_unfinished(root, {"run-1"}, settled_by="run-3") == []  # settled once


# --- prune ---------------------------------------------------------------------------------------


def test_prune_unfinished_removes_only_settled_ones(tmp_path: Path) -> None:
    root = tmp_path / "backups"
    dead = write(root, finish=False)
    running = write(root, info={**INFO, "run_id": "run-live"}, finish=False)
    good = write(root)
    assert isinstance(dead, BackupWriter) and isinstance(running, BackupWriter) and isinstance(good, Manifest)
    settle_unfinished(root, {"run-1"}, settled_by="run-2")

    planned = prune(root, unfinished=True, dry_run=True)
    assert [(p.backup_id, p.reason, p.removed) for p in planned] == [(dead.backup_id, "unfinished", False)]
    assert (root / dead.backup_id).exists()
    done = prune(root, unfinished=True)
    assert [(p.backup_id, p.removed) for p in done] == [(dead.backup_id, True)]
    assert {m.backup_id for m in list_backups(root)} == {running.backup_id, good.backup_id}


def test_prune_older_than_keeps_recent_and_damaged_backups(tmp_path: Path) -> None:
    root = tmp_path / "backups"
    old = write(root, now=NOW - timedelta(days=120))
    recent = write(root, now=NOW - timedelta(days=3))
    damaged = write(root, now=NOW - timedelta(days=200))
    assert isinstance(old, Manifest) and isinstance(recent, Manifest) and isinstance(damaged, Manifest)
    (root / damaged.backup_id / "manifest.json").write_text("{}")

    assert [p.backup_id for p in prune(root, older_than=timedelta(days=90), dry_run=True, now=NOW)] == [old.backup_id]
    assert (root / old.backup_id).is_dir()
    prune(root, older_than=timedelta(days=90), now=NOW)
    assert {m.backup_id for m in list_backups(root)} == {recent.backup_id, damaged.backup_id}


def test_prune_needs_to_be_told_what(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="say what to prune"):
        prune(tmp_path)
    with pytest.raises(BackupError, match="positive"):
        prune(tmp_path, older_than=timedelta(0))
    assert prune(tmp_path / "none", unfinished=True) == []


def test_prune_does_not_follow_a_symlink_inside_a_backup(tmp_path: Path) -> None:
    root = tmp_path / "backups"
    old = write(root, now=NOW - timedelta(days=120))
    assert isinstance(old, Manifest)
    outside = tmp_path / "precious.txt"
    outside.write_text("keep me")
    (root / old.backup_id / "link").symlink_to(outside)
    prune(root, older_than=timedelta(days=1), now=NOW)
    assert outside.read_text() == "keep me" and not (root / old.backup_id).exists()
