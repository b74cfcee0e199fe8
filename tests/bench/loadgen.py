"""A deliberately thin HTTP/1.1 load generator, to measure the sandbox and not the client.

httpx spends more CPU per request than the sandbox does, so measuring the sandbox with it would
measure httpx. This sends prepared request bytes (a GET, or a POST of a fixed body such as a
GraphQL query) over keep-alive connections and reads each answer by its Content-Length: tens of
microseconds per request on the client side.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    statuses: dict[int, int]
    client_cpu_s: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


async def _connection(host: str, port: int, payload: bytes, count: int, statuses: dict[int, int]) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        for _ in range(count):
            writer.write(payload)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
                    break
            if length:
                await reader.readexactly(length)
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()
        await writer.wait_closed()


def request_bytes(url: str, headers: dict[str, str], body: bytes | None = None) -> bytes:
    """A GET, or with ``body`` a POST of it."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"{'GET' if body is None else 'POST'} {target} HTTP/1.1", f"Host: {parts.netloc}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii") + (body or b"")


async def run_load(
    url: str, headers: dict[str, str], requests: int, connections: int, *, body: bytes | None = None
) -> LoadResult:
    parts = urlsplit(url)
    payload = request_bytes(url, headers, body)
    statuses: dict[int, int] = {}
    per = [requests // connections + (1 if i < requests % connections else 0) for i in range(connections)]
    cpu = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(
        *(_connection(parts.hostname or "127.0.0.1", parts.port or 80, payload, n, statuses) for n in per if n)
    )
    seconds = time.perf_counter() - started
    return LoadResult(requests, seconds, statuses, time.process_time() - cpu)
