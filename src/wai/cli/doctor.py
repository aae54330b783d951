"""`wai doctor`: check the config, the credentials and every backend, one verdict a line."""

import json
from collections.abc import Callable, Mapping
from typing import Annotated, Any, NamedTuple

import typer

from wai.cli.common import environment, reported
from wai.environment import Environment
from wai.errors import EXIT_BACKEND, EXIT_CONFIG, ConfigError, WaiError

OK, WARN, FAIL, SKIP = "ok", "warn", "fail", "skip"
MARKS = {OK: "✓", WARN: "!", FAIL: "✗", SKIP: "-"}


def doctor(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the checks as JSON.")] = False,
) -> None:
    """Check the config file, the credentials, the default backend and model, and every
    configured local server. Exits 0 only when the default backend works."""
    env = environment(ctx)
    with reported(env):
        checks = Doctor(env)
        works = checks.run()
        checks.report(works, as_json)
        code = checks.exit_code(works)
    if code:
        raise typer.Exit(code)


class Check(NamedTuple):
    """One line of the report: what was checked, its verdict and why."""

    name: str
    status: str
    detail: str
    exit_code: int = 0  # what a failure would make a command exit with


class Doctor:
    def __init__(self, env: Environment):
        self.env = env
        self.checks: list[Check] = []

    def add(self, name: str, status: str, detail: str, exit_code: int = 0) -> bool:
        """Record a check; True when it passed."""
        self.checks.append(Check(name, status, detail, exit_code))
        return status == OK

    def attempt(self, name: str, probe: Callable[[], str], *, fail: str = FAIL) -> bool:
        """Run `probe`; its return value is the detail of an ok, a WaiError a failure."""
        try:
            return self.add(name, OK, probe())
        except WaiError as error:
            return self.add(name, fail, self.env.scrub(error.message), error.exit_code)

    # --- the checks ---

    def run(self) -> bool:
        """All checks; True when the default backend works."""
        from wai.settings import LOCAL_PRESETS
        from wai.settings.file import load_config
        from wai.settings.paths import config_path

        path = config_path()
        try:
            config = load_config(path)
        except WaiError as error:
            self.add("config file", FAIL, error.message, error.exit_code)
            return False
        self.add("config file", OK, str(path) if path.exists() else f"{path} (none yet: defaults)")
        self.check_permissions(path)
        default_works = self.check_backend(None, config, default=True)
        for name, table in config.get("backends", {}).items():
            kind = table.get("type", "openai" if name in LOCAL_PRESETS else None)
            if name != self.default_name(config) and kind == "openai":
                self.check_backend(name, config, default=False)
        return default_works

    def check_permissions(self, path: Any) -> None:
        """A warning row when the config file holds a secret and others may read it."""
        from wai.settings.file import open_to_others, read_document

        warning = open_to_others(path, read_document(path)) if path.exists() else None
        if warning is not None:
            self.add("config file permissions", WARN, warning)

    def default_name(self, config: Mapping[str, Any]) -> str:
        from wai.settings import backend_name

        return backend_name(None, config, self.env.environ)

    def check_backend(self, name: str | None, config: Mapping[str, Any], *, default: bool) -> bool:
        from wai.backends import make_backend
        from wai.settings import Overrides, resolve

        label = name or self.default_name(config)
        try:
            settings = resolve(Overrides(backend=name), config, self.env.environ)
            backend = make_backend(settings)
        except WaiError as error:
            return self.add(f"backend {label}", FAIL, error.message, error.exit_code)
        self.env.add_secret(settings.backend.api_token)
        kind = "default backend" if default else "backend"
        self.add(f"{kind} {label}", OK, f"type {settings.backend.type}")
        if settings.backend.type == "cloudflare":
            return self.check_cloudflare(backend, settings.backend)
        return self.check_server(
            label, backend, settings.backend.model, fail=FAIL if default else WARN
        )

    def check_cloudflare(self, backend: Any, settings: Any) -> bool:
        environ = self.env.environ
        from_env = environ.get("CLOUDFLARE_ACCOUNT_ID") or environ.get("CF_ACCOUNT_ID")
        account_source = "environment" if from_env else "config file"
        credentials = (
            ("account id", settings.account_id, "CLOUDFLARE_ACCOUNT_ID", account_source),
            ("API token", settings.api_token, "CLOUDFLARE_API_TOKEN", settings.token_source),
        )
        for name, value, variable, source in credentials:
            if not value:
                detail = f"missing: set {variable} or run `wai login`"
                return self.add(name, FAIL, detail, EXIT_CONFIG)
            secret = " (value not shown)" if name == "API token" else ""
            self.add(name, OK, f"from the {source}{secret}")

        def verify() -> str:
            status = backend.verify_token()
            if status != "active":
                raise ConfigError(f"the API token is {status}, not active")
            return f"status {status}"

        if not self.attempt("token valid", verify):
            return False
        catalogue: list[Any] = []

        def fetch() -> str:
            catalogue.extend(backend.list_models())
            return f"{len(catalogue)} text-generation models"

        if not self.attempt("account reachable", fetch):
            return False
        if any(model.id == settings.model for model in catalogue):
            return self.add("default model", OK, settings.model)
        from wai.cli.login import CHOOSE_HINT, NOT_IN_CATALOGUE  # the fix login names too

        detail = f"{settings.model} {NOT_IN_CATALOGUE}; {CHOOSE_HINT}"
        return self.add("default model", FAIL, detail, EXIT_BACKEND)

    def check_server(self, label: str, backend: Any, model: str, *, fail: str) -> bool:
        found: list[Any] = []

        def fetch() -> str:
            found.extend(backend.list_models())
            names = ", ".join(m.id for m in found[:5]) + (", …" if len(found) > 5 else "")
            return f"reachable; {len(found)} models: {names}" if found else "reachable; no models"

        if not self.attempt(f"{label} server", fetch, fail=fail):
            return False
        if not found:
            return self.add(f"{label} model", fail, "the server offers no models", EXIT_BACKEND)
        if model and all(m.id != model for m in found):
            detail = f"{model} is not among its models"
            return self.add(f"{label} model", fail, detail, EXIT_BACKEND)
        return self.add(f"{label} model", OK, model or f"{found[0].id} (the first one it lists)")

    # --- output ---

    def report(self, works: bool, as_json: bool) -> None:
        from wai.render.table import format_table

        if as_json:
            document = {
                "ok": works,
                "checks": [
                    {"check": c.name, "status": c.status, "detail": c.detail} for c in self.checks
                ],
            }
            self.env.write_out(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
            return
        rows = [(MARKS[c.status], c.name, c.detail) for c in self.checks]
        self.env.write_out(format_table(("", "CHECK", "DETAIL"), rows))
        verdict = "works" if works else "does not work"
        self.env.write_out(f"\nThe default backend {verdict}.\n")

    def exit_code(self, works: bool) -> int:
        if works:
            return 0
        return next((c.exit_code for c in self.checks if c.status == FAIL), EXIT_BACKEND)
