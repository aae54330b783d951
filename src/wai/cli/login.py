"""`wai login`: take a Cloudflare account id and API token, verify both, then store them; then
make sure the configured model is one the account can use."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wai.cli.common import environment, reported
from wai.environment import Environment
from wai.errors import EXIT_CONFIG, BackendError, ConfigError, UsageError, WaiError

if TYPE_CHECKING:
    from wai.backends.base import ModelInfo

NOT_IN_CATALOGUE = "is not in your account's catalogue (retired, or not available to you)"
CHOOSE_HINT = (
    "choose one with `wai login --model ID` or `wai config set model ID`; `wai models` lists them"
)
MAX_CHOICES = 10  # a list longer than a screenful is read by no one


def login(
    ctx: typer.Context,
    account_id: Annotated[
        str | None, typer.Option("--account-id", help="The account id (asked for if missing).")
    ] = None,
    token_stdin: Annotated[
        bool, typer.Option("--token-stdin", help="Read the API token from stdin (for scripts).")
    ] = False,
    backend: Annotated[
        str, typer.Option("-b", "--backend", help="The Cloudflare backend to store them for.")
    ] = "cloudflare",
    model: Annotated[
        str | None,
        typer.Option(
            "-m",
            "--model",
            help="Also store this model (checked against the account's catalogue); without it, "
            "a model the account cannot use is offered a replacement on a terminal.",
        ),
    ] = None,
) -> None:
    """Store your Cloudflare account id and API token, after checking that they work."""
    env = environment(ctx)
    with reported(env):
        run_login(
            env, backend_name=backend, account_id=account_id, token_stdin=token_stdin, model=model
        )


def run_login(
    env: Environment,
    *,
    backend_name: str,
    account_id: str | None,
    token_stdin: bool,
    model: str | None = None,
) -> None:
    from wai.backends import make_backend
    from wai.backends.cloudflare import TOKEN_ENV
    from wai.settings import Overrides, check_account_id, check_token, known_backends, resolve
    from wai.settings.file import read_document, save_config, set_key
    from wai.settings.paths import config_path

    path = config_path()
    document = read_document(path)  # a file that cannot be parsed stops here, untouched
    if backend_name not in known_backends(document):
        set_key(document, f"backends.{backend_name}.type", "cloudflare")  # a new one
    # The stored account id and token are what this replaces: they are not checked
    settings = resolve(
        Overrides(backend=backend_name), _credentials_removed(document, backend_name), env.environ
    )
    if settings.backend.type != "cloudflare":
        raise UsageError(f"{backend_name} is not a Cloudflare backend; `wai login` is for those")
    if model is not None:
        model = model.strip()
        if not model:
            raise UsageError("--model needs a model id")

    account = (account_id or _ask(env, "Cloudflare account id: ")).strip()
    token = check_token(
        _read_token_line(env) if token_stdin else _ask_hidden(env, "API token: "),
        "the token read from stdin" if token_stdin else "the token typed at the prompt",
    )
    if not account or not token:
        raise UsageError("both the account id and the API token are needed")
    env.add_secret(token)
    check_account_id(
        account, "--account-id" if account_id else "the account id typed in", flag=True
    )

    backend = make_backend(
        settings._replace(backend=settings.backend._replace(account_id=account, api_token=token))
    )
    status = backend.verify_token()  # type: ignore[attr-defined]
    if status != "active":
        raise ConfigError(
            f"the API token is {status}, not active",
            hint="create or roll a token at https://dash.cloudflare.com/profile/api-tokens",
        )
    catalogue, failure = _fetch_catalogue(backend, model)

    prefix = f"backends.{backend_name}"
    model_key = _model_key(document, backend_name)
    if model is not None:
        _check_chosen(model, catalogue or [])
        set_key(document, model_key, model)  # written with the credentials: one change
    set_key(document, f"{prefix}.account_id", account)
    set_key(document, f"{prefix}.api_token", token)
    save_config(document, path)
    counted = f", {len(catalogue)} text-generation models" if catalogue is not None else ""
    env.notice(f"logged in: account {account}, token active{counted}; saved to {path}")
    for variable in ("CLOUDFLARE_ACCOUNT_ID", "CF_ACCOUNT_ID", TOKEN_ENV, "CF_API_TOKEN"):
        if env.environ.get(variable):
            env.notice(f"note: {variable} in the environment still takes precedence")

    if failure is not None:
        env.notice(
            f"warning: the model catalogue could not be fetched, so the model was not checked: "
            f"{failure.message}"
        )
        return
    if model is None:
        # The configured model, not WAI_MODEL's: the file is what a choice here changes.
        environ = {k: v for k, v in env.environ.items() if k != "WAI_MODEL"}
        configured = resolve(Overrides(backend=backend_name), document, environ).backend.model
        model = _replacement(env, configured, catalogue or [])
        if model is None:
            return
        set_key(document, model_key, model)
        save_config(document, path)  # how `wai config set` writes: atomic, mode 0600
    env.notice(f"model set to {model}")
    if env.environ.get("WAI_MODEL"):
        env.notice("note: WAI_MODEL in the environment still takes precedence")


def _credentials_removed(document: Mapping[str, Any], backend_name: str) -> dict[str, Any]:
    """`document` without the backend's stored account id and token (a copy)."""
    backends = dict(document.get("backends", {}))
    table = backends.get(backend_name, {})
    backends[backend_name] = {
        key: value for key, value in table.items() if key not in ("account_id", "api_token")
    }
    return {**document, "backends": backends}


def _fetch_catalogue(
    backend: Any, model: str | None
) -> tuple[list[ModelInfo] | None, WaiError | None]:
    """The account's text-generation models, or the reason they could not be fetched.

    Refusals of the account id or token still stop the login: the catalogue is what proves the
    account id. Any other failure only means the model goes unchecked, unless --model asked for
    a check."""
    try:
        return backend.list_models(), None
    except WaiError as error:
        if error.exit_code == EXIT_CONFIG:
            raise
        if model is not None:
            raise BackendError(
                f"the model catalogue could not be fetched to check {model}: {error.message}",
                hint="nothing was saved; try again, or log in without --model",
                exit_code=error.exit_code,
            ) from None
        return None, error


def _check_chosen(model: str, catalogue: Sequence[ModelInfo]) -> None:
    from wai.backends.catalogue import rank_models

    if any(info.id == model for info in catalogue):
        return
    closest = [info.id for info in rank_models(catalogue, model, {})[:3]]
    hint = f"the closest: {', '.join(closest)}; `wai models` lists them all" if closest else None
    raise UsageError(f"--model: {model} {NOT_IN_CATALOGUE}", hint=hint)


def _model_key(document: Mapping[str, Any], backend_name: str) -> str:
    """Where the backend's model is stored: its own table's `model` if it has one (that one
    wins), the top-level `model` for the default backend, else its table."""
    from wai.settings import DEFAULT_BACKEND

    table = document.get("backends", {}).get(backend_name, {})
    if "model" in table or backend_name != document.get("backend", DEFAULT_BACKEND):
        return f"backends.{backend_name}.model"
    return "model"


def _replacement(env: Environment, configured: str, catalogue: Sequence[ModelInfo]) -> str | None:
    """None when `configured` is in the catalogue; else a model the user chose instead, or None
    (with a hint) when there is no terminal to ask at or the user declined."""
    from wai.backends.catalogue import rank_models

    if any(info.id == configured for info in catalogue):
        return None
    env.notice(f"the model {configured} {NOT_IN_CATALOGUE}")
    choices = rank_models(catalogue, configured, _session_uses()) if _at_terminal(env) else []
    if not choices:
        _hint(env)
        return None
    shown = choices[:MAX_CHOICES]
    env.notice("models you can use, the closest first:")
    width = max(len(info.id) for info in shown)
    columns = _columns(env)
    for number, info in enumerate(shown, 1):
        line = f"  {number:>2}  {info.id:<{width}}  {' '.join(info.description.split())}"
        env.stderr.write(_cut(line.rstrip(), columns) + "\n")
    if len(choices) > len(shown):
        env.stderr.write(f"  … and {len(choices) - len(shown)} more (`wai models` lists them)\n")
    chosen = _ask_number(env, len(shown))
    if chosen is None:
        env.stderr.write("\n")  # Ctrl-D left the cursor after the prompt
        _hint(env)
        return None
    return shown[chosen - 1].id


def _ask_number(env: Environment, count: int) -> int | None:
    """A number from 1 to `count` read from stdin (Enter: 1), asked until one is given; None at
    the end of input."""
    while True:
        env.stderr.write("Model number (Enter for 1): ")
        env.stderr.flush()
        line = env.stdin.readline()
        if not line:
            return None
        entry = line.strip()
        if not entry:
            return 1
        if entry.isdigit() and 1 <= int(entry) <= count:
            return int(entry)
        env.notice(f"{entry!r} is not a number from 1 to {count}")


def _hint(env: Environment) -> None:
    env.hint(CHOOSE_HINT)


def _at_terminal(env: Environment) -> bool:
    return env.stdin_isatty and env.stderr_isatty


def _columns(env: Environment) -> int:
    import os

    try:
        return os.get_terminal_size(env.stderr.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return 80


def _cut(line: str, columns: int) -> str:
    """`line` within `columns - 1` characters (the last column would wrap on some terminals)."""
    return line if len(line) < columns else line[: max(columns - 2, 0)] + "…"


def _session_uses() -> dict[str, int]:
    """How many saved sessions use each model; unreadable session files count for nothing."""
    from collections import Counter

    from wai.conversation.store import SessionStore

    return dict(Counter(s.model for s in SessionStore().all() if s.model))


# --- asking for the credentials -----------------------------------------------------------------


def _ask(env: Environment, prompt: str) -> str:
    if not env.stdin_isatty:
        raise UsageError("--account-id is needed when stdin is not a terminal")
    env.stderr.write(prompt)
    env.stderr.flush()
    return env.stdin.readline()


def _ask_hidden(env: Environment, prompt: str) -> str:
    if not env.stdin_isatty:
        raise UsageError(
            "the token is read from a terminal, hidden; in a script use --token-stdin",
            hint="printf '%s' \"$TOKEN\" | wai login --account-id ID --token-stdin",
        )
    import getpass

    return getpass.getpass(prompt, stream=env.stderr)


def _read_token_line(env: Environment) -> str:
    line = env.stdin.readline()
    if not line.strip():
        raise UsageError("--token-stdin: stdin held no token")
    return line
