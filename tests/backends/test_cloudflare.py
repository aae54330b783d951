"""Workers AI errors (each error code's message, hint and exit code), retries and broken streams."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import Run, wai
from tests.servers.workers_ai import (
    ACCOUNT,
    DEFAULT_MODEL,
    RETIRED_MODEL,
    TOKEN,
    Reply,
    WorkersAIServer,
    sse,
    token_events,
)

MODELS_PAGE = "https://developers.cloudflare.com/workers-ai/models/"
PICK_MODEL = (
    "hint: `wai models` lists the current ones; pick one with `-m MODEL` or "
    "`wai config set model MODEL`"
)
TOKEN_HINT = (
    "hint: check CLOUDFLARE_API_TOKEN; the token needs Workers AI Read and Edit "
    "permissions (https://dash.cloudflare.com/profile/api-tokens)"
)
ACCOUNT_HINT = (
    "hint: check CLOUDFLARE_ACCOUNT_ID: it is the 32-character id shown in the "
    "dashboard's Workers AI page"
)
CAPACITY = "Workers AI is out of capacity: Capacity temporarily exceeded, please try again."
CAPACITY_MESSAGE = "Capacity temporarily exceeded, please try again."
INCOMPLETE_HINT = "hint: what arrived is kept above; ask again to get a whole answer"
MASK = "********"


@pytest.fixture(autouse=True)
def fast_retries(config_file: Path) -> None:
    """No waiting between retries, and a short wait for a stalled stream."""
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text("retry_backoff = 0\nread_timeout = 0.5\n")


def ask() -> Run:
    return wai("ask", "--plain", "hi")


def lines(*items: str) -> str:
    return "".join(f"{item}\n" for item in items)


def retry_notice(message: str, attempt: int) -> str:
    return f"wai: {message.rstrip('.')}; retrying in 0.0 s (attempt {attempt} of 3)"


@dataclass(frozen=True)
class Case:
    """A scripted error reply and what the user must see for it."""

    status: int
    code: int | str
    message: str
    exit_code: int
    error: str  # the `wai: error: ...` line
    hint: str | None
    retried: bool = False

    def expected_stderr(self) -> str:
        notices = [retry_notice(self.error.removeprefix("wai: error: "), n) for n in (1, 2, 3)]
        shown = [self.error] + ([self.hint] if self.hint else [])
        return lines(*(notices if self.retried else []), *shown)


CASES = {
    "10000 bad token": Case(
        401,
        10000,
        "Authentication error",
        3,
        "wai: error: Cloudflare refused the API token: Authentication error",
        TOKEN_HINT,
    ),
    "10000 under-privileged token (403)": Case(
        403,
        10000,
        "Authentication error",
        3,
        "wai: error: Cloudflare refused the API token: Authentication error",
        TOKEN_HINT,
    ),
    "7003 bad account": Case(
        404,
        7003,
        "Could not route to /client/v4/accounts/x/ai/run, perhaps your object identifier is "
        "invalid?",
        3,
        f"wai: error: Cloudflare does not know the account id '{ACCOUNT}': Could not route to "
        "/client/v4/accounts/x/ai/run, perhaps your object identifier is invalid?",
        ACCOUNT_HINT,
    ),
    "7000 no route": Case(
        404,
        7000,
        "No route for that URI",
        3,
        f"wai: error: Cloudflare does not know the account id '{ACCOUNT}': No route for that URI",
        ACCOUNT_HINT,
    ),
    "5007 no such model": Case(
        400,
        5007,
        f"No such model {DEFAULT_MODEL} or task",
        1,
        f"wai: error: the model {DEFAULT_MODEL} is not available: "
        f"No such model {DEFAULT_MODEL} or task",
        PICK_MODEL,
    ),
    "3042 invalid model name": Case(
        404,
        3042,
        "Invalid model name",
        1,
        f"wai: error: the model {DEFAULT_MODEL} is not available: Invalid model name",
        PICK_MODEL,
    ),
    "5028 retired model": Case(
        400,
        5028,
        f"This model was deprecated on 2025-10-01. Please use an alternative model: {MODELS_PAGE}",
        1,
        f"wai: error: the model {DEFAULT_MODEL} was retired by Cloudflare on 2025-10-01",
        PICK_MODEL,
    ),
    "3010 invalid input": Case(
        400,
        3010,
        "Type mismatch of '/messages/0/content', 'string' not in 'array'",
        1,
        "wai: error: Workers AI rejected the input: "
        "Type mismatch of '/messages/0/content', 'string' not in 'array'",
        None,
    ),
    "3006 request too large": Case(
        413,
        3006,
        "Request is too large",
        1,
        f"wai: error: the conversation is too long for {DEFAULT_MODEL}: Request is too large",
        "hint: shorten the input or lower --max-tokens",
    ),
    "3007 request timeout": Case(
        408,
        3007,
        "Request timeout",
        4,
        "wai: error: Workers AI timed out: Request timeout",
        None,
        retried=True,
    ),
    "3008 request aborted": Case(
        408,
        3008,
        "Request aborted",
        4,
        "wai: error: Workers AI timed out: Request aborted",
        None,
        retried=True,
    ),
    "3036 daily allocation": Case(
        429,
        3036,
        "Account limited: you have used up your daily free allocation of 10,000 neurons",
        5,
        "wai: error: the daily free Workers AI allocation is used up: Account limited: you "
        "have used up your daily free allocation of 10,000 neurons",
        "hint: it resets at 00:00 UTC; the Workers Paid plan lifts the limit",
    ),
    "3040 out of capacity": Case(
        429,
        3040,
        CAPACITY_MESSAGE,
        5,
        f"wai: error: {CAPACITY}",
        "hint: try again in a minute",
        retried=True,
    ),
    "3040 as a string": Case(
        429,
        "3040",
        CAPACITY_MESSAGE,
        5,
        f"wai: error: {CAPACITY}",
        "hint: try again in a minute",
        retried=True,
    ),
    "10000 as a string": Case(
        401,
        "10000",
        "Authentication error",
        3,
        "wai: error: Cloudflare refused the API token: Authentication error",
        TOKEN_HINT,
    ),
    "5035 paid plan": Case(
        403,
        5035,
        "This model requires the Workers Paid plan",
        1,
        f"wai: error: the model {DEFAULT_MODEL} needs the Workers Paid plan: "
        "This model requires the Workers Paid plan",
        PICK_MODEL,
    ),
    "5016 licence": Case(
        403,
        5016,
        "Prior to using this model, you must submit the prompt 'agree'",
        1,
        f"wai: error: the licence terms of {DEFAULT_MODEL} have not been accepted: "
        "Prior to using this model, you must submit the prompt 'agree'",
        "hint: accept them as the model's page describes, then ask again",
    ),
    "unknown code, 401": Case(
        401,
        9001,
        "Unauthorized",
        3,
        "wai: error: Workers AI answered HTTP 401: Unauthorized (code 9001)",
        "hint: check CLOUDFLARE_API_TOKEN",
    ),
    "unknown code, 403": Case(
        403,
        9002,
        "Forbidden",
        3,
        "wai: error: Workers AI answered HTTP 403: Forbidden (code 9002)",
        "hint: check CLOUDFLARE_API_TOKEN",
    ),
    "unknown code, 429": Case(
        429,
        9003,
        "Too many requests",
        5,
        "wai: error: Workers AI answered HTTP 429: Too many requests (code 9003)",
        None,
        retried=True,
    ),
    "unknown code, 408": Case(
        408,
        9004,
        "Timed out",
        4,
        "wai: error: Workers AI answered HTTP 408: Timed out (code 9004)",
        None,
        retried=True,
    ),
    "unknown code, 400": Case(
        400,
        9005,
        "Bad request",
        1,
        "wai: error: Workers AI answered HTTP 400: Bad request (code 9005)",
        None,
    ),
    "unknown code, 404": Case(
        404,
        9006,
        "Not found",
        1,
        "wai: error: Workers AI answered HTTP 404: Not found (code 9006)",
        None,
    ),
    "unknown code as a string, 422": Case(
        422,
        "9007",
        "Unprocessable",
        1,
        "wai: error: Workers AI answered HTTP 422: Unprocessable (code 9007)",
        None,
    ),
    "unknown code, 500": Case(
        500,
        9008,
        "Internal server error",
        1,
        "wai: error: Workers AI answered HTTP 500: Internal server error (code 9008)",
        None,
    ),
    "unknown code, 503": Case(
        503,
        9009,
        "Service unavailable",
        1,
        "wai: error: Workers AI answered HTTP 503: Service unavailable (code 9009)",
        None,
        retried=True,
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_error_code_is_reported_with_its_exit_code(server: WorkersAIServer, case: Case) -> None:
    # Four failures: a retryable error is tried four times in all, any other one only once.
    server.enqueue(*[Reply.error(case.status, case.code, case.message) for _ in range(4)])

    run = ask()

    assert (run.exit_code, run.stdout, run.stderr) == (case.exit_code, "", case.expected_stderr())
    assert len(server.run_requests) == (4 if case.retried else 1)


@pytest.mark.parametrize(
    ("args", "env", "exit_code", "expected"),
    [
        pytest.param(
            (),
            {"CLOUDFLARE_API_TOKEN": "not-the-right-token"},
            3,
            lines("wai: error: Cloudflare refused the API token: Authentication error", TOKEN_HINT),
            id="bad token",
        ),
        pytest.param(
            (),
            {"CLOUDFLARE_ACCOUNT_ID": "ffffffffffffffffffffffffffffffff"},
            3,
            lines(
                "wai: error: Cloudflare does not know the account id "
                "'ffffffffffffffffffffffffffffffff': Could not route to /client/v4/accounts/"
                f"ffffffffffffffffffffffffffffffff/ai/run/{DEFAULT_MODEL}",
                ACCOUNT_HINT,
            ),
            id="bad account",
        ),
        pytest.param(
            ("-m", "@cf/nobody/no-such-model"),
            {},
            1,
            lines(
                "wai: error: the model @cf/nobody/no-such-model is not available: "
                "No such model @cf/nobody/no-such-model or task",
                PICK_MODEL,
            ),
            id="unknown model",
        ),
        pytest.param(
            ("-m", RETIRED_MODEL),
            {},
            1,
            lines(
                f"wai: error: the model {RETIRED_MODEL} was retired by Cloudflare on 2025-10-01",
                PICK_MODEL,
            ),
            id="retired model",
        ),
    ],
)
def test_server_refusal_names_what_is_wrong(
    server: WorkersAIServer,
    args: tuple[str, ...],
    env: dict[str, str],
    exit_code: int,
    expected: str,
) -> None:
    run = wai("ask", "--plain", *args, "hi", env=env)

    assert (run.exit_code, run.stdout, run.stderr) == (exit_code, "", expected)
    assert len(server.run_requests) == 1


# Retries


def capacity(**headers: str) -> Reply:
    return Reply.error(429, 3040, CAPACITY_MESSAGE, headers=headers)


@pytest.mark.parametrize(
    "retry_after",
    ["0", "Wed, 21 Oct 2015 07:28:00 GMT"],
    ids=["seconds", "http date in the past"],
)
def test_out_of_capacity_is_retried_then_answers(server: WorkersAIServer, retry_after: str) -> None:
    server.enqueue(capacity(**{"Retry-After": retry_after}))

    run = ask()

    assert (run.exit_code, run.stdout) == (0, "Hello, world!")
    assert run.stderr == lines(retry_notice(CAPACITY, 1))
    assert len(server.run_requests) == 2


RETRYABLE = {
    "408 code 3007": (
        Reply.error(408, 3007, "Request timeout"),
        "Workers AI timed out: Request timeout",
    ),
    "502": (
        Reply.error(502, 9502, "Bad gateway"),
        "Workers AI answered HTTP 502: Bad gateway (code 9502)",
    ),
    "502 html page": (
        Reply(status=502, content_type="text/html", chunks=[b"<html>Bad Gateway</html>\n"]),
        "Workers AI answered HTTP 502: <html>Bad Gateway</html>",
    ),
    "503": (
        Reply.error(503, 9503, "Service unavailable"),
        "Workers AI answered HTTP 503: Service unavailable (code 9503)",
    ),
    "504": (
        Reply.error(504, 9504, "Gateway timeout"),
        "Workers AI answered HTTP 504: Gateway timeout (code 9504)",
    ),
}


@pytest.mark.parametrize(("reply", "message"), RETRYABLE.values(), ids=RETRYABLE.keys())
def test_transient_failure_is_retried(server: WorkersAIServer, reply: Reply, message: str) -> None:
    server.enqueue(reply)

    run = ask()

    assert (run.exit_code, run.stdout, run.stderr) == (
        0,
        "Hello, world!",
        lines(retry_notice(message, 1)),
    )
    assert len(server.run_requests) == 2


@pytest.mark.parametrize(
    ("reply", "exit_code", "shown"),
    [
        pytest.param(
            capacity(**{"Retry-After": "0"}),
            5,
            (f"wai: error: {CAPACITY}", "hint: try again in a minute"),
            id="3040",
        ),
        pytest.param(
            Reply.error(408, 3008, "Request aborted"),
            4,
            ("wai: error: Workers AI timed out: Request aborted",),
            id="3008",
        ),
        pytest.param(
            Reply.error(504, 9504, "Gateway timeout"),
            1,
            ("wai: error: Workers AI answered HTTP 504: Gateway timeout (code 9504)",),
            id="504",
        ),
    ],
)
def test_at_most_three_retries(
    server: WorkersAIServer, reply: Reply, exit_code: int, shown: tuple[str, ...]
) -> None:
    server.enqueue(reply, reply, reply, reply)  # a fifth request would get the default answer

    run = ask()

    message = shown[0].removeprefix("wai: error: ")
    assert (run.exit_code, run.stdout) == (exit_code, "")
    assert run.stderr == lines(*(retry_notice(message, n) for n in (1, 2, 3)), *shown)
    assert len(server.run_requests) == 4


@pytest.mark.parametrize(
    ("reply", "exit_code", "shown"),
    [
        pytest.param(
            Reply.error(429, 3036, "Daily free allocation used up", headers={"Retry-After": "0"}),
            5,
            (
                "wai: error: the daily free Workers AI allocation is used up: "
                "Daily free allocation used up",
                "hint: it resets at 00:00 UTC; the Workers Paid plan lifts the limit",
            ),
            id="3036 daily quota",
        ),
        pytest.param(
            Reply.error(400, 3010, "Invalid input", headers={"Retry-After": "0"}),
            1,
            ("wai: error: Workers AI rejected the input: Invalid input",),
            id="400",
        ),
        pytest.param(
            capacity(**{"Retry-After": "120"}),
            5,
            (f"wai: error: {CAPACITY}", "hint: try again in a minute"),
            id="Retry-After over 60 s",
        ),
    ],
)
def test_not_retried(
    server: WorkersAIServer, reply: Reply, exit_code: int, shown: tuple[str, ...]
) -> None:
    server.enqueue(reply)  # a second request would get the default answer

    run = ask()

    assert (run.exit_code, run.stdout, run.stderr) == (exit_code, "", lines(*shown))
    assert len(server.run_requests) == 1


# Connection failures


def test_closed_port_is_tried_four_times_then_exits_4(closed_port: int) -> None:
    env = {
        "CLOUDFLARE_API_BASE_URL": f"http://127.0.0.1:{closed_port}/client/v4",
        "CLOUDFLARE_ACCOUNT_ID": ACCOUNT,
        "CLOUDFLARE_API_TOKEN": TOKEN,
    }

    run = wai("ask", "--plain", "hi", env=env)

    failure = f"could not connect to 127.0.0.1:{closed_port}: [Errno 111] Connection refused"
    assert (run.exit_code, run.stdout) == (4, "")
    assert run.stderr == lines(
        *(retry_notice(failure, n) for n in (1, 2, 3)),
        f"wai: error: {failure}",
        "hint: check your network connection and the backend's base_url",
    )


# Broken streams

TOKENS = ("Hel", "lo", " there")


def error_event(body: str, event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {body}\n\n".encode()


MID_STREAM = {
    "errors envelope": (
        error_event(
            '{"errors": [{"code": 3040, "message": "Capacity temporarily exceeded, please try '
            'again."}], "success": false}'
        ),
        (f"wai: error: {CAPACITY}", "hint: try again in a minute"),
    ),
    "event: error with an error object": (
        error_event('{"error": {"message": "inference failed"}}', event="error"),
        ("wai: error: Workers AI reported an error: inference failed",),
    ),
    "event: error with an error string": (
        error_event('{"error": "inference failed"}', event="error"),
        ("wai: error: Workers AI reported an error: inference failed",),
    ),
    "event: error with a bare message": (
        error_event('{"message": "inference failed"}', event="error"),
        ("wai: error: Workers AI reported an error: inference failed",),
    ),
}


@pytest.mark.parametrize(("event", "shown"), MID_STREAM.values(), ids=MID_STREAM.keys())
def test_error_event_mid_stream_keeps_the_text_and_exits_1(
    server: WorkersAIServer, event: bytes, shown: tuple[str, ...]
) -> None:
    server.enqueue(Reply.stream(sse(*token_events(TOKENS), done=False) + event + sse()))

    run = ask()

    assert (run.exit_code, run.stdout, run.stderr) == (1, "Hello there", lines(*shown))
    assert len(server.run_requests) == 1


@pytest.mark.parametrize("split", [None, 7], ids=["one read", "split reads"])
def test_cut_after_some_tokens_keeps_the_text_and_exits_4(
    server: WorkersAIServer, split: int | None
) -> None:
    server.enqueue(Reply.stream(sse(*token_events(TOKENS), done=False), split=split, cut=True))

    run = ask()

    assert (run.exit_code, run.stdout) == (4, "Hello there")
    assert run.stderr == lines(
        f"wai: error: the answer is incomplete: the connection to 127.0.0.1:{server.port} "
        "was cut off",
        INCOMPLETE_HINT,
    )
    assert len(server.run_requests) == 1


@pytest.mark.parametrize(
    "reply",
    [Reply(chunks=[], cut=True), Reply.stream(b'data: {"respo', cut=True)],
    ids=["no body", "half an event"],
)
def test_cut_before_any_token_is_retried(server: WorkersAIServer, reply: Reply) -> None:
    server.enqueue(reply)

    run = ask()

    assert (run.exit_code, run.stdout) == (0, "Hello, world!")
    assert run.stderr == lines(
        retry_notice(f"the connection to 127.0.0.1:{server.port} was cut off", 1)
    )
    assert len(server.run_requests) == 2


def test_stall_before_any_token_names_the_wait(server: WorkersAIServer) -> None:
    server.enqueue(Reply(chunks=[], stall=True))

    run = ask()

    assert (run.exit_code, run.stdout) == (4, "")
    assert run.stderr == lines(
        f"wai: error: 127.0.0.1:{server.port} sent nothing for 0.5 s",
        "hint: the server may be overloaded; raise read_timeout with "
        "`wai config set read_timeout SECONDS`",
    )


# The token never shows, even when the server echoes it

LEAKY = f"bad token {TOKEN} for this account"


@pytest.mark.parametrize(
    ("replies", "exit_code", "stdout", "expected"),
    [
        pytest.param(
            [Reply.error(401, 10000, LEAKY)],
            3,
            "",
            lines(f"wai: error: Cloudflare refused the API token: {LEAKY}", TOKEN_HINT),
            id="known code",
        ),
        pytest.param(
            [Reply.error(400, 9005, LEAKY)],
            1,
            "",
            lines(f"wai: error: Workers AI answered HTTP 400: {LEAKY} (code 9005)"),
            id="unknown code",
        ),
        pytest.param(
            [Reply.error(429, 3040, LEAKY, headers={"Retry-After": "0"})],
            0,
            "Hello, world!",
            lines(retry_notice(f"Workers AI is out of capacity: {LEAKY}", 1)),
            id="retry notice",
        ),
        pytest.param(
            [Reply.error(429, 3040, LEAKY, headers={"Retry-After": "0"})] * 4,
            5,
            "",
            lines(
                *(retry_notice(f"Workers AI is out of capacity: {LEAKY}", n) for n in (1, 2, 3)),
                f"wai: error: Workers AI is out of capacity: {LEAKY}",
                "hint: try again in a minute",
            ),
            id="retries exhausted",
        ),
        pytest.param(
            [
                Reply.stream(
                    sse(*token_events(TOKENS), done=False)
                    + error_event(f'{{"error": "{LEAKY}"}}', event="error")
                )
            ],
            1,
            "Hello there",
            lines(f"wai: error: Workers AI reported an error: {LEAKY}"),
            id="mid-stream error event",
        ),
    ],
)
def test_token_echoed_by_the_server_is_masked(
    server: WorkersAIServer, replies: list[Reply], exit_code: int, stdout: str, expected: str
) -> None:
    server.enqueue(*replies)

    run = ask()

    assert TOKEN not in run.stdout + run.stderr
    assert (run.exit_code, run.stdout, run.stderr) == (
        exit_code,
        stdout,
        expected.replace(TOKEN, MASK),
    )
