"""A hostile HTTP server on raw sockets: it answers every connection with whatever bytes a test
scripts (a close-delimited body, a redirect, a 200 MB line made up as it is sent, a trickle of
one byte a second), which no well-behaved server library would send."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable, Iterable, Iterator

Script = Callable[[threading.Event], Iterable[bytes]]  # given `stopping`, the pieces to send


def head(
    status: str = "200 OK",
    content_type: str = "text/event-stream",
    *,
    chunked: bool = False,
    extra: str = "",
) -> bytes:
    """A response head; without `chunked` (or a Content-Length in `extra`), the body is
    delimited by the connection's close."""
    lines = [f"HTTP/1.1 {status}", f"Content-Type: {content_type}", "Connection: close"]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode()


def pieces(*parts: bytes) -> Script:
    """Send `parts`, then close."""
    return lambda stopping: parts


def huge_line(prefix: bytes, size: int, step: int = 1 << 20) -> Script:
    """Send `prefix`, then a `data:` line of `size` bytes made up as it goes (never held whole)."""

    def script(stopping: threading.Event) -> Iterator[bytes]:
        yield prefix + b'data: {"response":"'
        block = b"a" * step
        for _ in range(size // step):
            yield block

    return script


def trickle(prefix: bytes, drip: bytes, every: float) -> Script:
    """Send `prefix`, then `drip` every `every` seconds until the client leaves."""

    def script(stopping: threading.Event) -> Iterator[bytes]:
        yield prefix
        while not stopping.wait(every):
            yield drip

    return script


def delayed(data: bytes, seconds: float) -> Script:
    """Send nothing for `seconds` (a model generating a whole answer), then `data`."""

    def script(stopping: threading.Event) -> Iterator[bytes]:
        if not stopping.wait(seconds):
            yield data

    return script


class HostileServer:
    """Answers each connection on 127.0.0.1 with `script` (the request is read and kept first);
    a client that leaves ends the answer quietly. `sent` counts the body bytes that went out."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: list[bytes] = []
        self.sent = 0
        self.stopping = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.1)
        self.port: int = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> HostileServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(10)
        self.listener.close()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(10)
                with contextlib.suppress(OSError):  # the client left (reset, broken pipe)
                    self._answer(connection)

    def _answer(self, connection: socket.socket) -> None:
        request = b""
        while b"\r\n\r\n" not in request:
            data = connection.recv(65536)
            if not data:
                return
            request += data
        head_part, _, body = request.partition(b"\r\n\r\n")
        length = 0
        for line in head_part.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        while len(body) < length and (data := connection.recv(65536)):
            body += data
        self.requests.append(head_part + b"\r\n\r\n" + body)
        for piece in self.script(self.stopping):
            connection.sendall(piece)
            self.sent += len(piece)
        connection.shutdown(socket.SHUT_WR)
