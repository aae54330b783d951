"""A Workers AI server on 127.0.0.1 speaking reference/workers-ai.md byte for byte.

It checks the account, the token and the model the way Cloudflare does (10000, 7003, 5007, 5028),
answers `/ai/run/{model}` with a streamed or enveloped answer, and plays scripted replies (error
envelopes, 429 with Retry-After, split reads, a cut connection, a stall) in order. Every request is
recorded.
"""

from __future__ import annotations

import json
import re
import socket
import sys
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ACCOUNT = "0123456789abcdef0123456789abcdef"
TOKEN = "cf-test-token-Zx9vQ2mN8pL4kJ7hG3fD"
DEFAULT_MODEL = "@hf/thebloke/mistral-7b-instruct-v0.1-awq"
RETIRED_MODEL = "@hf/thebloke/llama-2-13b-chat-awq"
RETIRED_MESSAGE = (
    "This model was deprecated on 2025-10-01. Please use an alternative model: "
    "https://developers.cloudflare.com/workers-ai/models/"
)
DEFAULT_TOKENS = ("Hello", ",", " world", "!")
DEFAULT_USAGE = {"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16}


def sse(*events: str | dict[str, Any], done: bool = True, newline: str = "\n") -> bytes:
    """An SSE body: each event as one `data:` line and a blank line, then `data: [DONE]`."""
    lines = []
    for event in events:
        data = event if isinstance(event, str) else json.dumps(event)
        lines.append(f"data: {data}{newline}{newline}")
    if done:
        lines.append(f"data: [DONE]{newline}{newline}")
    return "".join(lines).encode("utf-8")


def token_events(tokens: tuple[str, ...] | list[str], usage: dict[str, int] | None = None) -> list:
    events: list[Any] = [{"response": token, "p": "abdefgh"} for token in tokens]
    if usage is not None:
        events.append({"response": "", "usage": usage})
    return events


def envelope(result: Any) -> bytes:
    return json.dumps({"result": result, "success": True, "errors": [], "messages": []}).encode()


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


def catalogue_entry(name: str, description: str, context_window: int | None = None) -> dict:
    properties = []
    if context_window is not None:
        properties.append({"property_id": "context_window", "value": str(context_window)})
    return {
        "id": f"id-{name}",
        "name": name,
        "description": description,
        "task": {"id": "task-text-generation", "name": "Text Generation"},
        "properties": properties,
    }


DEFAULT_CATALOGUE = [
    catalogue_entry(DEFAULT_MODEL, "Mistral 7B Instruct v0.1, AWQ-quantised.", 4096),
    catalogue_entry("@cf/meta/llama-3.1-8b-instruct", "Meta's Llama 3.1 8B Instruct.", 7968),
    *(catalogue_entry(f"@cf/test/model-{i:02d}", f"Test model {i}.") for i in range(1, 59)),
]  # 60 models: two pages of 50


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


class WorkersAIServer:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.replies: deque[Reply] = deque()
        self.tokens: tuple[str, ...] = DEFAULT_TOKENS
        self.catalogue: list[dict] = list(DEFAULT_CATALOGUE)
        self.token_status = "active"
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

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/client/v4"

    @property
    def gateway_base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/gateway/v1"

    def start(self) -> WorkersAIServer:
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

    @property
    def run_requests(self) -> list[Recorded]:
        return [r for r in self.requests if "/ai/run/" in r.path or "/workers-ai/" in r.path]

    @property
    def last_body(self) -> Any:
        return self.run_requests[-1].body

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

    def answer_get(self, path: str, headers: Any) -> Reply:
        """The token check and the model catalogue (paged), as the v4 API answers them."""
        from urllib.parse import parse_qs, urlsplit

        parts = urlsplit(path)
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        if headers.get("Authorization") != f"Bearer {TOKEN}":
            if parts.path == "/client/v4/user/tokens/verify":
                return Reply.error(401, 1000, "Invalid API Token")
            return Reply.error(401, 10000, "Authentication error")
        if parts.path == "/client/v4/user/tokens/verify":
            return Reply.json(envelope({"id": "token-id", "status": self.token_status}))
        if parts.path == f"/client/v4/accounts/{ACCOUNT}/ai/models/search":
            if self.replies:
                return self.replies.popleft()
            models = [
                m
                for m in self.catalogue
                if m["task"]["name"] == query.get("task", m["task"]["name"])
            ]
            size, page = int(query.get("per_page", 20)), int(query.get("page", 1))
            return Reply.json(envelope(models[(page - 1) * size : page * size]))
        return Reply.error(404, 7003, "Could not route to " + parts.path)

    def answer(self, path: str, headers: Any, body: Any) -> Reply:
        """Check account, token and model as Workers AI does, then play the next scripted reply."""
        prefix = f"/client/v4/accounts/{ACCOUNT}/ai/run/"
        gateway = re.fullmatch(rf"/gateway/v1/{ACCOUNT}/[^/]+/workers-ai/(.+)", path)
        if headers.get("Authorization") != f"Bearer {TOKEN}":
            return Reply.error(401, 10000, "Authentication error")
        if path.startswith(prefix):
            model = path[len(prefix) :]
        elif gateway:
            model = gateway.group(1)
        else:
            return Reply.error(404, 7003, "Could not route to " + path)
        if model == RETIRED_MODEL:
            return Reply.error(400, 5028, RETIRED_MESSAGE)
        if model != DEFAULT_MODEL:
            return Reply.error(400, 5007, f"No such model {model} or task")
        if self.replies:
            return self.replies.popleft()
        if isinstance(body, dict) and body.get("stream"):
            return Reply.stream(sse(*token_events(self.tokens, DEFAULT_USAGE)))
        return Reply.json(envelope({"response": "".join(self.tokens), "usage": DEFAULT_USAGE}))
