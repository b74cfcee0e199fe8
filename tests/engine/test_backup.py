"""Backups: written whole, private, checked, and never steered by provider text."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import stat
import weakref
from collections.abc import AsyncIterator, Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from engine.backup import (
    BACKUP_ID,
    BackupState,
    BackupWriter,
    Manifest,
    ManifestFile,
    list_backups,
    new_backup_id,
    verify,
    verify_backup,
)
from engine.errors import BackupError

NOW = datetime(2026, 11, 26, 5, 15, 0, tzinfo=timezone.utc)
INFO = {
    "address": "old-erp-hooks[4759306]",
    "account": "shop-eu",
    "provider": "shopify",
    "kind": "webhook",
    "live_id": "4759306",
}
RAW = {"id": 4759306, "topic": "orders/create", "address": "https://erp.example.com/hooks/orders", "format": "json"}
ORDERS = [{"id": 450789469 + i, "name": f"#{1001 + i}", "note": "Grüße"} for i in range(5)]


async def aiter_of(records: list[Mapping[str, Any]]) -> AsyncIterator[Mapping[str, Any]]:
    for record in records:
        await asyncio.sleep(0)
        yield record


def backup(root: Path, info: Mapping[str, Any] = INFO, raw: Mapping[str, Any] = RAW, **datasets: list[Any]) -> Manifest:
    async def run() -> Manifest:
        with BackupWriter.begin(root, info, new_backup_id(str(info["address"]), NOW), now=NOW) as writer:
            writer.write_binding(raw)
            for name, records in datasets.items():
                await writer.write_dataset(name, aiter_of(records))
            return writer.finish()

    return asyncio.run(run())


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "repo" / ".tether" / "backups"


@pytest.fixture
def umask() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


# --- ids -----------------------------------------------------------------------------------------


def test_backup_ids_sort_by_time_and_are_unique() -> None:
    first, second = new_backup_id("a", NOW), new_backup_id("a", NOW)
    assert first.startswith("20261126T051500Z-") and BACKUP_ID.match(first)
    assert first != second
    assert new_backup_id("a", datetime(2027, 1, 1, tzinfo=timezone.utc)) > first
    with pytest.raises(ValueError, match="timezone-aware"):
        new_backup_id("a", datetime(2026, 1, 1))


def test_hostile_address_never_reaches_the_id() -> None:
    assert BACKUP_ID.match(new_backup_id("../../x/\x00..", NOW))


# --- round trip ----------------------------------------------------------------------------------


def test_round_trip(root: Path) -> None:
    manifest = backup(root, orders=ORDERS, invoices=[])
    directory = root / manifest.backup_id
    assert sorted(os.listdir(directory)) == ["binding.json", "invoices.jsonl", "manifest.json", "orders.jsonl"]
    assert json.loads((directory / "binding.json").read_text("utf-8")) == RAW
    lines = (directory / "orders.jsonl").read_text("utf-8").splitlines()
    assert [json.loads(line) for line in lines] == ORDERS
    assert (directory / "invoices.jsonl").read_bytes() == b""

    assert manifest.created == "2026-11-26T05:15:00Z"
    assert manifest.binding == INFO and manifest.address == INFO["address"] and manifest.live_id == "4759306"
    assert manifest.datasets == ("binding", "invoices", "orders")
    for entry in manifest.files:
        data = (directory / entry.name).read_bytes()
        assert entry.sha256 == hashlib.sha256(data).hexdigest()
        assert entry.bytes == len(data)
    assert manifest.file("orders.jsonl").records == 5  # type: ignore[union-attr]
    assert manifest.file("binding.json").records == 1  # type: ignore[union-attr]
    assert manifest.file("invoices.jsonl").records == 0  # type: ignore[union-attr]

    on_disk = json.loads((directory / "manifest.json").read_text("utf-8"))
    assert Manifest.from_json(on_disk) == manifest
    assert set(on_disk) == {"format_version", "backup_id", "created", "binding", "files"}
    assert on_disk["files"][0] == {"name": "binding.json", "sha256": manifest.files[0].sha256,
                                  "bytes": manifest.files[0].bytes, "records": 1}
    assert manifest.sha256 == hashlib.sha256((directory / "manifest.json").read_bytes()).hexdigest()
    assert list_backups(root) == [manifest]
    assert list_backups(root)[0].sha256 == manifest.sha256
    assert verify_backup(root, manifest.backup_id) == []


def test_sync_iterables_are_accepted_too(root: Path) -> None:
    async def run() -> Manifest:
        with BackupWriter.begin(root, INFO, new_backup_id("a", NOW), now=NOW) as writer:
            writer.write_binding(RAW)
            await writer.write_dataset("products", iter(ORDERS))
            return writer.finish()

    assert asyncio.run(run()).file("products.jsonl").records == 5  # type: ignore[union-attr]


def test_list_is_oldest_first(root: Path) -> None:
    later = backup(root)
    async def earlier_backup() -> Manifest:
        with BackupWriter.begin(root, INFO, new_backup_id("a", datetime(2025, 1, 1, tzinfo=timezone.utc))) as writer:
            writer.write_binding(RAW)
            return writer.finish()

    earlier = asyncio.run(earlier_backup())
    assert [m.backup_id for m in list_backups(root)] == [earlier.backup_id, later.backup_id]
    assert list_backups(root.parent / "nothing-here") == []


# --- permissions ---------------------------------------------------------------------------------


@pytest.mark.parametrize("mask", [0o000, 0o022, 0o277])
def test_directories_are_0700_and_files_0600_whatever_the_umask(root: Path, umask: None, mask: int) -> None:
    os.umask(mask)
    manifest = backup(root, orders=ORDERS)
    os.umask(0o022)
    directory = root / manifest.backup_id
    assert mode(root.parent) == 0o700  # .tether, created on the way
    assert mode(root) == 0o700
    assert mode(directory) == 0o700
    for name in os.listdir(directory):
        assert mode(directory / name) == 0o600, name


def test_an_existing_parent_is_left_alone(tmp_path: Path, umask: None) -> None:
    parent = tmp_path / ".tether"
    parent.mkdir(mode=0o755)
    manifest = backup(parent / "backups")
    assert mode(parent) == 0o755
    assert mode(parent / "backups") == 0o700
    assert verify_backup(parent / "backups", manifest.backup_id) == []


# --- what reaches the manifest and the paths -----------------------------------------------------


def test_binding_info_is_written_as_given_and_nothing_else_is_added(root: Path) -> None:
    info = {**INFO, "integration": "old-erp-hooks", "note": {"nested": ["kept", 1]}}
    raw = {**RAW, "api_client_secret": "shpss_do_not_leak"}
    manifest = backup(root, info=info, raw=raw)
    text = (root / manifest.backup_id / "manifest.json").read_text("utf-8")
    assert json.loads(text)["binding"] == info
    assert "shpss_do_not_leak" not in text  # only the binding info and checksums are in the manifest
    assert "shpss_do_not_leak" in (root / manifest.backup_id / "binding.json").read_text("utf-8")


def test_a_hostile_provider_id_stays_inside_json_content(tmp_path: Path) -> None:
    root = tmp_path / "backups"
    hostile = "../../x"
    info = {**INFO, "address": f"hooks[{hostile}]", "live_id": hostile}
    manifest = backup(root, info=info, raw={"id": hostile}, orders=[{"id": hostile}])
    created = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")}
    assert created == {"backups", f"backups/{manifest.backup_id}"} | {
        f"backups/{manifest.backup_id}/{name}" for name in ("binding.json", "orders.jsonl", "manifest.json")
    }
    assert not (tmp_path / "x").exists() and not (tmp_path.parent / "x").exists()
    assert json.loads((root / manifest.backup_id / "manifest.json").read_text())["binding"]["live_id"] == hostile
    assert json.loads((root / manifest.backup_id / "binding.json").read_text()) == {"id": hostile}


@pytest.mark.parametrize("bad", ["../../x", "x", "20261126T051500Z-../../../x", "", "20261126T051500Z-ABCDEF012345"])
def test_begin_refuses_anything_but_a_backup_id(root: Path, bad: str) -> None:
    with pytest.raises(BackupError, match="is not a backup id"):
        BackupWriter.begin(root, INFO, bad)
    assert not root.exists()


@pytest.mark.parametrize("name", ["Orders", "../x", "a-b", "1st", "binding", "manifest", "orders.jsonl", ""])
def test_dataset_names_are_checked(root: Path, name: str) -> None:
    async def run() -> None:
        with BackupWriter.begin(root, INFO, new_backup_id("a", NOW)) as writer:
            await writer.write_dataset(name, aiter_of(ORDERS))

    with pytest.raises(BackupError, match="is not a dataset name"):
        asyncio.run(run())
    (directory,) = root.iterdir()
    assert [p.name for p in directory.iterdir()] == ["unfinished.json"]  # the note, and nothing else


def test_binding_info_must_name_the_binding(root: Path) -> None:
    with pytest.raises(BackupError, match="lacks live_id"):
        BackupWriter.begin(root, {k: v for k, v in INFO.items() if k != "live_id"}, new_backup_id("a", NOW))
    with pytest.raises(BackupError, match="not JSON"):
        BackupWriter.begin(root, {**INFO, "when": object()}, new_backup_id("a", NOW))


# --- symlinks ------------------------------------------------------------------------------------


def test_a_symlinked_backup_root_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    root = tmp_path / "backups"
    root.symlink_to(elsewhere)
    with pytest.raises(BackupError, match="symlink"):
        BackupWriter.begin(root, INFO, new_backup_id("a", NOW))
    assert list(elsewhere.iterdir()) == []
    with pytest.raises(BackupError, match="symlink"):
        list_backups(root)
    assert "symlink" in verify_backup(root, new_backup_id("a", NOW))[0]


def test_a_symlink_planted_inside_the_backup_is_not_followed(root: Path, tmp_path: Path) -> None:
    target = tmp_path / "victim.txt"
    target.write_text("precious")

    async def run() -> None:
        with BackupWriter.begin(root, INFO, new_backup_id("a", NOW)) as writer:
            writer.write_binding(RAW)
            (writer.path / "orders.jsonl").symlink_to(target)
            await writer.write_dataset("orders", aiter_of(ORDERS))

    with pytest.raises(BackupError, match="orders.jsonl: already exists"):
        asyncio.run(run())
    assert target.read_text() == "precious"


def test_a_backup_id_that_is_a_symlink_is_listed_and_refused(root: Path, tmp_path: Path) -> None:
    good = backup(root)
    fake_id = new_backup_id("fake", NOW)
    (root / fake_id).symlink_to(root / good.backup_id)
    listed = {m.backup_id: m for m in list_backups(root)}
    assert listed[good.backup_id].complete
    assert not listed[fake_id].complete and "symlink" in listed[fake_id].problem
    assert "symlink" in verify_backup(root, fake_id)[0]


# --- verify --------------------------------------------------------------------------------------


@pytest.fixture
def finished(root: Path) -> tuple[Path, Manifest]:
    manifest = backup(root, orders=ORDERS)
    return root / manifest.backup_id, manifest


def test_verify_detects_a_flipped_byte(root: Path, finished: tuple[Path, Manifest]) -> None:
    directory, manifest = finished
    data = bytearray((directory / "orders.jsonl").read_bytes())
    data[10] ^= 0x01
    (directory / "orders.jsonl").write_bytes(bytes(data))
    assert verify_backup(root, manifest.backup_id) == ["orders.jsonl: sha256 differs from the manifest"]


def test_verify_detects_a_truncated_file(root: Path, finished: tuple[Path, Manifest]) -> None:
    directory, manifest = finished
    data = (directory / "orders.jsonl").read_bytes()
    (directory / "orders.jsonl").write_bytes(data[: len(data) // 2])
    (problem,) = verify_backup(root, manifest.backup_id)
    assert problem.startswith("orders.jsonl: ")
    assert f"{len(data) // 2} bytes, the manifest says {len(data)}" in problem
    assert "sha256 differs" in problem and "the manifest says 5" in problem


def test_verify_detects_a_damaged_binding(root: Path, finished: tuple[Path, Manifest]) -> None:
    directory, manifest = finished
    (directory / "binding.json").write_text("{")
    (problem,) = verify_backup(root, manifest.backup_id)
    assert problem.startswith("binding.json: ") and "0 records, the manifest says 1" in problem


def test_verify_detects_extra_missing_and_symlinked_files(root: Path, finished: tuple[Path, Manifest]) -> None:
    directory, manifest = finished
    (directory / "notes.txt").write_text("x")
    os.chmod(directory / "notes.txt", 0o600)
    (directory / "link").symlink_to(directory / "binding.json")
    os.unlink(directory / "orders.jsonl")
    assert verify_backup(root, manifest.backup_id) == [
        "orders.jsonl: missing",
        "link: is a symlink, not part of the backup",
        "notes.txt: extra file, not listed in the manifest",
    ]


def test_verify_detects_a_listed_file_replaced_by_a_symlink(root: Path, finished: tuple[Path, Manifest]) -> None:
    directory, manifest = finished
    copy = root.parent / "copy.jsonl"
    copy.write_bytes((directory / "orders.jsonl").read_bytes())
    os.unlink(directory / "orders.jsonl")
    (directory / "orders.jsonl").symlink_to(copy)
    assert verify_backup(root, manifest.backup_id) == ["orders.jsonl: is a symlink; a backup file must be a regular file"]


def test_verify_reports_loosened_permissions(root: Path, finished: tuple[Path, Manifest]) -> None:
    directory, manifest = finished
    os.chmod(directory / "orders.jsonl", 0o644)
    os.chmod(directory, 0o755)
    problems = verify_backup(root, manifest.backup_id)
    assert any(p.startswith(f"{manifest.backup_id}: permissions 0755") for p in problems)
    assert any(p.startswith("orders.jsonl: permissions 0644") for p in problems)


def test_verify_of_unknown_or_invalid_ids(root: Path, finished: tuple[Path, Manifest]) -> None:
    assert verify_backup(root, "../../etc") == ["'../../etc' is not a backup id"]
    assert "no such backup" in verify_backup(root, new_backup_id("other", NOW))[0]


def test_a_tampered_manifest_cannot_point_outside(root: Path, finished: tuple[Path, Manifest]) -> None:
    directory, manifest = finished
    doc = json.loads((directory / "manifest.json").read_text())
    doc["files"][1]["name"] = "../../outside.jsonl"
    (directory / "manifest.json").write_text(json.dumps(doc))
    (problem,) = verify_backup(root, manifest.backup_id)
    assert "not a valid manifest" in problem and "unsafe or invalid name" in problem


# --- unfinished backups --------------------------------------------------------------------------


def test_a_begun_but_unfinished_backup_is_reported_as_unfinished_not_damaged(root: Path) -> None:
    good = backup(root)
    writer = BackupWriter.begin(root, {**INFO, "run_id": "run-dead"}, new_backup_id("b", NOW))
    writer.write_binding(RAW)
    writer.close()
    broken_id = new_backup_id("c", NOW)
    (root / broken_id).mkdir(mode=0o700)
    (root / broken_id / "manifest.json").write_text("{not json")
    stripped_id = new_backup_id("d", NOW)  # files but no manifest and no note: damage, not a crash
    (root / stripped_id).mkdir(mode=0o700)
    (root / stripped_id / "binding.json").write_text("{}")
    (root / "stray-file").write_text("")

    assert not (writer.path / "manifest.json").exists()
    listed = {m.backup_id: m for m in list_backups(root)}
    assert set(listed) == {good.backup_id, writer.backup_id, broken_id, stripped_id}
    assert listed[good.backup_id].complete and listed[good.backup_id].state is BackupState.COMPLETE
    unfinished = listed[writer.backup_id]
    assert not unfinished.complete and "never finished" in unfinished.problem
    assert unfinished.state is BackupState.UNFINISHED and unfinished.unfinished is not None
    assert unfinished.unfinished.run_id == "run-dead" and unfinished.address == INFO["address"]
    assert unfinished.created == "2026-11-26T05:15:00Z" and unfinished.files == ()
    assert listed[broken_id].state is BackupState.DAMAGED and "not a valid manifest" in listed[broken_id].problem
    assert listed[stripped_id].state is BackupState.DAMAGED

    assert verify_backup(root, writer.backup_id) == []
    checked = verify(root, writer.backup_id)
    assert checked.ok and checked.state is BackupState.UNFINISHED and "run-dead" in checked.note
    assert "missing, and nothing says" in verify_backup(root, stripped_id)[0]
    assert not verify(root, broken_id).ok


def test_a_directory_killed_before_anything_was_written_is_unfinished(root: Path) -> None:
    empty = new_backup_id("e", NOW)
    root.mkdir(parents=True)
    (root / empty).mkdir(mode=0o700)
    assert verify(root, empty).state is BackupState.UNFINISHED
    (root / empty / "unfinished.json").write_text('{"run_id": "x", "addr')  # torn while written
    assert verify(root, empty).state is BackupState.UNFINISHED and verify(root, empty).ok


def test_finish_rereads_and_refuses_a_file_changed_after_writing(root: Path) -> None:
    async def run() -> BackupWriter:
        writer = BackupWriter.begin(root, INFO, new_backup_id("a", NOW))
        writer.write_binding(RAW)
        await writer.write_dataset("orders", aiter_of(ORDERS))
        return writer

    writer = asyncio.run(run())
    orders = writer.path / "orders.jsonl"
    orders.write_bytes(orders.read_bytes().replace(b"1001", b"1009"))
    with pytest.raises(BackupError, match="did not verify: orders.jsonl: sha256 differs"):
        writer.finish()
    writer.close()
    assert not (writer.path / "manifest.json").exists()
    assert not list_backups(root)[0].complete


def test_finish_needs_the_binding(root: Path) -> None:
    with (
        BackupWriter.begin(root, INFO, new_backup_id("a", NOW)) as writer,
        pytest.raises(BackupError, match="binding itself was not written"),
    ):
        writer.finish()


def test_finishing_twice_returns_the_same_manifest(root: Path) -> None:
    with BackupWriter.begin(root, INFO, new_backup_id("a", NOW)) as writer:
        writer.write_binding(RAW)
        assert writer.finish() == writer.finish()


def test_same_id_twice_and_same_dataset_twice_are_refused(root: Path) -> None:
    backup_id = new_backup_id("a", NOW)

    async def run() -> None:
        with BackupWriter.begin(root, INFO, backup_id) as writer:
            writer.write_binding(RAW)
            with pytest.raises(BackupError, match="binding.json: already written"):
                writer.write_binding(RAW)
            await writer.write_dataset("orders", aiter_of(ORDERS))
            with pytest.raises(BackupError, match="orders.jsonl: already written"):
                await writer.write_dataset("orders", aiter_of(ORDERS))

    asyncio.run(run())
    with pytest.raises(BackupError, match="already exists"):
        BackupWriter.begin(root, INFO, backup_id)


def test_a_dataset_that_fails_part_way_is_removed_and_can_be_retried(root: Path) -> None:
    async def failing() -> AsyncIterator[Mapping[str, Any]]:
        yield {"id": 1}
        raise ConnectionError("page 2 failed")

    async def run() -> Manifest:
        with BackupWriter.begin(root, INFO, new_backup_id("a", NOW)) as writer:
            writer.write_binding(RAW)
            with pytest.raises(ConnectionError):
                await writer.write_dataset("orders", failing())
            assert not (writer.path / "orders.jsonl").exists()
            with pytest.raises(BackupError, match="record 2 is not JSON"):
                await writer.write_dataset("orders", aiter_of([{"id": 1}, {"when": datetime.now(timezone.utc)}]))
            with pytest.raises(BackupError, match="record 1 is a list, not an object"):
                await writer.write_dataset("orders", aiter_of([[1, 2]]))  # type: ignore[list-item]
            await writer.write_dataset("orders", aiter_of(ORDERS))
            return writer.finish()

    manifest = asyncio.run(run())
    assert manifest.file("orders.jsonl") == ManifestFile(
        "orders.jsonl", manifest.files[1].sha256, manifest.files[1].bytes, len(ORDERS)
    )
    assert verify_backup(root, manifest.backup_id) == []


# --- streaming -----------------------------------------------------------------------------------


class _Record(dict):  # type: ignore[type-arg]
    """A dict that can be weakly referenced, to count how many records are alive at once."""


def test_ten_thousand_records_stream_without_being_held(root: Path) -> None:
    alive = [0]
    peak = [0]

    def collected() -> None:
        alive[0] -= 1

    async def source() -> AsyncIterator[Mapping[str, Any]]:
        for i in range(10_000):
            record = _Record(id=i, name=f"#{i}", lines=[{"sku": f"SKU-{i}", "qty": 1}])
            weakref.finalize(record, collected)
            alive[0] += 1
            peak[0] = max(peak[0], alive[0])
            yield record
            del record
            if i % 1000 == 0:
                await asyncio.sleep(0)

    async def run() -> Manifest:
        with BackupWriter.begin(root, INFO, new_backup_id("a", NOW)) as writer:
            writer.write_binding(RAW)
            await writer.write_dataset("orders", source())
            return writer.finish()

    manifest = asyncio.run(run())
    assert peak[0] <= 2
    assert manifest.file("orders.jsonl").records == 10_000  # type: ignore[union-attr]
    with open(root / manifest.backup_id / "orders.jsonl", encoding="utf-8") as handle:
        assert sum(1 for _ in handle) == 10_000
    assert verify_backup(root, manifest.backup_id) == []
