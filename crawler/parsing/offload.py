"""Parse exhibit and program pages on a second core while the crawl goes on.

Scrapy runs every callback in its one reactor thread, so on a 2-core machine
parsing (0.3-0.8 ms a page even after cutting scripts out) was added to the
reactor's own ~1 ms a page while the other core idled. This downloader
middleware hands each exhibit/program page to a worker process as soon as it is
downloaded; the spider then calls `parse_exhibit` / `parse_program_page` as
before, and those return the worker's answer, kept for exactly that body object
(`PREPARSED`, keyed by identity, used once, bounded). Anything that goes wrong
here (no worker, a dead worker, an answer that cannot be pickled, a body never
handed to the spider) only means the spider parses inline, with the same
functions: the results are the same either way.

The worker is a plain child process talking over a socket pair that the asyncio
loop reads and writes itself: no executor threads in the crawler, whose GIL
hand-offs (a ProcessPoolExecutor's feeder and manager threads) cost the reactor
more than the parsing they saved.

`ACEWATCH_PARSE_WORKERS`: "auto" (a worker when there are 2+ CPUs) or 0/1.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import mmap
import os
import pickle
import socket
import struct
import subprocess
import sys

from crawler.parsing import ace, coursera

log = logging.getLogger(__name__)

#: spider callback name -> parser kind
CALLBACKS = {"parse_exhibit": b"a", "parse_program": b"c"}
MEMO_MAX = 128
_HEADER = struct.Struct("!cII")  # kind, offset in the shared ring (INLINE: the body follows), length
_LENGTH = struct.Struct("!I")
INLINE = 0xFFFFFFFF
RING_SIZE = 8 << 20  # pages go through shared memory: one memcpy, not a socket's copies


def _parse(kind: bytes, body: bytes):
    """(True, result) or (False, exception): what the spider's own call would return or raise."""
    parser = ace.parse_exhibit if kind == b"a" else coursera.parse_program_page
    try:
        return True, parser(body)
    except Exception as exc:  # returned, not raised: the spider raises it in its own frame
        return False, exc


def serve(fd: int, ring_fd: int = -1, ring_size: int = 0) -> None:
    """The worker: read (kind, offset, length[, body]), answer (length, pickle), until the crawler hangs up."""
    channel = socket.socket(fileno=fd)
    ring = mmap.mmap(ring_fd, ring_size) if ring_fd >= 0 else None
    incoming = channel.makefile("rb", buffering=1 << 20)
    try:
        while True:
            header = incoming.read(_HEADER.size)
            if len(header) < _HEADER.size:
                return
            kind, offset, length = _HEADER.unpack(header)
            body = incoming.read(length) if offset == INLINE else ring[offset : offset + length]
            try:
                answer = pickle.dumps(_parse(kind, body), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as exc:  # an answer that cannot be pickled: the spider parses inline
                answer = pickle.dumps(None if not isinstance(exc, Exception) else (None, repr(exc)))
            channel.sendall(_LENGTH.pack(len(answer)) + answer)
    except (OSError, EOFError):
        return


class _Worker:
    """The crawler's side of one worker process (shared by every spider of the process)."""

    def __init__(self):
        parent, child = socket.socketpair()
        try:  # room for whole pages: one send() a page instead of many partial writes
            parent.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        except OSError:
            pass
        self.ring, ring_fd = None, -1
        try:
            ring_fd = os.memfd_create("acewatch-parse-ring")
            os.ftruncate(ring_fd, RING_SIZE)
            self.ring = mmap.mmap(ring_fd, RING_SIZE)
        except (AttributeError, OSError):  # no memfd here: bodies go through the socket
            ring_fd = -1
        self.regions: collections.deque[tuple[int, int]] = collections.deque()  # in flight, oldest first
        self.head = 0
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [*sys.path])))
        ring_args = f"{ring_fd}, {RING_SIZE}" if ring_fd >= 0 else "-1, 0"
        self.process = subprocess.Popen(
            [sys.executable, "-c", f"from crawler.parsing.offload import serve; serve({child.fileno()}, {ring_args})"],
            pass_fds=(child.fileno(),) + ((ring_fd,) if ring_fd >= 0 else ()),
            stdin=subprocess.DEVNULL,
            env=env,
        )
        child.close()
        if ring_fd >= 0:
            os.close(ring_fd)  # the mapping stays
        self.socket = parent
        self.pending: collections.deque[tuple[asyncio.Future, bool]] = collections.deque()
        self.transport: asyncio.Transport | None = None
        self.connected: asyncio.Future | None = None
        self.outgoing: list[bytes] = []
        self.broken = False

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        self.transport, _ = await loop.create_connection(lambda: _Answers(self), sock=self.socket)

    def answered(self, answer) -> None:
        """The worker's next answer (answers come back in the order pages went out)."""
        future, in_ring = self.pending.popleft()
        if in_ring:
            self.regions.popleft()
        if not future.done():
            future.set_result(answer)

    def gone(self, exc: BaseException | None) -> None:
        """The worker died or the crawl is ending: parse inline from now on."""
        self.broken = True
        while self.pending:
            future, _ = self.pending.popleft()
            if not future.done():
                future.set_exception(ConnectionError(f"parse worker gone ({type(exc).__name__})"))

    def close(self) -> None:
        """Hang up: the worker reads EOF and exits; the answer reader stops."""
        self.broken = True
        if self.transport is not None:
            self.transport.abort()  # at once: the reactor stops right after this
        self.socket.close()
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    async def parse(self, kind: bytes, body: bytes):
        if self.connected is None:  # once, however many pages arrive meanwhile
            self.connected = asyncio.ensure_future(self._connect())
        await self.connected
        future = asyncio.get_running_loop().create_future()
        start = self._allocate(len(body))
        self.pending.append((future, start is not None))
        if start is None:
            self._send(_HEADER.pack(kind, INLINE, len(body)), body)
        else:
            self.ring[start : start + len(body)] = body
            self._send(_HEADER.pack(kind, start, len(body)))
        return await future

    def _send(self, *parts: bytes) -> None:
        """Queue parts; the pages of one loop turn go out in one write (one wake-up of the worker)."""
        if not self.outgoing:
            asyncio.get_running_loop().call_soon(self._flush)
        self.outgoing.extend(parts)

    def _flush(self) -> None:
        if self.outgoing and not self.broken:
            self.transport.writelines(self.outgoing)
        self.outgoing = []

    def _allocate(self, length: int) -> int | None:
        """Where in the ring a body of `length` bytes goes (None: send it inline).

        Regions are freed oldest first (answers come back in order), so the ring
        only needs the start of the oldest region in flight and the next free byte.
        """
        if self.ring is None or length > RING_SIZE // 4:
            return None
        if not self.regions:
            start = 0
        else:
            tail, head = self.regions[0][0], self.head
            if head >= tail and head + length <= RING_SIZE:
                start = head
            elif head >= tail and length < tail:
                start = 0
            elif head < tail and head + length < tail:
                start = head
            else:
                return None
        self.head = start + length
        self.regions.append((start, start + length))
        return start


class _Answers(asyncio.Protocol):
    """Reads (length, pickle) answers straight off the socket as bytes arrive.

    A protocol rather than a StreamReader: no coroutine to resume twice per
    answer in the reactor thread, and all the answers of one read are handed
    out in one go.
    """

    def __init__(self, worker: _Worker):
        self.worker = worker
        self.buffer = bytearray()

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        start, size = 0, len(buffer)
        try:
            while size - start >= _LENGTH.size:
                (length,) = _LENGTH.unpack_from(buffer, start)
                end = start + _LENGTH.size + length
                if end > size:
                    break
                self.worker.answered(pickle.loads(buffer[start + _LENGTH.size : end]))
                start = end
        except Exception as exc:  # an answer that cannot be read: stop using the worker
            self.worker.gone(exc)
            self.buffer = bytearray()
            if self.worker.transport is not None:
                self.worker.transport.abort()
            return
        del buffer[:start]

    def connection_lost(self, exc: BaseException | None) -> None:
        self.worker.gone(exc or EOFError())


_worker: _Worker | None = None
_users = 0  # crawlers of this process still using the worker


def workers_from(setting) -> int:
    if setting in (None, "", "auto"):
        return 1 if (os.cpu_count() or 1) >= 2 else 0
    return min(1, max(0, int(setting)))


class ParseAheadMiddleware:
    """Downloader middleware: parse exhibit and program pages in a worker process."""

    def __init__(self, enabled: bool, stats=None):
        self.enabled, self.stats = enabled, stats

    @classmethod
    def from_crawler(cls, crawler):
        global _worker, _users
        from scrapy import signals
        from scrapy.utils.reactor import is_asyncio_reactor_installed

        enabled = bool(workers_from(crawler.settings.get("ACEWATCH_PARSE_WORKERS", "auto")))
        enabled = enabled and is_asyncio_reactor_installed()  # answers are awaited on asyncio's loop
        if enabled and _worker is None:
            try:
                _worker = _Worker()  # starts now: it imports lxml while the crawl starts
            except OSError as exc:
                log.warning("no parse worker (%s); parsing inline", exc)
                enabled = False
        middleware = cls(enabled, crawler.stats)
        if enabled:
            _users += 1
            crawler.signals.connect(middleware.engine_stopped, signal=signals.engine_stopped)
        return middleware

    def engine_stopped(self) -> None:
        global _worker, _users
        _users -= 1
        if _users <= 0 and _worker is not None:
            _worker.close()
            _worker = None

    async def process_response(self, request, response):
        kind = CALLBACKS.get(getattr(request.callback, "__name__", ""))
        if kind is None or not self.enabled or _worker is None or _worker.broken or not 200 <= response.status < 300:
            return response
        body = response.body
        try:
            answer = await _worker.parse(kind, body)
        except Exception as exc:
            log.warning("parse worker unavailable (%s); parsing inline", exc)
            self.enabled = False
            return response
        if not answer or answer[0] is None:
            return response  # could not be pickled: the spider parses it itself
        memo = ace.PREPARSED if kind == b"a" else coursera.PREPARSED
        memo[id(body)] = (body, answer)
        while len(memo) > MEMO_MAX:  # bodies never handed to the spider (dropped responses)
            memo.pop(next(iter(memo)))
        if self.stats is not None:
            self.stats.inc_value("acewatch/parsed_in_worker")
        return response
