"""`wai login`: take a Cloudflare account id and API token, verify both, then store them."""

from typing import Annotated

import typer

from wai.cli.common import environment, reported
from wai.environment import Environment
from wai.errors import ConfigError, UsageError


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
) -> None:
    """Store your Cloudflare account id and API token, after checking that they work."""
    env = environment(ctx)
    with reported(env):
        run_login(env, backend_name=backend, account_id=account_id, token_stdin=token_stdin)


def run_login(
    env: Environment, *, backend_name: str, account_id: str | None, token_stdin: bool
) -> None:
    from wai.backends import make_backend
    from wai.backends.cloudflare import TOKEN_ENV
    from wai.settings import Overrides, known_backends, resolve
    from wai.settings.file import read_document, save_config, set_key
    from wai.settings.paths import config_path

    path = config_path()
    document = read_document(path)  # a file that cannot be parsed stops here, untouched
    if backend_name not in known_backends(document):
        set_key(document, f"backends.{backend_name}.type", "cloudflare")  # a new one
    settings = resolve(Overrides(backend=backend_name), document, env.environ)
    if settings.backend.type != "cloudflare":
        raise UsageError(f"{backend_name} is not a Cloudflare backend; `wai login` is for those")

    account = (account_id or _ask(env, "Cloudflare account id: ")).strip()
    token = (_read_token_line(env) if token_stdin else _ask_hidden(env, "API token: ")).strip()
    if not account or not token:
        raise UsageError("both the account id and the API token are needed")
    env.add_secret(token)

    backend = make_backend(
        settings._replace(backend=settings.backend._replace(account_id=account, api_token=token))
    )
    status = backend.verify_token()  # type: ignore[attr-defined]
    if status != "active":
        raise ConfigError(
            f"the API token is {status}, not active",
            hint="create or roll a token at https://dash.cloudflare.com/profile/api-tokens",
        )
    models = backend.list_models()  # proves the account id and the Workers AI permission

    prefix = f"backends.{backend_name}"
    set_key(document, f"{prefix}.account_id", account)
    set_key(document, f"{prefix}.api_token", token)
    save_config(document, path)
    env.notice(
        f"logged in: account {account}, token active, {len(models)} text-generation models; "
        f"saved to {path}"
    )
    for variable in ("CLOUDFLARE_ACCOUNT_ID", "CF_ACCOUNT_ID", TOKEN_ENV, "CF_API_TOKEN"):
        if env.environ.get(variable):
            env.notice(f"note: {variable} in the environment still takes precedence")


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
