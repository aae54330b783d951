"""httpx's transport on the standard library's http.client: one HTTP/1.1 request per connection.

wai makes one call at a time and streams it, so it needs none of httpcore's pooling, HTTP/2 or
async support, and pays for them twice: httpcore and h11 cost ~18 ms of start-up, and h11 turns
every chunk of a chunked stream (one per token) into events through a state machine, ~20 µs a
token. http.client reads the framing itself, chunks included, and is already loaded by
`import httpx`.

A proxy from the environment takes httpx's own (httpcore) transport: see `client`.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import select
import ssl
import time
import urllib.request  # loaded by httpx already
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx

READ_SIZE = 1 << 16
INCOMPLETE = "peer closed connection without sending complete message body"


def client(timeout: httpx.Timeout, url: str) -> httpx.Client:
    """A client for `url`: on wai's own transport, or on httpx's through the proxy the
    environment names for it (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, unless NO_PROXY covers it).
    httpx reads the environment only when it picks the transport itself."""
    transport: httpx.BaseTransport
    proxies = urllib.request.getproxies_environment()
    parts = urlsplit(url)
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    host = parts.hostname or ""
    if _loopback(host):
        proxy = None  # as curl does: a proxy cannot reach this machine's own servers
    with contextlib.suppress(ValueError):  # a bad port: httpx says so when it sends
        if parts.port is not None:
            host = f"{host}:{parts.port}"  # NO_PROXY may name a host:port
    if proxy and not urllib.request.proxy_bypass_environment(host, proxies):
        proxy = proxy if "://" in proxy else f"http://{proxy}"  # as httpx reads a bare host:port
        transport = httpx.HTTPTransport(proxy=proxy)
    else:
        transport = StdlibTransport()
    return httpx.Client(timeout=timeout, follow_redirects=False, transport=transport)


class NoResponse(httpx.ConnectTimeout):
    """A streamed request's response (its status and headers) did not come in connect_timeout."""


class NoEvent(httpx.ReadTimeout):
    """An event stream sent no event (bytes, comments perhaps, but no event) for read_timeout."""


def _loopback(host: str) -> bool:
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class ResponseBody(httpx.SyncByteStream):
    """The body as it arrives. http.client's read1 de-chunks it, but one chunk a call, and a
    model server sends a chunk a token: the chunks that have already arrived go on as one piece,
    so a burst of tokens costs one trip through httpx's and httpx-sse's decoders, not one each.

    Once a reader calls `event_arrived` (an event stream does, at its start and on each event),
    the read timeout counts from the last event, not from the last byte: a server trickling
    bytes or sending only comments times out too."""

    def __init__(
        self,
        connection: http.client.HTTPConnection,
        response: http.client.HTTPResponse,
        read_timeout: float | None = None,
        sock: Any = None,
    ) -> None:
        self.connection = connection
        self.response = response
        self.read_timeout = read_timeout
        self.sock = sock  # the connection forgets it when the response is to close it
        self.deadline: float | None = None
        self.trickled = False  # bytes came since the last event (or the start)
        # No length and no chunks: the body ends with the connection, cut off or not.
        self.close_delimited = response.length is None and not response.chunked

    def event_arrived(self) -> None:
        if self.read_timeout is not None:
            self.deadline = time.monotonic() + self.read_timeout
        self.trickled = False  # bytes came since the last event

    def _no_event(self) -> NoEvent:
        return NoEvent(f"no event for {self.read_timeout:g} s")

    def _wait_at_most(self) -> None:
        """Bound the next read by what is left of the time until the deadline."""
        if self.deadline is None or self.sock is None:
            return
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self._no_event()
        self.sock.settimeout(left)

    def __iter__(self) -> Iterator[bytes]:
        with _mapped(read=True):
            yield from self._pieces()

    def _pieces(self) -> Iterator[bytes]:
        response = self.response
        expected = response.length  # None when chunked or delimited by the connection's close
        fd = response.fileno() if response.chunked else None  # else read1 takes all there is
        received = sent = 0
        batch: list[bytes] = []
        try:
            while True:
                self._wait_at_most()
                data = response.read1(READ_SIZE)  # silent till the deadline: "sent nothing"
                if not data:
                    break
                batch.append(data)
                received += len(data)
                self.trickled = True
                if fd is not None and received - sent < READ_SIZE and _arrived(fd):
                    continue
                piece, batch, sent = b"".join(batch), [], received
                yield piece
        except TimeoutError:
            if batch:
                yield b"".join(batch)
            if self.deadline is not None and self.trickled:  # bytes, but no event, till then
                raise self._no_event() from None
            raise
        except (http.client.HTTPException, OSError):
            if batch:
                yield b"".join(batch)  # what came before the failure goes on first
            raise
        if batch:
            yield b"".join(batch)
        if expected is not None and received < expected:  # read1 just stops at a close
            raise httpx.RemoteProtocolError(
                f"{INCOMPLETE}: received {received} bytes, expected {expected}"
            )

    def close(self) -> None:
        self.response.close()
        self.connection.close()


def _arrived(fd: int) -> bool:
    """Whether the socket holds more (or the end), which a read then takes without waiting.
    What http.client has buffered does not count: that goes on in a piece of its own."""
    return bool(select.select([fd], [], [], 0)[0])


class StdlibTransport(httpx.BaseTransport):
    """Sends each request on a new http.client connection; certificates checked on https."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout", {})
        url = request.url
        connection: http.client.HTTPConnection
        if url.scheme == "https":
            connection = http.client.HTTPSConnection(
                url.host, url.port, timeout=timeouts.get("connect"), context=_tls_context()
            )
        elif url.scheme == "http":
            connection = http.client.HTTPConnection(
                url.host, url.port, timeout=timeouts.get("connect")
            )
        else:
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {url.scheme!r}")
        try:
            with _mapped(read=False):
                connection.connect()
            sock = connection.sock
            assert sock is not None
            # A streamed answer's headers come before the model's first token: waiting for them
            # is part of reaching the server (connect_timeout). A whole answer's come after it.
            streamed = "text/event-stream" in request.headers.get("accept", "")
            sock.settimeout(timeouts.get("connect" if streamed else "read"))
            with _mapped(read=True):
                target = url.raw_path.decode("ascii")
                connection.putrequest(
                    request.method, target, skip_host=True, skip_accept_encoding=True
                )
                for name, value in request.headers.raw:
                    connection.putheader(name, value)
                connection.endheaders(request.read() or None)
                try:
                    response = connection.getresponse()
                except TimeoutError as error:
                    if streamed:
                        raise NoResponse(str(error) or "no response") from error
                    raise
            sock.settimeout(timeouts.get("read"))
        except BaseException:
            connection.close()
            raise
        body = ResponseBody(connection, response, timeouts.get("read"), sock)
        return httpx.Response(
            response.status,
            headers=response.getheaders(),
            stream=body,
            extensions={
                "http_version": b"HTTP/1.1",
                "reason_phrase": response.reason.encode(),
                "wai.body": body,
            },
        )


_context: ssl.SSLContext | None = None


def _tls_context() -> ssl.SSLContext:
    """httpx's default context (certifi, or SSL_CERT_FILE / SSL_CERT_DIR), built once."""
    global _context
    if _context is None:
        _context = httpx.create_ssl_context()
    return _context


class _mapped:
    """Turns socket and http.client failures into the httpx exceptions the callers handle."""

    def __init__(self, *, read: bool) -> None:
        self.read = read

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, error: Any, tb: Any) -> None:
        if kind is None or isinstance(error, httpx.TransportError):
            return
        message = str(error) or kind.__name__
        if issubclass(kind, http.client.IncompleteRead):  # read1 on a chunked body, cut or garbled
            raise httpx.RemoteProtocolError(f"{INCOMPLETE}: incomplete chunked read") from error
        if issubclass(kind, TimeoutError):
            raise (httpx.ReadTimeout if self.read else httpx.ConnectTimeout)(message) from error
        if issubclass(kind, http.client.HTTPException):
            raise httpx.RemoteProtocolError(message) from error
        if issubclass(kind, OSError):  # refused, reset, unreachable, TLS failures, bad names
            raise (httpx.ReadError if self.read else httpx.ConnectError)(message) from error
