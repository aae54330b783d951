"""OpenAI-compatible servers (llama.cpp, Ollama, vLLM, LM Studio): /chat/completions for
messages, /completions for a raw prompt, /models for the model list."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from wai.backends.answers import error_by_status, error_from_response, events_from_response
from wai.backends.base import Event, HttpCall, ModelInfo, Request
from wai.backends.http import Endpoint, RetryPolicy, get_json, stream_call
from wai.errors import (
    BackendError,
    ConfigError,
    UsageError,
    WaiError,
)
from wai.settings import BackendSettings

if TYPE_CHECKING:
    import httpx

START_COMMANDS = {
    "llamacpp": "llama-server -m MODEL.gguf --port 8080",
    "ollama": "ollama serve (and `ollama pull MODEL` once)",
    "vllm": "vllm serve MODEL --port 8000",
    "lmstudio": "lms server start (or the Developer tab of LM Studio)",
}

# How each server continues a trailing assistant message (a partial answer) instead of answering
# after it: vLLM when told so; llama.cpp's server and Ollama on their own (nothing to add). Any
# other server gets the same messages, and may answer after the partial one instead.
CONTINUE_FINAL_MESSAGE: dict[str, dict[str, Any]] = {
    "vllm": {"continue_final_message": True, "add_generation_prompt": False},
}


def context_hint(name: str) -> str:
    return (
        "the prompt is probably longer than the server's context window: shorten it (`/new` in "
        f"chat), set backends.{name}.context_window, or start the server with a larger context "
        "(llama.cpp: -c / --n_ctx)"
    )


class OpenAIBackend:
    def __init__(self, settings: BackendSettings, policy: RetryPolicy):
        self.settings = settings
        self.policy = policy
        self.name = settings.name
        self._model = settings.model
        self.picked: ModelInfo | None = None  # what the server said of the model it offered first

    @property
    def base_url(self) -> str:
        if not self.settings.base_url:
            raise ConfigError(
                f"backends.{self.name}.base_url is not set",
                hint=f"set it with `wai config set backends.{self.name}.base_url "
                '"http://127.0.0.1:8080/v1"`',
            )
        return self.settings.base_url.rstrip("/")

    @property
    def endpoint(self) -> Endpoint:
        start = START_COMMANDS.get(self.name)
        return Endpoint(
            f"the {self.name} server at {self.base_url}",
            f"start it with: {start}"
            if start
            else f"start the server, or check backends.{self.name}.base_url",
        )

    @property
    def model(self) -> str:
        """The configured model, or else the first one the server lists."""
        if not self._model:
            models = self.list_models()
            if not models:
                raise BackendError(
                    f"{self.endpoint.where} offers no models",
                    hint="load a model into the server, or name one with -m MODEL",
                    repl_hint="load a model into the server, or name one with /model ID",
                )
            self._model = models[0].id
            self.picked = models[0]
        return self._model

    def _headers(self) -> dict[str, str]:
        key = self.settings.api_token
        return {"Authorization": f"Bearer {key}"} if key else {}

    def prepare(self, request: Request) -> HttpCall:
        if request.params.get("lora"):
            raise UsageError("--lora is for Workers AI; this backend does not take it")
        body: dict[str, Any] = {"model": self.model}
        if request.prompt is not None:
            path = "completions"
            body["prompt"] = request.prompt
        else:
            path = "chat/completions"
            body["messages"] = [dict(message) for message in request.messages]
        body["stream"] = request.stream
        if request.stream:
            body["stream_options"] = {"include_usage": True}
        if request.continue_final and request.prompt is None:
            body.update(CONTINUE_FINAL_MESSAGE.get(self.name, {}))
        body.update(request.params)
        if request.response_format is not None:
            body["response_format"] = dict(request.response_format)
        headers = {"Content-Type": "application/json"}
        if request.stream:
            headers["Accept"] = "text/event-stream"
        auth_env = "API_KEY" if self.settings.api_token else None
        return HttpCall("POST", f"{self.base_url}/{path}", headers, body, auth_env=auth_env)

    def stream(self, request: Request) -> Iterator[Event]:
        return stream_call(
            self.prepare(request),
            self._headers(),
            self.policy,
            lambda response: error_from_response(response, self.error),
            self.events,
            self.endpoint,
        )

    def events(self, response: httpx.Response) -> Iterator[Event]:
        empty = BackendError(
            f"{self.endpoint.where} sent an empty answer", hint=context_hint(self.name)
        )  # what llama.cpp's server does with a prompt longer than its context
        return events_from_response(response, self.error, empty)

    def list_models(self) -> list[ModelInfo]:
        document = get_json(
            f"{self.base_url}/models",
            self._headers(),
            self.policy,
            lambda response: error_from_response(response, self.error),
            self.endpoint,
        )
        entries = document.get("data") if isinstance(document, dict) else None
        if not isinstance(entries, list):
            entries = document.get("models", []) if isinstance(document, dict) else []
        entries = [e for e in entries if isinstance(e, dict) and (e.get("id") or e.get("name"))]
        models = [
            ModelInfo(
                str(entry.get("id") or entry.get("name")),
                _describe(entry),
                _trained_context(entry),
            )
            for entry in entries
        ]
        # llama.cpp alone sends `meta`; with one model loaded, its /props tells the context the
        # server was started with (-c), which is what a prompt must fit, not the trained one.
        if len(models) == 1 and isinstance(entries[0].get("meta"), dict):
            serving = self._serving_context()
            if serving is not None:
                models[0] = models[0]._replace(context_window=serving)
        return models

    def _serving_context(self) -> int | None:
        """llama.cpp's `GET /props` (at the server's root): default_generation_settings.n_ctx.
        It is only a better number: any failure is None."""
        root = self.base_url.removesuffix("/v1")
        try:
            props = get_json(
                f"{root}/props",
                self._headers(),
                self.policy,
                lambda response: error_from_response(response, self.error),
                self.endpoint,
            )
        except WaiError:
            return None
        settings = props.get("default_generation_settings") if isinstance(props, dict) else None
        return _positive(settings.get("n_ctx")) if isinstance(settings, dict) else None

    def error(
        self, status: int | None, code: int | None, message: str, retry_after: float | None
    ) -> BackendError:
        where = self.endpoint.where
        lowered = message.lower()
        too_long = "context" in lowered and ("length" in lowered or "size" in lowered)
        hint = context_hint(self.name) if too_long else None
        if status is None:
            return BackendError(f"{where} reported an error: {message}", hint=hint)
        text = f"{where} answered HTTP {status}: {message}"
        if too_long:
            return BackendError(text, hint=hint)
        if status == 404 and "model" in lowered:
            return BackendError(
                text,
                hint=f"`wai models -b {self.name}` lists the models it has; pick one with -m",
                repl_hint=f"`wai models -b {self.name}` lists the models it has; switch with "
                "/model ID",
            )
        refused = (
            f"check backends.{self.name}.api_key (`wai config set backends.{self.name}.api_key "
            "KEY`)"
        )
        return error_by_status(text, status, retry_after, refused_hint=refused)


def _describe(entry: dict[str, Any]) -> str:
    owner = entry.get("owned_by")
    return f"owned by {owner}" if isinstance(owner, str) and owner else ""


def _trained_context(entry: dict[str, Any]) -> int | None:
    """llama.cpp's `meta.n_ctx_train`: the context the model was trained with."""
    meta = entry.get("meta")
    return _positive(meta.get("n_ctx_train")) if isinstance(meta, dict) else None


def _positive(value: Any) -> int | None:
    """A count the server reported, when it is a positive integer."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return None
