"""The http.client transport: chunked framing split at any byte, and every way a body can end."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import wai
from tests.servers.workers_ai import ACCOUNT, DEFAULT_MODEL, TOKEN, Reply, sse, token_events
from wai.backends.transport import Dechunker, StdlibTransport


def chunked(pieces: list[bytes], *, extension: bool = False, trailer: bytes = b"") -> bytes:
    ext = b";name=value" if extension else b""
    body = b"".join(b"%x%s\r\n%s\r\n" % (len(p), ext, p) for p in pieces if p)
    return body + b"0\r\n" + trailer + b"\r\n"


def dechunk(reads: list[bytes]) -> tuple[bytes, bool]:
    dechunker = Dechunker()
    return b"".join(dechunker.feed(read) for read in reads), dechunker.done


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    return [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]


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
    assert dechunk(split_at(framed, cuts)) == (b"".join(pieces), True)


def test_bytes_after_the_last_chunk_are_ignored() -> None:
    assert dechunk([chunked([b"abc"]) + b"HTTP/1.1 200 OK\r\n"]) == (b"abc", True)


def test_bare_newlines_are_accepted_as_line_ends() -> None:
    assert dechunk([b"3\nabc\n0\n\n"]) == (b"abc", True)


def test_a_body_cut_inside_a_chunk_is_not_done() -> None:
    assert dechunk([b"a\r\n01234"]) == (b"01234", False)


@pytest.mark.parametrize(
    ("framed", "message"),
    [
        (b"zz\r\nabc\r\n", "malformed chunked body: bad chunk size b'zz'"),
        (b"3\r\nabcXY", "malformed chunked body: no CRLF after data"),
        (b"-3\r\nabc\r\n", "malformed chunked body: negative size"),
        (b"1" * 5000, "malformed chunked body: line too long"),
    ],
)
def test_malformed_framing_is_a_protocol_error(framed: bytes, message: str) -> None:
    with pytest.raises(httpx.RemoteProtocolError) as error:
        Dechunker().feed(framed)
    assert str(error.value) == message


class RawServer:
    """Answers one connection on 127.0.0.1 with exactly `reply`, then closes it (or stalls)."""

    def __init__(self, reply: bytes, *, stall: bool = False) -> None:
        self.reply = reply
        self.stall = stall
        self.request = b""
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.release = threading.Event()
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
            connection.sendall(self.reply)
            if self.stall:
                self.release.wait(10)

    def close(self) -> None:
        self.release.set()
        self.thread.join(10)
        self.listener.close()


@pytest.fixture
def raw_server() -> Iterator[Callable[..., RawServer]]:
    servers: list[RawServer] = []

    def start(reply: bytes, **kwargs: bool) -> RawServer:
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


def test_a_chunked_stream_arrives_de_chunked_with_the_request_sent_as_given(raw_server) -> None:
    server = raw_server(
        HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + chunked([b"data: 1\n\n", b"data: 2\n\n"])
    )
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
            HEAD + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhel",
            "peer closed connection without sending complete message body: incomplete chunked read",
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
    server = raw_server(HEAD + b"Transfer-Encoding: chunked\r\n\r\n", stall=True)
    with client(read_timeout=0.2) as http, pytest.raises(httpx.ReadTimeout):
        http.get(f"http://127.0.0.1:{server.port}/")


def test_a_refused_connection_is_a_connect_error(closed_port: int) -> None:
    with client() as http, pytest.raises(httpx.ConnectError) as error:
        http.get(f"http://127.0.0.1:{closed_port}/")
    assert str(error.value) == "[Errno 111] Connection refused"


def test_other_schemes_are_refused() -> None:
    with pytest.raises(httpx.UnsupportedProtocol):
        StdlibTransport().handle_request(httpx.Request("GET", "ftp://127.0.0.1/"))


def test_a_proxy_from_the_environment_still_carries_the_request(
    isolated, raw_server, closed_port: int
) -> None:
    """httpx mounts its own transport for HTTP_PROXY; wai's is for direct connections only."""
    answer = sse(*token_events(["Hello", " through", " a proxy"]))
    proxy = raw_server(HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + chunked([answer]))
    base_url = f"http://127.0.0.1:{closed_port}/client/v4"  # refused if the proxy were skipped
    run = wai(
        "ask",
        "--plain",
        "--no-save",
        "hi",
        env={
            "CLOUDFLARE_API_BASE_URL": base_url,
            "CLOUDFLARE_ACCOUNT_ID": ACCOUNT,
            "CLOUDFLARE_API_TOKEN": TOKEN,
            "HTTP_PROXY": f"http://127.0.0.1:{proxy.port}",
        },
    )
    assert (run.exit_code, run.stdout, run.stderr) == (0, "Hello through a proxy", "")
    proxy.thread.join(10)
    request_line = proxy.request.split(b"\r\n", 1)[0].decode()
    assert request_line == (f"POST {base_url}/accounts/{ACCOUNT}/ai/run/{DEFAULT_MODEL} HTTP/1.1")


def test_no_proxy_sends_the_request_directly(server, closed_port: int) -> None:
    server.enqueue(Reply.stream(sse(*token_events(["Hello", " directly"]))))
    proxy = f"http://127.0.0.1:{closed_port}"  # refused if it were used
    run = wai(
        "ask", "--plain", "--no-save", "hi", env={"HTTP_PROXY": proxy, "NO_PROXY": "127.0.0.1"}
    )
    assert (run.exit_code, run.stdout, run.stderr) == (0, "Hello directly", "")
