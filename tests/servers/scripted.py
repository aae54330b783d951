"""What the loopback test servers share: scripted replies sent as chunked bodies (split reads,
pauses on a gate, a cut connection, a stall), recorded requests, and a quiet lifecycle."""

from __future__ import annotations

import json
import socket
import sys
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def sse(*events: str | dict[str, Any], done: bool = True, newline: str = "\n") -> bytes:
    """An SSE body: each event as one `data:` line and a blank line, then `data: [DONE]`."""
    lines = []
    for event in events:
        data = event if isinstance(event, str) else json.dumps(event)
        lines.append(f"data: {data}{newline}{newline}")
    if done:
        lines.append(f"data: [DONE]{newline}{newline}")
    return "".join(lines).encode("utf-8")


def error_envelope(code: int | str, message: str) -> bytes:
    return json.dumps(
        {
            "result": None,
            "success": False,
            "errors": [{"code": code, "message": message}],
            "messages": [],
        }
    ).encode()


@dataclass
class Reply:
    """One scripted answer: a status, headers and a body sent as separate chunks."""

    status: int = 200
    content_type: str = "text/event-stream"
    chunks: list[bytes] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    cut: bool = False  # close the connection after the chunks, without ending the body
    stall: bool = False  # after the chunks, send nothing more until the server stops
    pause_before: list[int] = field(default_factory=list)  # chunk indexes to wait on `gate` for
    pace: float = 0.0  # seconds between chunks, as a model sends its tokens

    @classmethod
    def stream(cls, body: bytes, split: int | None = None, **kwargs: Any) -> Reply:
        """A streamed body; `split` sends it in pieces of that many bytes (split reads)."""
        size = split or len(body) or 1
        return cls(chunks=[body[i : i + size] for i in range(0, len(body), size)], **kwargs)

    @classmethod
    def json(cls, body: bytes, status: int = 200, **kwargs: Any) -> Reply:
        return cls(status=status, content_type="application/json", chunks=[body], **kwargs)

    @classmethod
    def error(cls, status: int, code: int | str, message: str, **kwargs: Any) -> Reply:
        return cls.json(error_envelope(code, message), status=status, **kwargs)


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any


class _QuietServer(ThreadingHTTPServer):
    """Connections the client drops (Ctrl-C, a closed keep-alive) are normal, not errors."""

    daemon_threads = True
    errors: list[BaseException]

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if not isinstance(error, ConnectionError | TimeoutError) and error is not None:
            self.errors.append(error)


class ScriptedServer:
    """A server on 127.0.0.1 (port 0); subclasses answer with `answer_get` and `answer`."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.replies: deque[Reply] = deque()
        self.stopping = threading.Event()
        self.gate = threading.Semaphore(0)  # released by a test to let paused chunks go
        self._httpd = _QuietServer(("127.0.0.1", 0), self._handler())
        self._httpd.errors = []
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def errors(self) -> list[BaseException]:
        """Exceptions raised while handling requests (other than dropped connections)."""
        return self._httpd.errors

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def start(self) -> Any:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        for _ in range(100):
            self.gate.release()
        self._httpd.shutdown()
        self._httpd.server_close()

    def enqueue(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def answer_get(self, path: str, headers: Any) -> Reply:
        raise NotImplementedError

    def answer(self, path: str, headers: Any, body: Any) -> Reply:
        raise NotImplementedError

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                server.requests.append(Recorded("GET", self.path, dict(self.headers.items()), None))
                self.send_reply(server.answer_get(self.path, self.headers))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw
                server.requests.append(
                    Recorded("POST", self.path, dict(self.headers.items()), body)
                )
                self.send_reply(server.answer(self.path, self.headers, body))

            def send_reply(self, reply: Reply) -> None:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Transfer-Encoding", "chunked")
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                for index, chunk in enumerate(reply.chunks):
                    if index in reply.pause_before:
                        server.gate.acquire()
                    if reply.pace and index:
                        server.stopping.wait(reply.pace)
                    if server.stopping.is_set():
                        return
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                if reply.stall:
                    server.stopping.wait()
                    return
                if reply.cut:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

        return Handler
