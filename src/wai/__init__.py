"""wai: a terminal chat client for Cloudflare Workers AI and local OpenAI-compatible servers.

Data flows one way: command-line options (`cli/`) → `settings` → a `backends.base.Request`
built by the `conversation` → the backend's events → a `render`er → the session file. Imports
stack the same way, none running back up: cli → repl → conversation → render → backends →
settings, environment → atomic, errors.
"""

__version__ = "0.1.0"
