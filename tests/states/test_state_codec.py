"""The state values and their file format, without a filesystem."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import states.codec as codec
from engine.errors import StateError
from states import FORMAT_VERSION, Record, RecordStatus, State, decode, encode

PATH = ".tether/state.json"


def make(address: str, **changes: Any) -> Record:
    fields: dict[str, Any] = dict(
        address=address, account="shop-eu", provider="shopify", kind="carrier", live_id="1",
        name="DPD Rates", integration="dpd-rates", status=RecordStatus.LIVE,
    )
    fields.update(changes)
    return Record(**fields)


def document(**changes: Any) -> bytes:
    doc: dict[str, Any] = {"format_version": 1, "lineage": "L", "serial": 2, "records": [make("a").to_json()]}
    doc.update(changes)
    return json.dumps(doc, indent=2).encode()


# --- model ---------------------------------------------------------------------------------------


def test_record_and_state_are_frozen() -> None:
    record = make("a")
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.status = RecordStatus.PARTIAL  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        State.empty().serial = 3  # type: ignore[misc]


def test_status_strings_become_the_enum_and_bad_ones_are_refused() -> None:
    assert make("a", status="pending-manual").status is RecordStatus.PENDING_MANUAL
    assert [s.value for s in RecordStatus] == ["live", "pending-manual", "partial", "scheduled"]
    with pytest.raises(ValueError, match="expected one of live, pending-manual"):
        make("a", status="cancelled")


def test_record_json_round_trip_and_strictness() -> None:
    record = make("a", sides_done=("platform",), protect=True, backup_id="b", note="n", fingerprint="sha256:x")
    assert Record.from_json(record.to_json()) == record
    with pytest.raises(ValueError, match="unknown field"):
        Record.from_json({**record.to_json(), "secret": "x"})
    doc = record.to_json()
    del doc["live_id"]
    with pytest.raises(ValueError, match="missing field.*live_id"):
        Record.from_json(doc)
    with pytest.raises(ValueError, match="protect"):
        Record.from_json({**record.to_json(), "protect": "yes"})
    with pytest.raises(ValueError, match="sides_done"):
        Record.from_json({**record.to_json(), "sides_done": "platform"})
    optional_left_out = {k: v for k, v in record.to_json().items() if k not in ("note", "sides_done", "protect")}
    assert Record.from_json(optional_left_out).sides_done == ()


def test_state_helpers() -> None:
    state = State(lineage="L", serial=4, records={})
    filled = state.with_records([make("b", account="other"), make("a"), make("c")])
    assert (filled.lineage, filled.serial) == ("L", 4)
    assert [r.address for r in filled.by_account("shop-eu")] == ["a", "c"]
    assert filled.get("b") is not None and filled.get("zz") is None
    assert filled.without("b").records.keys() == {"a", "c"}
    assert filled.with_record(make("a", name="renamed")).records["a"].name == "renamed"
    assert filled.same_content(State(lineage="other", serial=9, records=dict(filled.records)))
    assert not filled.same_content(filled.without("a"))
    with pytest.raises(ValueError, match="share the address"):
        state.with_records([make("a"), make("a")])
    with pytest.raises(ValueError, match="keyed 'x' has address 'a'"):
        State(lineage="", serial=0, records={"x": make("a")})


def test_state_copies_the_mapping_it_is_given() -> None:
    records = {"a": make("a")}
    state = State(lineage="", serial=0, records=records)
    records["b"] = make("b")
    assert list(state.records) == ["a"]


# --- codec ---------------------------------------------------------------------------------------


def test_encoded_layout_is_stable() -> None:
    state = State(lineage="L", serial=1, records={"a": make("a", note="é")})
    assert encode(state).decode("utf-8") == (
        "{\n"
        '  "format_version": 1,\n'
        '  "lineage": "L",\n'
        '  "records": [\n'
        "    {\n"
        '      "account": "shop-eu",\n'
        '      "address": "a",\n'
        '      "backup_id": null,\n'
        '      "fingerprint": null,\n'
        '      "integration": "dpd-rates",\n'
        '      "kind": "carrier",\n'
        '      "live_id": "1",\n'
        '      "name": "DPD Rates",\n'
        '      "note": "é",\n'
        '      "protect": false,\n'
        '      "provider": "shopify",\n'
        '      "sides_done": [],\n'
        '      "status": "live"\n'
        "    }\n"
        "  ],\n"
        '  "serial": 1\n'
        "}\n"
    )


_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
_records = st.builds(
    Record,
    address=_text.filter(bool),
    account=_text,
    provider=_text,
    kind=_text,
    live_id=_text,
    name=_text,
    integration=st.none() | _text,
    status=st.sampled_from(list(RecordStatus)),
    protect=st.booleans(),
    fingerprint=st.none() | _text,
    sides_done=st.lists(_text, max_size=3).map(tuple),
    backup_id=st.none() | _text,
    note=_text,
)


@settings(max_examples=30, deadline=None)
@given(st.lists(_records, max_size=6, unique_by=lambda r: r.address), st.randoms())
def test_any_state_round_trips_and_order_never_changes_the_bytes(records: list[Record], rnd: Any) -> None:
    state = State(lineage="L", serial=7, records={r.address: r for r in records})
    shuffled = list(records)
    rnd.shuffle(shuffled)
    again = State(lineage="L", serial=7, records={r.address: r for r in shuffled})
    assert encode(state) == encode(again)
    assert decode(encode(state), PATH) == state


def test_older_format_goes_through_the_upgrade_table() -> None:
    assert FORMAT_VERSION == 1 and 0 in codec.UPGRADES
    state = decode(document(format_version=0), PATH)
    assert state.format_version == FORMAT_VERSION
    assert state.records["a"] == make("a")


def test_an_upgrade_step_that_is_missing_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codec, "UPGRADES", {})
    with pytest.raises(StateError, match="no upgrade from format_version 0"):
        decode(document(format_version=0), PATH)


def test_upgrade_steps_run_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []

    def step(version: int) -> Any:
        def upgrade(doc: dict[str, Any]) -> dict[str, Any]:
            seen.append(version)
            return {**doc, "lineage": doc["lineage"] + str(version)}

        return upgrade

    monkeypatch.setattr(codec, "FORMAT_VERSION", 3)
    monkeypatch.setattr(codec, "UPGRADES", {0: step(0), 1: step(1), 2: step(2)})
    assert decode(document(format_version=1), PATH).lineage == "L12"
    assert seen == [1, 2]


@pytest.mark.parametrize(
    "data, expected",
    [
        (b"", "the file is empty"),
        (b"[]\n", "top level must be a JSON object, not a list"),
        (b'{"format_version": 1, "format_version": 1}', "appears twice"),
        (b'{"format_version": NaN}', "NaN is not allowed"),
        (document(format_version="1"), "'format_version' must be a whole number"),
        (document(format_version=-1), "'format_version' must be a whole number"),
        (document(serial=-1), "'serial' must be a whole number"),
        (document(serial=True), "'serial' must be a whole number"),
        (document(lineage=None), "'lineage' must be a string"),
        (document(records={}), "'records' must be a list"),
        (document(records=["x"]), "record 1: a record must be an object"),
        (document(records=[make("a").to_json(), make("a").to_json()]), "two records share the address 'a'"),
        (document(extra=1), "unknown top-level field(s): extra"),
        (b'{"lineage": "L", "serial": 0, "records": []}', "missing top-level field(s): format_version"),
        (document(records=[{**make("a").to_json(), "kind": 3}]), "record 1 (a): field 'kind' must be a string"),
    ],
)
def test_corrupt_documents_are_refused_clearly(data: bytes, expected: str) -> None:
    with pytest.raises(StateError) as raised:
        decode(data, PATH)
    message = str(raised.value)
    assert expected in message
    assert message.startswith(PATH)
    assert "git checkout -- .tether/state.json" in message


def test_invalid_utf8_names_line_and_column() -> None:
    data = b'{\n  "lineage": "\xff"\n}'
    with pytest.raises(StateError, match=r"^\.tether/state\.json:2:15: .*not valid UTF-8"):
        decode(data, PATH)


def test_a_byte_order_mark_is_tolerated() -> None:
    assert decode(b"\xef\xbb\xbf" + document(), PATH).serial == 2


def test_newer_format_message_tells_what_to_do() -> None:
    with pytest.raises(StateError) as raised:
        decode(document(format_version=FORMAT_VERSION + 1), PATH)
    assert str(raised.value) == (
        ".tether/state.json: this state was written by a newer tether (format_version 2; this tether "
        "reads up to 1). Upgrade tether to use it; do not edit the file by hand."
    )


def test_pinned_hosts_are_written_only_when_present_and_sorted() -> None:
    plain = State(lineage="l", serial=3)
    assert b"hosts" not in encode(plain)  # a state without pins keeps the bytes it always had
    pinned = State(lineage="l", serial=3, hosts={"zeta": "z.example", "erp": "api.erp.example"})
    data = encode(pinned)
    assert data.index(b'"erp"') < data.index(b'"zeta"')
    assert decode(data, "state.json") == pinned


@pytest.mark.parametrize("hosts", ['[]', '{"erp": 7}', '{"erp": ""}'])
def test_bad_pinned_hosts_are_refused(hosts: str) -> None:
    data = ('{"format_version": 1, "lineage": "l", "serial": 1, "records": [], "hosts": ' + hosts + "}").encode()
    with pytest.raises(StateError, match="'hosts' must map account names to host names"):
        decode(data, "state.json")
