"""Backups encrypted to age recipients, through pyrage (the age format's Rust implementation).

A file encrypted here is a standard age file: ``age -d -i KEY binding.json.age`` opens it. tether
holds only public recipients (``age1...``); the identity (private key) is needed only to read a
backup back, and is passed by reference (``${env:NAME}`` or ``${file:PATH}``), never stored.

A dataset is streamed: records go through a bounded queue to a thread in which pyrage reads them,
encrypts, and writes the ciphertext into the backup file, so a large export is never held whole
in memory, and nothing in the clear ever reaches the disk.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Sequence
from types import TracebackType
from typing import BinaryIO, Protocol

import pyrage
from pyrage import x25519

from engine.backup.manifest import AGE_RECIPIENT
from engine.errors import BackupError

_QUEUE_CHUNKS = 16
_END = b""


class _Sink(Protocol):
    def write(self, data: bytes) -> int: ...


def parse_recipients(recipients: Sequence[str]) -> tuple[x25519.Recipient, ...]:
    """age X25519 recipients (``age1...``), each checked; BackupError naming a bad one."""
    if not recipients:
        raise BackupError("defaults.backups.encrypt_to is empty; list at least one age recipient (age1...)")
    parsed = []
    for text in recipients:
        if not isinstance(text, str) or not AGE_RECIPIENT.match(text):
            raise BackupError(
                f"{text!r} is not an age recipient; expected a public key like age1... "
                "(age-keygen prints it as 'Public key')"
            )
        try:
            parsed.append(x25519.Recipient.from_str(text))
        except pyrage.RecipientError as exc:
            raise BackupError(f"{text}: not a valid age recipient ({exc})") from None
    return tuple(parsed)


def parse_identity(text: str) -> list[x25519.Identity]:
    """Every ``AGE-SECRET-KEY-1...`` line of an identity file's text (comments skipped)."""
    identities = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            identities.append(x25519.Identity.from_str(line))
        except pyrage.IdentityError:
            raise BackupError("the identity is not an age secret key (AGE-SECRET-KEY-1...)") from None
    if not identities:
        raise BackupError("the identity holds no age secret key (AGE-SECRET-KEY-1...)")
    return identities


def decrypt_stream(source: BinaryIO, out: BinaryIO, identities: Sequence[x25519.Identity]) -> None:
    """An age stream from ``source`` to ``out`` in the clear, chunk by chunk (age checks each chunk
    as it goes); a wrong key is refused before anything is written."""
    try:
        pyrage.decrypt_io(source, out, list(identities))
    except pyrage.DecryptError as exc:
        raise BackupError(f"cannot decrypt with this identity ({exc}); is it the key the backup was encrypted to?") from None


class _Chunks:
    """The reader pyrage pulls plaintext from, fed through a bounded queue."""

    def __init__(self) -> None:
        self.queue: queue.Queue[bytes] = queue.Queue(maxsize=_QUEUE_CHUNKS)
        self._pending = b""
        self._ended = False

    def read(self, size: int = -1) -> bytes:
        while not self._pending and not self._ended:
            chunk = self.queue.get()
            if chunk == _END:
                self._ended = True
            self._pending = chunk
        if size is None or size < 0:
            size = len(self._pending)
        out, self._pending = self._pending[:size], self._pending[size:]
        return out


class AgeWriter:
    """Encrypts everything written to it into ``sink`` (a backup file), as one age stream.

    ``with AgeWriter(sink, recipients) as out: out.write(b"...")``; leaving the block finishes
    the stream (or, after an exception, abandons it: the caller removes the file)."""

    def __init__(self, sink: _Sink, recipients: Sequence[x25519.Recipient]) -> None:
        self._sink = sink
        self._recipients = list(recipients)
        self._reader = _Chunks()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._encrypt, name="tether-age", daemon=True)
        self._buffer = bytearray()

    def _encrypt(self) -> None:
        try:
            pyrage.encrypt_io(self._reader, self._sink, self._recipients)
        except BaseException as exc:  # handed back to the writing side on close
            self._error = exc
            while not self._reader._ended:  # drain, so the writing side never blocks
                if self._reader.queue.get() == _END:
                    break

    def __enter__(self) -> AgeWriter:
        self._thread.start()
        return self

    def write(self, data: bytes) -> int:
        self._buffer += data
        if len(self._buffer) >= 1 << 16:
            self._send()
        return len(data)

    def _send(self) -> None:
        if self._buffer:
            self._reader.queue.put(bytes(self._buffer))
            self._buffer.clear()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self._send()
        self._reader.queue.put(_END)
        self._thread.join()
        if exc_type is None and self._error is not None:
            raise BackupError(f"cannot encrypt the backup ({self._error})") from None
