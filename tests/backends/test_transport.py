"""The http.client transport over real loopback HTTP: chunked framing split at any byte, pieces
passed on as they arrive, and every way a body can end."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import wai
from tests.servers.workers_ai import Reply, sse, token_events
from wai.backends.transport import StdlibTransport


def chunked(pieces: list[bytes], *, extension: bool = False, trailer: bytes = b"") -> bytes:
    ext = b";name=value" if extension else b""
    body = b"".join(b"%x%s\r\n%s\r\n" % (len(p), ext, p) for p in pieces if p)
    return body + b"0\r\n" + trailer + b"\r\n"


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


class RawServer:
    """Answers one connection on 127.0.0.1 with exactly `reply`, one send per piece, then closes
    it. `paced`: each piece after the first waits for `go`; `stall`: at the end, stays silent."""

    def __init__(
        self, reply: bytes | list[bytes], *, stall: bool = False, paced: bool = False
    ) -> None:
        self.pieces = [reply] if isinstance(reply, bytes) else reply
        self.stall = stall
        self.paced = paced
        self.go = threading.Semaphore(0)
        self.request = b""
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.release = threading.Event()
        self.sent = threading.Event()  # set once every piece is sent
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        connection, _ = self.listener.accept()
        with connection:
            while b"\r\n\r\n" not in self.request:
                data = connection.recv(65536)
                if not data:
                    return
                self.request += data
            head, _, body = self.request.partition(b"\r\n\r\n")
            length = next(
                (
                    int(line.split(b":")[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                ),
                0,
            )
            while len(body) < length and (data := connection.recv(65536)):
                body += data
                self.request = head + b"\r\n\r\n" + body
            for index, piece in enumerate(self.pieces):
                if index and self.paced and not self.go.acquire(timeout=10):
                    return
                connection.sendall(piece)
            self.sent.set()
            if self.stall:
                self.release.wait(10)

    def close(self) -> None:
        self.release.set()
        for _ in self.pieces:
            self.go.release()
        self.thread.join(10)
        self.listener.close()


@pytest.fixture
def raw_server() -> Iterator[Callable[..., RawServer]]:
    servers: list[RawServer] = []

    def start(reply: bytes | list[bytes], **kwargs: bool) -> RawServer:
        server = RawServer(reply, **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def client(read_timeout: float = 10.0) -> httpx.Client:
    timeout = httpx.Timeout(read_timeout, connect=10.0)
    return httpx.Client(timeout=timeout, transport=StdlibTransport())


HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
CHUNKED = HEAD + b"Transfer-Encoding: chunked\r\n\r\n"
INCOMPLETE_CHUNKED = (
    "peer closed connection without sending complete message body: incomplete chunked read"
)


def body_of(reply: bytes | list[bytes]) -> bytes:
    server = RawServer(reply)
    try:
        with client() as http:
            return http.get(f"http://127.0.0.1:{server.port}/").content
    finally:
        server.close()


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.binary(max_size=40), max_size=8),
    st.lists(st.integers(min_value=0), max_size=12),
    st.booleans(),
    st.sampled_from([b"", b"Expires: never\r\n"]),
)
def test_any_split_of_a_chunked_body_gives_the_body(
    pieces: list[bytes], cuts: list[int], extension: bool, trailer: bytes
) -> None:
    framed = chunked(pieces, extension=extension, trailer=trailer)
    assert body_of(split_at(CHUNKED + framed, cuts)) == b"".join(pieces)


def test_bytes_after_the_last_chunk_are_ignored() -> None:
    assert body_of(CHUNKED + chunked([b"abc"]) + b"HTTP/1.1 200 OK\r\n") == b"abc"


@pytest.mark.parametrize("framing", ["chunked", "content-length", "close"])
def test_each_piece_is_passed_on_as_it_arrives(raw_server, framing: str) -> None:
    """The server sends the second piece only once the client has the first."""
    first, second = b"data: 1\n\n", b"data: 2\n\n"
    if framing == "chunked":
        head, pieces = CHUNKED, [chunked([first])[:-5], chunked([second])]
    elif framing == "content-length":
        head, pieces = HEAD + b"Content-Length: 18\r\n\r\n", [first, second]
    else:
        head, pieces = HEAD + b"Connection: close\r\n\r\n", [first, second]
    server = raw_server([head + pieces[0], pieces[1]], paced=True)
    with client() as http, http.stream("GET", f"http://127.0.0.1:{server.port}/") as response:
        received: list[bytes] = []
        for piece in response.iter_raw():
            received.append(piece)
            server.go.release()
    assert received == [first, second]


def test_chunks_that_have_arrived_go_on_together(raw_server) -> None:
    events = [b"data: %03d %s\n\n" % (n, b"x" * 190) for n in range(100)]
    server = raw_server(CHUNKED + chunked(events), stall=True)
    with client() as http, http.stream("GET", f"http://127.0.0.1:{server.port}/") as response:
        assert server.sent.wait(10)
        pieces = list(response.iter_raw())
    assert b"".join(pieces) == b"".join(events)
    assert len(pieces) < len(events)


def test_what_came_before_a_cut_goes_on_before_the_error(raw_server) -> None:
    server = raw_server(CHUNKED + chunked([b"data: 1\n\n", b"data: 2\n\n"])[:-5] + b"9\r\nda")
    pieces: list[bytes] = []
    url = f"http://127.0.0.1:{server.port}/"
    with (
        client() as http,
        http.stream("GET", url) as response,
        pytest.raises(httpx.RemoteProtocolError) as error,
    ):
        for piece in response.iter_raw():
            pieces.append(piece)
    assert b"".join(pieces) == b"data: 1\n\ndata: 2\n\nda"
    assert str(error.value) == INCOMPLETE_CHUNKED


@pytest.mark.parametrize(
    ("framed", "message"),
    [
        pytest.param(b"zz\r\nabc\r\n", INCOMPLETE_CHUNKED, id="bad size"),
        pytest.param(b"-3\r\nabc\r\n0\r\n\r\n", INCOMPLETE_CHUNKED, id="negative size"),
        pytest.param(b"3\r\nabcXY", INCOMPLETE_CHUNKED, id="no CRLF after the data"),
        pytest.param(b"3\nabc\n0\n\n", INCOMPLETE_CHUNKED, id="bare LF after the data"),
        pytest.param(
            b"1" * 70000, "got more than 65536 bytes when reading chunk size", id="long size line"
        ),
    ],
)
def test_malformed_framing_is_a_protocol_error(raw_server, framed: bytes, message: str) -> None:
    server = raw_server(CHUNKED + framed)
    with client() as http, pytest.raises(httpx.RemoteProtocolError) as error:
        http.get(f"http://127.0.0.1:{server.port}/")
    assert str(error.value) == message


def test_a_chunked_stream_arrives_de_chunked_with_the_request_sent_as_given(raw_server) -> None:
    server = raw_server(CHUNKED + chunked([b"data: 1\n\n", b"data: 2\n\n"]))
    with client() as http:
        response = http.post(
            f"http://127.0.0.1:{server.port}/run?x=1", json={"a": 1}, headers={"X-Test": "yes"}
        )
    assert (response.status_code, response.content) == (200, b"data: 1\n\ndata: 2\n\n")
    assert response.headers["content-type"] == "text/event-stream"
    server.thread.join(10)
    head, _, body = server.request.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /run?x=1 HTTP/1.1"
    assert sorted(lines[1:]) == sorted(
        [
            f"Host: 127.0.0.1:{server.port}".encode(),
            b"Accept: */*",
            b"Accept-Encoding: gzip, deflate",
            b"Connection: keep-alive",
            f"User-Agent: python-httpx/{httpx.__version__}".encode(),
            b"X-Test: yes",
            b"Content-Length: 7",
            b"Content-Type: application/json",
        ]
    )
    assert body == b'{"a":1}'


def test_a_content_length_body_and_a_close_delimited_body(raw_server) -> None:
    sized = raw_server(HEAD + b"Content-Length: 5\r\n\r\nhello")
    until_close = raw_server(HEAD + b"Connection: close\r\n\r\nuntil the end")
    with client() as http:
        assert http.get(f"http://127.0.0.1:{sized.port}/").content == b"hello"
        assert http.get(f"http://127.0.0.1:{until_close.port}/").content == b"until the end"


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (
            CHUNKED + b"5\r\nhel",
            INCOMPLETE_CHUNKED,
        ),
        (
            HEAD + b"Content-Length: 10\r\n\r\nhello",
            "peer closed connection without sending complete message body: "
            "received 5 bytes, expected 10",
        ),
        (b"", "Remote end closed connection without response"),
        (b"NOT HTTP\r\n\r\n", "NOT HTTP\r\n"),
    ],
)
def test_a_cut_or_broken_answer_is_a_remote_protocol_error(
    raw_server, reply: bytes, message: str
) -> None:
    server = raw_server(reply)
    with client() as http, pytest.raises(httpx.RemoteProtocolError) as error:
        http.get(f"http://127.0.0.1:{server.port}/")
    assert str(error.value) == message


def test_a_silent_server_is_a_read_timeout(raw_server) -> None:
    server = raw_server(CHUNKED, stall=True)
    with client(read_timeout=0.2) as http, pytest.raises(httpx.ReadTimeout):
        http.get(f"http://127.0.0.1:{server.port}/")


def test_a_refused_connection_is_a_connect_error(closed_port: int) -> None:
    with client() as http, pytest.raises(httpx.ConnectError) as error:
        http.get(f"http://127.0.0.1:{closed_port}/")
    assert str(error.value) == "[Errno 111] Connection refused"


def test_other_schemes_are_refused() -> None:
    with pytest.raises(httpx.UnsupportedProtocol):
        StdlibTransport().handle_request(httpx.Request("GET", "ftp://127.0.0.1/"))


@pytest.mark.parametrize(
    "proxy_env",
    [
        {"HTTP_PROXY": "http://{proxy}"},
        {"http_proxy": "{proxy}"},  # no scheme: http
        {"ALL_PROXY": "http://{proxy}", "NO_PROXY": "example.com,localhost"},
    ],
)
def test_a_proxy_from_the_environment_still_carries_the_request(
    isolated, raw_server, closed_port: int, proxy_env: dict[str, str]
) -> None:
    """httpx's transport goes through the proxy; wai's is for direct connections only."""
    answer = sse(*token_events(["Hello", " through", " a proxy"]))
    proxy = raw_server(CHUNKED + chunked([answer]))
    # Not loopback (which bypasses proxies): unresolvable if the proxy were skipped. A server
    # on the LAN, as an OpenAI-compatible backend (the Cloudflare token needs https there).
    base_url = f"http://proxied.invalid:{closed_port}/v1"
    env = {name: value.format(proxy=f"127.0.0.1:{proxy.port}") for name, value in proxy_env.items()}
    config = isolated / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        f'backend = "lan"\n[backends.lan]\ntype = "openai"\nbase_url = "{base_url}"\nmodel = "m"\n'
    )
    run = wai("ask", "--plain", "--no-save", "hi", env=env)
    assert (run.exit_code, run.stdout, run.stderr) == (0, "Hello through a proxy", "")
    proxy.thread.join(10)
    request_line = proxy.request.split(b"\r\n", 1)[0].decode()
    assert request_line == f"POST {base_url}/chat/completions HTTP/1.1"


@pytest.mark.parametrize(
    "proxy_env",
    [
        {"HTTP_PROXY": "{proxy}", "NO_PROXY": "127.0.0.1"},
        {"http_proxy": "{proxy}", "no_proxy": "*"},
        {"ALL_PROXY": "{proxy}", "NO_PROXY": "example.com, 127.0.0.1:{port}"},
        {"HTTPS_PROXY": "{proxy}"},  # not for http:// URLs
    ],
)
def test_no_proxy_sends_the_request_directly(
    server, closed_port: int, proxy_env: dict[str, str]
) -> None:
    server.enqueue(Reply.stream(sse(*token_events(["Hello", " directly"]))))
    proxy = f"http://127.0.0.1:{closed_port}"  # refused if it were used
    env = {name: value.format(proxy=proxy, port=server.port) for name, value in proxy_env.items()}
    run = wai("ask", "--plain", "--no-save", "hi", env=env)
    assert (run.exit_code, run.stdout, run.stderr) == (0, "Hello directly", "")
