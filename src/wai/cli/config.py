"""`wai config show|get|set|unset|path|edit`."""

from typing import Annotated, Any

import typer

from wai.cli import complete
from wai.cli.common import environment, reported
from wai.environment import Environment
from wai.settings.paths import config_path

app = typer.Typer(
    help="Read and change config.toml (dotted keys: model, params.temperature, "
    "backends.cloudflare.account_id).",
    no_args_is_help=True,
)

KEY_HELP = "A dotted key, e.g. params.temperature."
Key = Annotated[str, typer.Argument(help=KEY_HELP, autocompletion=complete.set_config_keys)]
AnyKey = Annotated[str, typer.Argument(help=KEY_HELP, autocompletion=complete.config_keys)]


@app.command()
def show(ctx: typer.Context) -> None:
    """Print the config file with secrets masked."""
    env = environment(ctx)
    with reported(env):
        import tomli_w

        from wai.settings.file import load_config, masked

        data = load_config()
        if not data:
            env.notice(f"no settings yet in {config_path()}")
            return
        env.write_out(tomli_w.dumps(masked(data)))


@app.command()
def get(ctx: typer.Context, key: Key) -> None:
    """Print one value (secrets masked)."""
    env = environment(ctx)
    with reported(env):
        from wai.errors import UsageError
        from wai.settings.file import get_key, load_config, masked

        try:
            value = get_key(load_config(), key)
        except KeyError:
            raise UsageError(f"{key} is not set") from None
        env.write_out(_format(masked(value, key.rsplit(".", 1)[-1])) + "\n")


# A value may start with a dash (`retries -1`, `system "-x marks"`): no option after the key.
@app.command("set", context_settings={"allow_interspersed_args": False})
def set_(
    ctx: typer.Context,
    key: AnyKey,
    value: Annotated[str, typer.Argument(help='A TOML value (0.7, true, "text") or plain text.')],
) -> None:
    """Set a value; it is checked before the file is written."""
    env = environment(ctx)
    with reported(env):
        from wai.errors import UsageError
        from wai.settings.file import find_problems, parse_value, read_document, set_key

        data = read_document(config_path())
        set_key(data, key, parse_value(value))
        problems = find_problems(data)
        for problem in problems:
            if _overlaps(problem.key, key):
                raise UsageError(f"{problem.key}: {problem.message}")
        _save(env, data)


@app.command()
def unset(ctx: typer.Context, key: Key) -> None:
    """Remove a value."""
    env = environment(ctx)
    with reported(env):
        from wai.settings.file import read_document, unset_key

        data = read_document(config_path())
        if not unset_key(data, key):
            env.notice(f"{key} was not set")
            return
        _save(env, data)


def _overlaps(problem_key: str, key: str) -> bool:
    return (
        problem_key == key or problem_key.startswith(f"{key}.") or key.startswith(f"{problem_key}.")
    )


def _save(env: Environment, data: dict[str, Any]) -> None:
    """Write the file; problems elsewhere in it do not block an edit, but are pointed out."""
    from wai.settings.file import find_problems, save_config

    save_config(data)
    for problem in find_problems(data):
        env.notice(f"warning: {config_path()}: {problem.key}: {problem.message}")


@app.command()
def path(ctx: typer.Context) -> None:
    """Print where the config file is."""
    env = environment(ctx)
    with reported(env):
        env.write_out(f"{config_path()}\n")


@app.command()
def edit(ctx: typer.Context) -> None:
    """Open the config file in $VISUAL or $EDITOR, then check it."""
    env = environment(ctx)
    with reported(env):
        import shlex
        import subprocess

        from wai.settings.file import load_config, save_config

        target = config_path()
        if not target.exists():
            save_config({}, target)
        editor = env.environ.get("VISUAL") or env.environ.get("EDITOR") or "vi"
        subprocess.run([*shlex.split(editor), str(target)], check=False)
        load_config(target)


def _format(value: object) -> str:
    if isinstance(value, dict):
        import tomli_w

        return tomli_w.dumps(value).rstrip("\n")
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
