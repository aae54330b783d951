"""wai's benchmarks: a fast local Workers AI server, wai timed against baselines, one table.

    python benchmarks/run.py [--runs N] [--quick] [--timeout SECONDS]

Every measure runs its baseline and wai alternately (b, w, b, w, ...) and reports medians; see
benchmarks/README.md for what each row means. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import re
import select
import shlex
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# wai as a user installs it: its own venv with `pip install -e .` alone. The development venv
# (.venv, with the test extra) also holds click and pydantic, which httpx and typer pick up at
# import time, so start-up there measures the test tools as much as wai.
BENCH_VENV = ROOT / "benchmarks" / ".venv"
PYTHON = str(BENCH_VENV / "bin" / "python")
ACCOUNT = "0123456789abcdef0123456789abcdef"
TOKEN = "bench-token-5f3a9c"
ROWS, COLUMNS = 50, 120
MAX_TOKENS = 200_000  # the most tokens the server will stream for one request
ASKED = re.compile(r"(tokens|reasoning|paced)=(\d+)")  # the prompt "tokens=N" asks for N tokens
PACED_ROWS, PACED_COLUMNS = 40, 100  # the terminal of the bytes-written rows
PACED_RATES = (50, 200)  # tokens a second: a model's pace, a fast one's
REASONING_SHARE = 0.8  # "reasoning=N": N tokens as OpenAI chunks, this share of them reasoning

DOCUMENT = """## Streaming answers in a terminal

A chat client reads **server-sent events** as they arrive and shows each token at once. The
answer below mixes the usual shapes of model output: `inline code`, *emphasis*, [links](https://developers.cloudflare.com/workers-ai/),
lists, tables and fenced code.

### Steps

1. Open a connection to the API and send the request body.
2. Read the stream line by line; every `data:` line holds one JSON event.
3. Append the `response` field to the answer and redraw the screen.

- Tokens are short: a few characters, sometimes a single space or a comma.
- The last event carries `usage`, then `[DONE]` closes the stream.
  - Nested items are common in explanations.

```python
import httpx


def stream(url: str, token: str, body: dict) -> str:
    parts = []
    with httpx.stream("POST", url, json=body, headers={"Authorization": f"Bearer {token}"}) as r:
        for line in r.iter_lines():
            if line.startswith("data: ") and line != "data: [DONE]":
                parts.append(json.loads(line[6:]).get("response", ""))
    return "".join(parts)
```

| Model | Context | Speed (tokens/s) | Notes |
|-------|--------:|-----------------:|-------|
| llama-3.1-8b-instruct | 7968 | 85 | good default |
| mistral-7b-instruct | 4096 | 110 | older, fast |
| qwen1.5-14b-chat | 7500 | 40 | larger |

> A quoted remark: measure before you optimise, and measure again after.

That is all there is to it; the rest of the work is rendering, which should cost little per token
even when the answer is 20,000 tokens long.

"""


def tokens(n: int) -> list[str]:
    """n model-like tokens (word pieces, spaces, punctuation) cycling through DOCUMENT."""
    pieces = re.findall(r" ?[A-Za-z]{1,5}| ?\d{1,3}|\n+| +|[^\sA-Za-z\d]", DOCUMENT)
    assert "".join(pieces) == DOCUMENT, "the tokeniser must cover the document"
    if n == 1:
        return ["Hi"]
    return [pieces[i % len(pieces)] for i in range(n)]


ANSWER = """Rendering streamed markdown well is mostly about **what you redraw**. A token usually
extends the last line, so the cheapest update writes only its characters.

Three things to keep in mind:

- Paragraphs reflow when an `*emphasis*` closes, so their last lines stay open.
- Code blocks grow line by line; finished lines never change.
- Tables reflow until their last row arrives.

```python
def diff(old: list[str], new: list[str]) -> list[tuple[int, str]]:
    changes = []
    for row, line in enumerate(new):
        if row >= len(old) or old[row] != line:
            changes.append((row, line))
    return changes
```

| approach | bytes per token | flicker |
|----------|----------------:|---------|
| redraw the block | high | visible |
| write the difference | low | none |

Measure the bytes a terminal receives before and after: over SSH, bytes are what the user feels as
lag.
"""


def answer_tokens() -> list[str]:
    """ANSWER as a model's tokens: a word with its leading space, a number, a run of newlines or
    spaces, a punctuation mark (about 300 of them)."""
    pieces = re.findall(r" ?[A-Za-z]+| ?\d{1,3}|\n+| +|[^\sA-Za-z\d]", ANSWER)
    assert "".join(pieces) == ANSWER, "the tokeniser must cover the answer"
    return pieces


def sse_event(data: str) -> bytes:
    return f"data: {data}\n\n".encode()


def sse_body(n: int) -> bytes:
    """The SSE stream of an answer of n tokens: one event per token, a usage event, [DONE]."""
    return b"".join(stream_events(n))


def stream_events(n: int) -> Iterator[bytes]:
    """The events of an answer of n tokens, each encoded when it is sent, as a model server
    does: it cannot encode a token before it has generated it."""
    for token in tokens(n):
        yield sse_event(json.dumps({"response": token, "p": "abdefgh"}, separators=(",", ":")))
    usage = {"prompt_tokens": 12, "completion_tokens": n, "total_tokens": n + 12}
    yield sse_event(json.dumps({"response": "", "usage": usage}, separators=(",", ":")))
    yield sse_event("[DONE]")


def paced_events(rate: int) -> Iterator[bytes]:
    """ANSWER's tokens at `rate` tokens a second, each sent when a model would have made it."""
    start = time.monotonic()
    for count, token in enumerate(answer_tokens()):
        time.sleep(max(0.0, start + count / rate - time.monotonic()))
        yield sse_event(json.dumps({"response": token, "p": "abdefgh"}, separators=(",", ":")))
    count = len(answer_tokens())
    usage = {"prompt_tokens": 12, "completion_tokens": count, "total_tokens": count + 12}
    yield sse_event(json.dumps({"response": "", "usage": usage}, separators=(",", ":")))
    yield sse_event("[DONE]")


def reasoning_split(n: int) -> tuple[list[str], list[str]]:
    """The reasoning and the answer tokens of a "reasoning=N" stream."""
    thinking = int(n * REASONING_SHARE)
    return tokens(n)[:thinking], tokens(n - thinking)


def reasoning_events(n: int) -> Iterator[bytes]:
    """A reasoning model's answer of n tokens as GLM, Qwen 3 or Kimi stream it on /ai/run:
    `chat.completion.chunk` events, reasoning in `delta.reasoning_content` then text in
    `delta.content`, cumulative usage on every chunk, a last usage chunk with no choices. Each
    is encoded when it is sent, as `stream_events` does."""
    thinking, answer = reasoning_split(n)
    pieces = [*(("reasoning_content", t) for t in thinking), *(("content", t) for t in answer)]
    for count, (field, token) in enumerate(pieces, 1):
        chunk = {
            "id": "chatcmpl-edc8",
            "object": "chat.completion.chunk",
            "created": 1751570976,
            "model": "@cf/zai-org/glm-4.7-flash",
            "choices": [
                {"index": 0, "delta": {field: token}, "logprobs": None, "finish_reason": None}
            ],
            "usage": {"prompt_tokens": 13, "total_tokens": 13 + count, "completion_tokens": count},
        }
        yield sse_event(json.dumps(chunk, separators=(",", ":")))
    usage = {"prompt_tokens": 13, "total_tokens": 13 + n, "completion_tokens": n}
    last = {"id": "chatcmpl-edc8", "object": "chat.completion.chunk", "choices": [], "usage": usage}
    yield sse_event(json.dumps(last, separators=(",", ":")))
    yield sse_event("[DONE]")


class Handler(BaseHTTPRequestHandler):
    """POST .../accounts/ACCOUNT/ai/run/<model> streams an answer of N tokens for "tokens=N",
    chunked (as Workers AI streams), one chunk and one send per event, as fast as it can.

    With `prebuilt`, the events are encoded before the first is sent, and the body has a
    Content-Length instead: the first version of this server, a faster floor than any model
    server (kept to compare with earlier tables)."""

    protocol_version = "HTTP/1.1"
    prebuilt = False

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            content = str(json.loads(raw)["messages"][-1]["content"])
        except (ValueError, KeyError, IndexError, TypeError):
            content = ""
        match = ASKED.search(content)
        n = int(match.group(2)) if match else 0
        kind = match.group(1) if match else "tokens"
        make_events = {"reasoning": reasoning_events, "paced": paced_events}.get(
            kind, stream_events
        )
        if not (
            self.path.startswith(f"/client/v4/accounts/{ACCOUNT}/ai/run/")
            and self.headers.get("Authorization") == f"Bearer {TOKEN}"
            and 0 < n <= MAX_TOKENS
        ):
            self.send_error(400, "expected an authorised POST with 'tokens=N' (or paced=N) in it")
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        events = list(make_events(n)) if self.prebuilt and kind != "paced" else None
        if events is not None:
            self.send_header("Content-Length", str(sum(map(len, events))))
        else:
            self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        write = self.wfile.write  # unbuffered: every write is one send
        if events is not None:
            for event in events:
                write(event)
            return
        for event in make_events(n):
            write(b"%x\r\n%s\r\n" % (len(event), event))
        write(b"0\r\n\r\n")


def serve(prebuilt: bool) -> None:
    """The server's own process (so that it never waits for the benchmark's GIL): print the
    port, serve until stdin closes."""
    Handler.prebuilt = prebuilt
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    print(httpd.server_address[1], flush=True)
    sys.stdin.read()


class Server:
    """The server in a child process, for a `with` block."""

    def __init__(self, prebuilt: bool = False) -> None:
        self.prebuilt = prebuilt

    def __enter__(self) -> Server:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve", *(["--prebuilt"] if self.prebuilt else [])],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(10)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/client/v4"


# Peak memory is measured through this launcher: a child's ru_maxrss counts the peak RSS of the
# process that spawned it (Linux records the old address space's high-water mark at exec), so a
# small launcher forks the command and reports the grandchild's own peak (floor: ~5 MiB).
LAUNCHER = """import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


@dataclass
class Result:
    seconds: float
    output: bytes
    returncode: int
    stderr: bytes
    maxrss_mib: float = float("nan")  # only with memory=True


def run(
    cmd: list[str],
    env: dict[str, str],
    *,
    terminal: bool,
    timeout: float,
    memory: bool = False,
    size: tuple[int, int] = (ROWS, COLUMNS),
) -> Result:
    """Run cmd with stdout to a pipe (or a pseudo-terminal of `size` rows and columns, 50x120
    unless told), read it all, time start→exit."""
    with tempfile.TemporaryFile() as err, tempfile.NamedTemporaryFile("r") as rss:
        if memory:
            cmd = [sys.executable, "-I", "-S", "-c", LAUNCHER, rss.name, *cmd]
        if terminal:
            reader, writer = pty.openpty()
            fcntl.ioctl(writer, termios.TIOCSWINSZ, struct.pack("HHHH", *size, 0, 0))
            streams: dict[str, Any] = {"stdin": writer, "stdout": writer, "stderr": writer}
        else:
            reader, writer = os.pipe()
            streams = {"stdin": subprocess.DEVNULL, "stdout": writer, "stderr": err}
        start = time.perf_counter()
        deadline = start + timeout
        proc = subprocess.Popen(cmd, env=env, start_new_session=True, **streams)
        os.close(writer)
        chunks: list[bytes] = []
        pid = status = 0
        try:
            while time.perf_counter() < deadline:  # read until EOF (EIO on a pty)
                if select.select([reader], [], [], 0.5)[0]:
                    try:
                        chunk = os.read(reader, 1 << 16)
                    except OSError:
                        break
                    if not chunk:
                        break
                    chunks.append(chunk)
            while not pid and time.perf_counter() < deadline:
                pid, status = os.waitpid(proc.pid, os.WNOHANG)
                if not pid:
                    time.sleep(0.0002)
            seconds = time.perf_counter() - start
        finally:
            os.close(reader)
            if not pid:  # timed out or interrupted: end the session this run started
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        if not pid:
            raise SystemExit(f"timed out after {timeout:g} s: {shlex.join(cmd)}")
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        maxrss = int(rss.read() or 0) / 1024 if memory else float("nan")  # KiB on Linux
        return Result(seconds, b"".join(chunks), proc.returncode, err.read(), maxrss)


def check(result: Result, cmd: list[str]) -> Result:
    if result.returncode != 0:
        tail = (result.stderr or result.output)[-2000:].decode(errors="replace")
        raise SystemExit(f"exit status {result.returncode}: {shlex.join(cmd)}\n{tail}")
    return result


@dataclass
class Times:
    base: list[float]  # milliseconds, one per round
    wai: list[float]

    @property
    def pair(self) -> tuple[float, float]:
        return statistics.median(self.base), statistics.median(self.wai)


Runner = Callable[[list[str]], Result]


def rounds(
    measures: dict[str, tuple[list[str], list[str]]], runs: int, go: Runner
) -> dict[str, Times]:
    """One untimed warm-up of every command, then `runs` rounds; in each round every measure
    runs its baseline then wai, so a change of machine load hits all of them alike."""
    for baseline, wai in measures.values():
        check(go(baseline), baseline)
        check(go(wai), wai)
    times = {name: Times([], []) for name in measures}
    for _ in range(runs):
        for name, (baseline, wai) in measures.items():
            times[name].base.append(check(go(baseline), baseline).seconds * 1000)
            times[name].wai.append(check(go(wai), wai).seconds * 1000)
    for name, t in times.items():
        base, wai = t.pair
        print(f"  {name}: baseline {base:.1f} ms, wai {wai:.1f} ms", file=sys.stderr)
    return times


Row = tuple[str, str, str, str, str, str]  # measure, baseline, wai, ratio, target, verdict


def ratio(times: Times) -> float:
    base, wai = times.pair
    return wai / base


def ratio_row(measure: str, times: Times, target: float | None) -> Row:
    base, wai = times.pair
    verdict = "info" if target is None else ("PASS" if wai / base <= target else "FAIL")
    goal = "—" if target is None else f"≤ {target:g}"
    return (measure, f"{base:.1f} ms", f"{wai:.1f} ms", f"{wai / base:.2f}", goal, verdict)


def curl_command(wai: list[str], env: dict[str, str], prompt: str) -> list[str]:
    """The request wai sends for `prompt`, from `wai ask --show-request`, as curl's argv."""
    shown = subprocess.run(
        [*wai, "ask", "--no-save", "--show-request", prompt],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    args = shlex.split(shown.stdout.replace("\\\n", " "))
    curl = shutil.which("curl")
    if shown.returncode != 0 or not args or args[0] != "curl" or curl is None:
        raise SystemExit(f"no curl, or `wai ask --show-request` gave no curl command:\n{shown}")
    return [curl, *(a.replace("$CLOUDFLARE_API_TOKEN", TOKEN) for a in args[1:])]


def environment(base_url: str, config: str, data: str) -> dict[str, str]:
    """The caller's environment without wai's, Python's or colour settings, plus the server's."""
    drop = ("WAI_", "CLOUDFLARE_", "PYTHON", "NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(
        TERM="xterm-256color",
        CLOUDFLARE_API_BASE_URL=base_url,
        CLOUDFLARE_ACCOUNT_ID=ACCOUNT,
        CLOUDFLARE_API_TOKEN=TOKEN,
        WAI_CONFIG_DIR=config,
        WAI_DATA_DIR=data,
    )
    return env


def benchmark(runs: int, timeout: float, prebuilt: bool) -> list[Row]:
    wai = [str(BENCH_VENV / "bin" / "wai")]  # the console script, as a user runs it
    ask = [*wai, "ask", "--no-save"]
    with Server(prebuilt) as server, tempfile.TemporaryDirectory() as tmp:
        config, data = Path(tmp, "config"), Path(tmp, "data")
        config.mkdir()
        data.mkdir()
        env = environment(server.base_url, str(config), str(data))

        def piped(cmd: list[str]) -> Result:
            return run(cmd, env, terminal=False, timeout=timeout)

        def terminal(cmd: list[str]) -> Result:
            return run(cmd, env, terminal=True, timeout=timeout)

        curl: dict[int, list[str]] = {}
        for n in (1, 2000, 20000):  # correctness, once per size, before timing
            curl[n] = curl_command(wai, env, f"tokens={n}")
            if check(piped([*ask, f"tokens={n}"]), ask).output != "".join(tokens(n)).encode():
                raise SystemExit(f"wai's piped output for {n} tokens is not the tokens sent")
            if check(piped(curl[n]), curl[n]).output != sse_body(n):
                raise SystemExit(f"curl's output for {n} tokens is not the stream sent")
        print("correct: wai's piped output is the tokens sent (1, 2,000, 20,000)", file=sys.stderr)
        reasoning = "reasoning=20000"
        curl_reasoning = curl_command(wai, env, reasoning)
        answer = "".join(reasoning_split(20000)[1]).encode()
        if check(piped([*ask, reasoning]), ask).output != answer:
            raise SystemExit("wai's piped output for the reasoning stream is not its answer")
        if check(piped(curl_reasoning), curl_reasoning).output != b"".join(reasoning_events(20000)):
            raise SystemExit("curl's output for the reasoning stream is not the stream sent")
        print("correct: wai's piped output of a reasoning stream is its answer", file=sys.stderr)

        typer = [PYTHON, "-c", "import typer"]
        imports = [PYTHON, "-c", "import typer, httpx, httpx_sse"]
        piped_times = rounds(
            {
                "--help": (typer, [*wai, "--help"]),
                "1 token --plain": (imports, [*ask, "--plain", "tokens=1"]),
                "20,000 piped": (curl[20000], [*ask, "tokens=20000"]),
                "20,000 reasoning piped": (curl_reasoning, [*ask, reasoning]),
            },
            runs,
            piped,
        )
        sizes = (1, 2000, 20000)
        shown = rounds(
            {f"{n:,} terminal": (curl[n], [*ask, f"tokens={n}"]) for n in sizes}, runs, terminal
        )
        rows = [
            ratio_row('`wai --help` vs `python -c "import typer"`', piped_times["--help"], 1.5),
            ratio_row(
                '`wai ask --plain`, 1 token vs `python -c "import typer, httpx, httpx_sse"`',
                piped_times["1 token --plain"],
                1.3,
            ),
            ratio_row("20,000 tokens piped vs `curl -sN` piped", piped_times["20,000 piped"], 3),
            ratio_row(
                "20,000 tokens, 80 % reasoning (OpenAI chunks), piped vs `curl -sN` piped",
                piped_times["20,000 reasoning piped"],
                None,
            ),
        ]
        plain = ratio(piped_times["20,000 piped"])
        thinking = ratio(piped_times["20,000 reasoning piped"])
        rows.append(
            (
                "the reasoning stream's piped ratio vs the plain stream's",
                f"{plain:.2f}",
                f"{thinking:.2f}",
                f"{thinking / plain:.2f}",
                "≤ 1.5",
                "PASS" if thinking / plain <= 1.5 else "FAIL",
            )
        )
        # The server encodes the larger chunks more slowly, and curl's time follows it: wai's own
        # times, side by side, show what the reasoning stream costs wai.
        wai_plain = statistics.median(piped_times["20,000 piped"].wai)
        wai_thinking = statistics.median(piped_times["20,000 reasoning piped"].wai)
        rows.append(
            (
                "wai alone, piped: the reasoning stream vs the plain one",
                f"{wai_plain:.1f} ms",
                f"{wai_thinking:.1f} ms",
                f"{wai_thinking / wai_plain:.2f}",
                "—",
                "info",
            )
        )
        for n, target in zip(sizes, (None, None, 5.0), strict=True):
            what = "1 token" if n == 1 else f"{n:,} tokens"
            measure = f"{what}, markdown in a terminal vs `curl -sN` in one"
            rows.append(ratio_row(measure, shown[f"{n:,} terminal"], target))

        # Cost per token without the start-up: the median over rounds of (time at N - time at
        # 1 token in the same round) / (N - 1).
        def cost(n: int) -> float:
            at_n, at_1 = shown[f"{n:,} terminal"].wai, shown["1 terminal"].wai
            extra = [a - b for a, b in zip(at_n, at_1, strict=True)]
            return statistics.median(extra) / (n - 1) * 1000

        small, large = cost(2000), cost(20000)
        growth = large / small if small > 0 else float("inf")
        rows.append(
            (
                "cost per token, markdown in a terminal: 20,000 vs 2,000 tokens",
                f"{small:.1f} µs",
                f"{large:.1f} µs",
                f"{growth:.2f}",
                "≤ 1.3",
                "PASS" if growth <= 1.3 else "FAIL",
            )
        )

        # Peak memory: three untimed runs each through LAUNCHER, the highest.
        def peak(cmd: list[str]) -> float:
            results = [run(cmd, env, terminal=True, timeout=timeout, memory=True) for _ in range(3)]
            return max(check(r, cmd).maxrss_mib for r in results)

        curl_mib, wai_mib = peak(curl[20000]), peak([*ask, "tokens=20000"])
        rows.append(
            (
                "peak memory (max RSS), 20,000 tokens in a terminal",
                f"{curl_mib:.1f} MiB (curl)",
                f"{wai_mib:.1f} MiB",
                "—",
                "≤ 60 MiB",
                "PASS" if wai_mib <= 60 else "FAIL",
            )
        )
        rows += bytes_written(env, Path(tmp), runs, timeout)
        return rows


# Rich printing a markdown file whole, once: the final rendering the bytes-written rows compare to.
RICH_PRINT = (
    "import sys; from rich.console import Console; from rich.markdown import Markdown; "
    "Console().print(Markdown(open(sys.argv[1], encoding='utf-8').read()))"
)


def bytes_written(env: dict[str, str], tmp: Path, runs: int, timeout: float) -> list[Row]:
    """The bytes `wai ask` writes to a 100x40 terminal for ANSWER streamed at a model's pace,
    against the bytes of Rich printing ANSWER once in the same terminal (the median of up to 3
    runs: one takes as long as the answer). Both must leave the same screen and scrollback."""
    size = (PACED_ROWS, PACED_COLUMNS)
    answer = tmp / "answer.md"
    answer.write_text(ANSWER, encoding="utf-8")
    rich_print = [PYTHON, "-c", RICH_PRINT, str(answer)]
    final = check(run(rich_print, env, terminal=True, timeout=timeout, size=size), rich_print)
    expected = terminal_cells(final.output, size)
    rows: list[Row] = []
    for rate in PACED_RATES:
        ask = [str(BENCH_VENV / "bin" / "wai"), "ask", "--no-save", f"paced={rate}"]
        written = []
        for _ in range(min(runs, 3)):
            result = check(run(ask, env, terminal=True, timeout=timeout, size=size), ask)
            if terminal_cells(result.output, size) != expected:
                raise SystemExit(f"at {rate} tokens/s, wai's screen is not Rich's rendering")
            written.append(len(result.output))
        wai = statistics.median(written)
        print(f"  paced {rate}/s: Rich {len(final.output)} B, wai {wai:.0f} B", file=sys.stderr)
        ratio = wai / len(final.output)
        rows.append(
            (
                f"~300-token answer at {rate} tokens/s in a 100×40 terminal: bytes written vs "
                "Rich printing it once",
                f"{len(final.output) / 1024:.1f} KiB",
                f"{wai / 1024:.1f} KiB",
                f"{ratio:.2f}",
                "≤ 1.5",
                "PASS" if ratio <= 1.5 else "FAIL",
            )
        )
    print(
        "correct: wai's screen and scrollback are Rich's rendering, styles included",
        file=sys.stderr,
    )
    return rows


def terminal_cells(output: bytes, size: tuple[int, int]) -> list[list[tuple[Any, ...]]]:
    """What a terminal of `size` shows after `output`, scrollback then screen: every cell's
    character, colours and attributes (pyte, from the test extra; a space's foreground colour,
    weight and slant show nothing, and are left out), blank rows at the end left out."""
    import pyte

    rows, columns = size
    screen = pyte.HistoryScreen(columns, rows, history=10_000)
    pyte.ByteStream(screen).feed(output)
    lines = [*screen.history.top, *(screen.buffer[y] for y in range(rows))]

    def seen(char: Any) -> tuple[Any, ...]:
        if char.data == " ":
            char = char._replace(fg="default", bold=False, italics=False, blink=False)
        return tuple(char)

    shown = [[seen(line[x]) for x in range(columns)] for line in lines]
    while shown and all(cell == seen(screen.default_char) for cell in shown[-1]):
        shown.pop()
    return shown


def table(rows: list[Row]) -> str:
    head = ("measure", "baseline median", "wai median", "ratio", "target", "verdict")
    lines = ["| " + " | ".join(head) + " |", "|---|--:|--:|--:|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs of each (default 7)")
    parser.add_argument("--quick", action="store_true", help="3 runs: a smoke check")
    parser.add_argument("--timeout", type=float, default=300, help="seconds allowed per run")
    parser.add_argument(
        "--prebuilt",
        action="store_true",
        help="the server encodes every event first and sends a Content-Length (the first "
        "benchmark's server: a faster floor than any model server)",
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.prebuilt)
    runs = 3 if args.quick else max(1, args.runs)
    if not Path(PYTHON).exists():
        print(f"creating {BENCH_VENV}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
    # Every time: the dependencies or the console script's entry point may have changed.
    subprocess.run([PYTHON, "-m", "pip", "install", "-q", "-e", str(ROOT)], check=True)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    cpus = len(os.sched_getaffinity(0))
    server = "prebuilt, Content-Length" if args.prebuilt else "chunked, encoded as sent"
    print(f"load average: {load}; nproc: {cpus}; runs: {runs}; server: {server}", flush=True)
    start = time.perf_counter()
    rows = benchmark(runs, args.timeout, args.prebuilt)
    after = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    took = time.perf_counter() - start
    print(f"\n{table(rows)}\n\ntook {took:.0f} s; load average after: {after}")


if __name__ == "__main__":
    main()
