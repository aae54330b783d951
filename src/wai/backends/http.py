"""Send one HTTP call and stream its events, with timeouts and retries before the first token."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlsplit

from wai.backends.base import Event, HttpCall, Notice, ReasoningDelta, TextDelta
from wai.errors import EXIT_BACKEND, BackendError, NetworkError, StreamInterrupted

if TYPE_CHECKING:
    import httpx

MAX_RETRY_AFTER = 60.0  # a server asking for a longer wait gets an error, not a frozen terminal
MAX_BACKOFF = 8.0


class RetryPolicy(NamedTuple):
    retries: int = 3
    backoff: float = 0.5
    connect_timeout: float = 10.0
    read_timeout: float = 120.0


ErrorFromResponse = Callable[["httpx.Response"], BackendError]
EventsFromResponse = Callable[["httpx.Response"], Iterator[Event]]


class CutOff(NetworkError):
    """A body delimited by the connection's close that ended with neither `[DONE]` nor a finish
    reason: nothing tells the end of the answer from a connection cut off."""

    def __init__(self) -> None:
        super().__init__("the connection was cut off", retryable=True)


class Endpoint(NamedTuple):
    """How to name a server in errors: `where` it was expected, how to `start` it if known."""

    where: str
    start: str | None = None

    @classmethod
    def of(cls, url: str) -> Endpoint:
        return cls(urlsplit(url).netloc)


def stream_call(
    call: HttpCall,
    secret_headers: dict[str, str],
    policy: RetryPolicy,
    error_from_response: ErrorFromResponse,
    events_from_response: EventsFromResponse,
    endpoint: Endpoint | None = None,
) -> Iterator[Event]:
    """Yield the events of `call`; retry retryable failures until the answer starts (its first
    text or reasoning: asked again, it would come again)."""
    import httpx

    timeout = httpx.Timeout(policy.read_timeout, connect=policy.connect_timeout)
    headers = {**call.headers, **secret_headers}
    endpoint = endpoint or Endpoint.of(call.url)
    host = endpoint.where
    attempt = 0
    with _client(timeout, call.url) as client:
        while True:
            text_seen = False
            try:
                with client.stream(call.method, call.url, headers=headers, json=call.body) as resp:
                    if resp.status_code >= 400:
                        resp.read()
                        raise error_from_response(resp)
                    if resp.is_redirect:
                        raise redirect_error(resp, host)
                    for event in events_from_response(resp):
                        if not text_seen and isinstance(event, TextDelta | ReasoningDelta):
                            text_seen = True
                        yield event
                return
            except httpx.TimeoutException as error:
                failure = _timeout_error(error, host, policy)
            except httpx.TransportError as error:
                failure = _transport_error(error, endpoint)
            except CutOff as error:
                failure = _transport_error(error, endpoint)
            except BackendError as error:
                failure = error
            except Exception as error:  # malformed data wai's reading did not expect
                failure = BackendError(
                    f"the backend sent an answer wai cannot read ({type(error).__name__}: "
                    f"{str(error)[:120]})"
                )
            if text_seen:
                if isinstance(failure, NetworkError):
                    raise StreamInterrupted(
                        f"the answer is incomplete: {failure.message}",
                        hint="what arrived is kept above; ask again to get a whole answer",
                        repl_hint="what arrived is kept above; /continue resumes it, /retry "
                        "asks again",
                    ) from None
                failure.exit_code = EXIT_BACKEND  # an error event ended a started answer
                raise failure
            if not failure.retryable or attempt >= policy.retries:
                raise failure
            if failure.retry_after is not None and failure.retry_after > MAX_RETRY_AFTER:
                raise failure
            attempt += 1
            delay = _delay(attempt, failure.retry_after, policy.backoff)
            yield Notice(  # "please try again." does not end in ".;"
                f"{failure.message.rstrip('.')}; retrying in {delay:.1f} s "
                f"(attempt {attempt} of {policy.retries})"
            )
            time.sleep(delay)


def redirect_error(response: httpx.Response, host: str) -> BackendError:
    """A 3xx: not followed (it would send the credentials on to wherever it points)."""
    location = response.headers.get("location") or "(no Location)"
    return BackendError(
        f"{host} answered {response.status_code} {response.reason_phrase}, a redirect to "
        f"{location}; wai does not follow redirects",
        hint="point base_url at the address it names, if you trust it",
    )


def _client(timeout: httpx.Timeout, url: str) -> httpx.Client:
    # Imported here, with httpx: the transport is httpx's, and `wai --help` loads neither.
    from wai.backends.transport import client

    return client(timeout, url)


def _delay(attempt: int, retry_after: float | None, backoff: float) -> float:
    if retry_after is not None:
        return retry_after
    exponential = min(MAX_BACKOFF, backoff * 2 ** (attempt - 1))
    return exponential * random.uniform(0.5, 1.0)


def parse_retry_after(value: str | None) -> float | None:
    """`Retry-After` as seconds: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    import email.utils

    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _timeout_error(error: Exception, host: str, policy: RetryPolicy) -> NetworkError:
    import httpx

    from wai.backends.transport import NoEvent, NoResponse

    if isinstance(error, NoResponse):
        return NetworkError(
            f"{host} sent no response within {policy.connect_timeout:g} s",
            hint="the server may be overloaded; raise connect_timeout with "
            "`wai config set connect_timeout SECONDS`",
            retryable=True,
        )
    if isinstance(error, httpx.ConnectTimeout):
        return NetworkError(
            f"could not connect to {host} within {policy.connect_timeout:g} s",
            hint="check your network connection",
            retryable=True,
        )
    silent = "no event" if isinstance(error, NoEvent) else "nothing"  # bytes, comments at most
    return NetworkError(
        f"{host} sent {silent} for {policy.read_timeout:g} s",
        hint="the server may be overloaded; raise read_timeout with "
        "`wai config set read_timeout SECONDS`",
    )


def _transport_error(error: Exception, endpoint: Endpoint) -> NetworkError:
    import httpx

    if isinstance(error, httpx.ConnectError):
        reason = str(error) or type(error).__name__
        return NetworkError(
            f"could not connect to {endpoint.where}: {reason}",
            hint=endpoint.start or "check your network connection and the backend's base_url",
            retryable=True,
        )
    return NetworkError(f"the connection to {endpoint.where} was cut off", retryable=True)


def get_json(
    url: str,
    headers: dict[str, str],
    policy: RetryPolicy,
    error_from_response: ErrorFromResponse,
    endpoint: Endpoint | None = None,
) -> Any:
    """GET a JSON document (a model list, a token check); no retries."""
    import httpx

    endpoint = endpoint or Endpoint.of(url)
    timeout = httpx.Timeout(policy.read_timeout, connect=policy.connect_timeout)
    try:
        with _client(timeout, url) as client:
            response = client.get(url, headers=headers)
    except httpx.TimeoutException as error:
        raise _timeout_error(error, endpoint.where, policy) from None
    except httpx.TransportError as error:
        raise _transport_error(error, endpoint) from None
    if response.status_code >= 400:
        raise error_from_response(response)
    if response.is_redirect:
        raise redirect_error(response, endpoint.where)
    try:
        return response.json()
    except RecursionError:
        raise BackendError(f"{endpoint.where} answered with JSON nested too deeply") from None
    except ValueError:
        raise BackendError(
            f"{endpoint.where} answered with something that is not JSON: "
            f"{response.text.strip()[:120] or '(empty)'}"
        ) from None
