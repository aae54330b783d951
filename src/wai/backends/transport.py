"""httpx's transport on the standard library's http.client: one HTTP/1.1 request per connection.

wai makes one call at a time and streams it, so it needs none of httpcore's pooling, HTTP/2 or
async support, and pays for them twice: httpcore and h11 cost ~18 ms of start-up, and h11 turns
every chunk of a chunked stream (one per token) into events through a state machine, ~20 µs a
token. Here a read of up to 64 KiB is de-chunked in one pass, so a burst of tokens costs one
trip through httpx's decoders. http.client itself is already loaded by `import httpx`.

Proxies from the environment are mounted on httpx's own (httpcore) transports: see
wai.backends.http._client.
"""

from __future__ import annotations

import http.client
import ssl
from collections.abc import Iterator
from typing import Any

import httpx

READ_SIZE = 1 << 16
MAX_LINE = 4096  # a chunk-size or trailer line longer than this is not HTTP

_SIZE, _DATA, _DATA_END, _TRAILER, _DONE = range(5)


class Dechunker:
    """Decodes `Transfer-Encoding: chunked` fed in pieces split at any byte."""

    def __init__(self) -> None:
        self.pending = b""
        self.left = 0  # bytes still to come of the current chunk's data
        self.state = _SIZE

    @property
    def done(self) -> bool:
        return self.state == _DONE

    def feed(self, data: bytes) -> bytes:
        """The body bytes in `data`; raises httpx.RemoteProtocolError on malformed framing."""
        buffer = self.pending + data if self.pending else data
        pos, end, out = 0, len(buffer), []
        state = self.state
        while pos < end and state != _DONE:
            if state == _SIZE:
                eol = _line_end(buffer, pos)
                if eol < 0:
                    break
                size = _chunk_size(buffer[pos:eol])
                pos = eol + 1
                if size == 0:
                    state = _TRAILER
                    continue
                stop = pos + size
                if buffer[stop : stop + 2] == b"\r\n":  # the whole chunk is here: most of them
                    out.append(buffer[pos:stop])
                    pos = stop + 2
                    continue
                state, self.left = _DATA, size
            elif state == _DATA:
                piece = buffer[pos : pos + self.left]
                out.append(piece)
                pos += len(piece)
                self.left -= len(piece)
                if self.left:
                    break
                state = _DATA_END
            elif state == _DATA_END:
                if buffer[pos : pos + 1] == b"\n":
                    pos += 1
                elif end - pos < 2:
                    break
                elif buffer[pos : pos + 2] == b"\r\n":
                    pos += 2
                else:
                    raise httpx.RemoteProtocolError("malformed chunked body: no CRLF after data")
                state = _SIZE
            else:  # _TRAILER: header lines up to a blank one
                eol = _line_end(buffer, pos)
                if eol < 0:
                    break
                if not buffer[pos:eol].rstrip(b"\r"):
                    state = _DONE
                pos = eol + 1
        self.state = state
        self.pending = buffer[pos:] if state != _DONE else b""
        return b"".join(out)


def _line_end(buffer: bytes, pos: int) -> int:
    """Where the line starting at `pos` ends (its newline), or -1 while it is incomplete."""
    eol = buffer.find(b"\n", pos)
    if eol < 0 and len(buffer) - pos > MAX_LINE:
        raise httpx.RemoteProtocolError("malformed chunked body: line too long")
    return eol


def _chunk_size(line: bytes) -> int:
    """The size in a chunk-size line (hex, maybe `;extensions`, maybe a CR)."""
    if b";" in line:
        line = line.split(b";", 1)[0]
    try:
        size = int(line, 16)  # int() ignores the surrounding whitespace, CR included
    except ValueError:
        shown = line.rstrip(b"\r")[:40]
        message = f"malformed chunked body: bad chunk size {shown!r}"
        raise httpx.RemoteProtocolError(message) from None
    if size < 0:
        raise httpx.RemoteProtocolError("malformed chunked body: negative size")
    return size


class ResponseBody(httpx.SyncByteStream):
    """The body as it arrives: every read of the socket, de-chunked, is one piece."""

    def __init__(self, connection: http.client.HTTPConnection, response: Any) -> None:
        self.connection = connection
        self.response = response

    def __iter__(self) -> Iterator[bytes]:
        with _mapped(read=True):
            yield from self._pieces()

    def _pieces(self) -> Iterator[bytes]:
        response = self.response
        read = response.fp.read1
        if response.chunked:
            dechunker = Dechunker()
            while not dechunker.done:
                data = read(READ_SIZE)
                if not data:
                    raise httpx.RemoteProtocolError(
                        "peer closed connection without sending complete message body: "
                        "incomplete chunked read"
                    )
                if piece := dechunker.feed(data):
                    yield piece
        elif response.length is not None:
            left = response.length
            while left > 0:
                data = read(min(left, READ_SIZE))
                if not data:
                    raise httpx.RemoteProtocolError(
                        "peer closed connection without sending complete message body: "
                        f"received {response.length - left} bytes, expected {response.length}"
                    )
                left -= len(data)
                yield data
        else:  # the body ends when the server closes the connection
            while data := read(READ_SIZE):
                yield data

    def close(self) -> None:
        self.response.close()
        self.connection.close()


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
            assert connection.sock is not None
            connection.sock.settimeout(timeouts.get("read"))
            with _mapped(read=True):
                target = url.raw_path.decode("ascii")
                connection.putrequest(
                    request.method, target, skip_host=True, skip_accept_encoding=True
                )
                for name, value in request.headers.raw:
                    connection.putheader(name, value)
                connection.endheaders(request.read() or None)
                response = connection.getresponse()
        except BaseException:
            connection.close()
            raise
        return httpx.Response(
            response.status,
            headers=response.getheaders(),
            stream=ResponseBody(connection, response),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": response.reason.encode()},
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
        if issubclass(kind, TimeoutError):
            raise (httpx.ReadTimeout if self.read else httpx.ConnectTimeout)(message) from error
        if issubclass(kind, http.client.HTTPException):
            raise httpx.RemoteProtocolError(message) from error
        if issubclass(kind, OSError):  # refused, reset, unreachable, TLS failures, bad names
            raise (httpx.ReadError if self.read else httpx.ConnectError)(message) from error
