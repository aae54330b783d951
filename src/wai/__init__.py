"""wai: a terminal chat client for Cloudflare Workers AI.

Map of the package (data flows one way: options → settings → request → events → renderer):

    cli/            the Typer layer: one module per command group; parses options, builds
                    Settings, calls one function, maps WaiErrors to exit codes
    env.py          Environment: streams, TTY flags, variables; the one writer of stderr notices
    errors.py       WaiError and its kinds, each with a message, a hint and an exit code
    params.py       generation parameters and their allowed ranges
    config.py       config.toml: read, validate, dotted keys, atomic 0600 writes
    settings.py     flag > environment > config file > default, resolved into frozen Settings
    inputs.py       where a one-shot prompt comes from (words, stdin)
    context.py      token estimate and the context-window check
    turn.py         build a Request; stream one answer into a renderer
    backends/       base.py (Request, events, Backend protocol), http.py (send, retry,
                    timeouts), sse.py (SSE → JSON payloads), cloudflare.py (Workers AI)
    render/         plain.py, markdown.py, json.py, spinner.py
    curl.py         --show-request: a request as a curl command
    atomic.py       write a file atomically
"""

__version__ = "0.1.0"
