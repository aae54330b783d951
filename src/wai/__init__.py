"""wai: a terminal chat client for Cloudflare Workers AI and local OpenAI-compatible servers.

Map of the package (data flows one way: options → settings → request → events → renderer →
session file):

    cli/            the Typer layer, one module per command (group): parses options, calls one
                    function, maps WaiErrors to exit codes; heavy imports inside the bodies
    env.py          Environment: streams, TTY flags, variables; the one writer of stderr notices
    errors.py       WaiError and its kinds, each with a message, a hint and an exit code
    params.py       generation parameters and their allowed ranges
    config.py       config.toml: read, validate, dotted keys, atomic 0600 writes
    settings.py     flag > environment > config file > default, resolved into frozen Settings;
                    the ready-made local backends
    inputs.py       where a one-shot prompt comes from (words, stdin)
    context.py      token estimate; which messages fit the context window
    sessions.py     session documents: load, change under a lock, save atomically, list
    conversation.py a session plus its settings: requests from history, turns recorded
    turn.py         stream one answer into a renderer; turn_result.py: what it produced
    ask.py          the one-shot;  chat.py + repl.py: the REPL and its slash commands
    models.py, login.py, doctor.py   the backend-facing commands
    backends/       base.py (Request, events, Backend protocol), http.py (send, retry,
                    timeouts), transport.py (httpx over http.client), sse.py (SSE → JSON
                    payloads), answers.py (payloads → events, error bodies), cloudflare.py
                    (Workers AI), openai.py (local servers)
    render/         plain.py (bytes, flushed), markdown.py (block-wise live), json.py,
                    spinner.py
    table.py        aligned columns for listings
    curl.py         --show-request: a request as a curl command
    atomic.py       write a file atomically
"""

__version__ = "0.1.0"
