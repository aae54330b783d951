"""Workers AI: POST /accounts/{id}/ai/run/{model}, the v4 envelope, both stream dialects."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from wai.backends.answers import (
    AnswerWithoutText,
    error_by_status,
    error_from_response,
    error_of,
    events_from_response,
)
from wai.backends.base import (
    Event,
    HttpCall,
    ModelInfo,
    Notice,
    ReasoningDelta,
    Request,
    TextDelta,
)
from wai.backends.http import RetryPolicy, get_json, stream_call
from wai.backends.templates import continuation_prompt
from wai.errors import (
    EXIT_CONFIG,
    EXIT_NETWORK,
    EXIT_RATE_LIMITED,
    BackendError,
    ConfigError,
)
from wai.settings import ACCOUNT_ID, MODEL_ID_HINT, BackendSettings, model_id_problem
from wai.settings.models import ModelFacts, model_facts

if TYPE_CHECKING:
    import httpx

TOKEN_ENV = "CLOUDFLARE_API_TOKEN"
TOKEN_PAGE = "https://dash.cloudflare.com/profile/api-tokens"
# Missing credentials, said inside `wai chat`: log in from a shell, or chat with a local server.
LOGIN_OR_LOCAL = "run `wai login` in a shell, or switch to a local server with /backend NAME"
CATALOGUE_PAGE_SIZE = 50
MAX_CATALOGUE_PAGES = 20


class CloudflareBackend:
    def __init__(self, settings: BackendSettings, policy: RetryPolicy):
        self.settings = settings
        self.policy = policy
        self.name = settings.name
        self.model = settings.model
        self.picked: ModelInfo | None = None  # the model is always named, never picked

    def url(self) -> str:
        s = self.settings
        account = _account_segment(s.account_id)
        model = model_path(s.model)
        if s.gateway:
            gateway = quote(s.gateway, safe="")
            return f"{s.gateway_base_url.rstrip('/')}/{account}/{gateway}/workers-ai/{model}"
        return f"{s.base_url.rstrip('/')}/accounts/{account}/ai/run/{model}"

    def chat_completions_url(self) -> str:
        """Workers AI's OpenAI-compatible endpoint, where every text model streams."""
        s = self.settings
        account = _account_segment(s.account_id)
        if s.gateway:
            return (
                f"{s.gateway_base_url.rstrip('/')}/{account}/{quote(s.gateway, safe='')}"
                "/workers-ai/v1/chat/completions"
            )
        return f"{s.base_url.rstrip('/')}/accounts/{account}/ai/v1/chat/completions"

    def prepare(self, request: Request) -> HttpCall:
        """The call for `request`: /ai/run, or the OpenAI-compatible endpoint for messages to a
        model known to answer a streamed request on /ai/run with JSON (gpt-oss)."""
        if request.continue_final and request.prompt is None:
            # An answer to continue: a raw prompt in the model's own template, ending inside the
            # answer, where the template is known; else the messages as they are.
            prompt = continuation_prompt(self.facts.template, request.messages)
            if prompt is not None:
                request = request._replace(prompt=prompt, messages=())
        if request.stream and request.prompt is None and not self.facts.streams_on_run:
            return self.prepare_chat_completion(request)
        body: dict[str, Any] = {}
        if request.prompt is not None:
            body["prompt"] = request.prompt
            body["raw"] = True
        else:
            body["messages"] = [dict(message) for message in request.messages]
        body["stream"] = request.stream
        params = dict(request.params)
        if request.prompt is None:
            params.pop("lora", None)  # the schema allows lora only with a prompt
        body.update(params)
        if request.response_format is not None:
            body["response_format"] = self._response_format(request.response_format)
        return HttpCall("POST", self.url(), self._headers(request), body, auth_env=TOKEN_ENV)

    def prepare_chat_completion(self, request: Request) -> HttpCall:
        """The call for `request`'s messages on the OpenAI-compatible endpoint (`model` in the
        body, OpenAI chunks back, no envelope)."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [dict(message) for message in request.messages],
            "stream": request.stream,
        }
        if request.stream:
            body["stream_options"] = {"include_usage": True}
        body.update((k, v) for k, v in request.params.items() if k != "lora")
        if request.response_format is not None:
            body["response_format"] = dict(request.response_format)
        return HttpCall(
            "POST", self.chat_completions_url(), self._headers(request), body, auth_env=TOKEN_ENV
        )

    def _response_format(self, response_format: Mapping[str, Any]) -> dict[str, Any]:
        """JSON mode as the model takes it on /ai/run: the OpenAI envelope for a Chat
        Completions model, the bare schema in `json_schema` for the others (Cloudflare's docs)."""
        wanted = dict(response_format)
        envelope = wanted.get("json_schema")
        if self.facts.chat_completions or not isinstance(envelope, Mapping):
            return wanted
        return {"type": "json_schema", "json_schema": envelope.get("schema", {})}

    @staticmethod
    def _headers(request: Request) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if request.stream:
            headers["Accept"] = "text/event-stream"
        if request.affinity:  # the same replica, and its prompt cache, for the whole conversation
            headers["x-session-affinity"] = request.affinity
        return headers

    @property
    def facts(self) -> ModelFacts:
        return model_facts(self.model)

    def stream(self, request: Request) -> Iterator[Event]:
        """The answer's events. A streamed request answered with JSON that holds no text (what
        gpt-oss does on /ai/run) is asked once more: streamed through the OpenAI-compatible
        endpoint, or else without streaming, as Cloudflare's own clients do."""
        self._check_credentials()
        call = self.prepare(request)
        try:
            yield from self._send(call)
            return
        except AnswerWithoutText:
            if not request.stream:
                raise
        if request.prompt is None and call.url != self.chat_completions_url():
            yield Notice(
                "the model answered a streamed request with JSON and no text; asking again "
                "through Workers AI's OpenAI-compatible endpoint"
            )
            answered = False
            try:
                for event in self._send(self.prepare_chat_completion(request)):
                    answered = answered or isinstance(event, TextDelta | ReasoningDelta)
                    yield event
                return
            except BackendError as failure:
                if answered:
                    raise
                yield Notice(f"that failed too ({failure.message}); asking again without streaming")
        else:
            yield Notice(
                "the model answered a streamed request with JSON and no text; asking again "
                "without streaming"
            )
        yield from self._send(self.prepare(request._replace(stream=False)))

    def _send(self, call: HttpCall) -> Iterator[Event]:
        check_token_destination(call.url)
        secret = {"Authorization": f"Bearer {self.settings.api_token}"}
        # The model's chat template opens `<think>` for messages; a raw prompt is the user's own.
        opened = self.facts.thinking_opened and "messages" in (call.body or {})
        return stream_call(
            call,
            secret,
            self.policy,
            lambda response: error_from_response(response, self.error),
            lambda response: self.events(response, thinking_opened=opened),
        )

    def _get(self, path: str) -> Any:
        """GET an API document (`path` below the API base) and return its `result`."""
        self._check_credentials()
        url = f"{self.settings.base_url.rstrip('/')}/{path}"
        check_token_destination(url)
        envelope = get_json(
            url,
            {"Authorization": f"Bearer {self.settings.api_token}"},
            self.policy,
            lambda response: error_from_response(response, self.error),
        )
        code, message = error_of(envelope)
        if message is not None:
            raise self.error(None, code, message, None)
        return envelope.get("result") if isinstance(envelope, dict) else None

    def verify_token(self) -> str:
        """The token's status (`active` when it can be used), from /user/tokens/verify."""
        result = self._get("user/tokens/verify")
        return str(result.get("status")) if isinstance(result, dict) else "unknown"

    def list_models(self) -> list[ModelInfo]:
        """The text-generation catalogue of the account, every page of it."""
        models: list[ModelInfo] = []
        for page in range(1, MAX_CATALOGUE_PAGES + 1):
            result = self._get(
                f"accounts/{self.settings.account_id}/ai/models/search"
                f"?task=Text%20Generation&per_page={CATALOGUE_PAGE_SIZE}&page={page}"
            )
            items = result if isinstance(result, list) else []
            models.extend(_model_info(item) for item in items if isinstance(item, dict))
            if len(items) < CATALOGUE_PAGE_SIZE:
                break
        return models

    def model_schema(self, model: str) -> dict[str, Any]:
        """The model's JSON Schemas from /ai/models/schema: `{"input": ..., "output": ...}`."""
        self._check_credentials()
        url = (
            f"{self.settings.base_url.rstrip('/')}/accounts/{self.settings.account_id}"
            f"/ai/models/schema?model={quote(model, safe='')}"
        )
        check_token_destination(url)

        def error(
            status: int | None, code: int | None, message: str, retry_after: float | None
        ) -> BackendError:
            if code == 5007:  # self.error would name the configured model, not this one
                return BackendError(
                    f"Cloudflare has no schema for the model {model}: {message}",
                    hint="`wai models` lists the current models",
                )
            return self.error(status, code, message, retry_after)

        envelope = get_json(
            url,
            {"Authorization": f"Bearer {self.settings.api_token}"},
            self.policy,
            lambda response: error_from_response(response, error),
        )
        code, message = error_of(envelope)
        if message is not None:
            raise error(None, code, message, None)
        result = envelope.get("result") if isinstance(envelope, dict) else None
        return result if isinstance(result, dict) else {}

    def _check_credentials(self) -> None:
        s = self.settings
        if not s.account_id:
            raise ConfigError(
                "no Cloudflare account id is configured",
                hint="run `wai login`, or export CLOUDFLARE_ACCOUNT_ID=...",
                repl_hint=LOGIN_OR_LOCAL,
            )
        if not s.api_token:
            raise ConfigError(
                "no Cloudflare API token is configured",
                hint=f"create one with Workers AI Read and Edit permissions at {TOKEN_PAGE}, then "
                f"run `wai login` (or export {TOKEN_ENV}=...)",
                repl_hint=LOGIN_OR_LOCAL,
            )

    def events(self, response: httpx.Response, *, thinking_opened: bool = False) -> Iterator[Event]:
        """The answer's events; `thinking_opened`: its text starts inside the reasoning."""
        return events_from_response(response, self.error, thinking_opened=thinking_opened)

    def error(
        self, status: int | None, code: int | None, message: str, retry_after: float | None
    ) -> BackendError:
        """The user-facing error for a Workers AI error code."""
        model = self.settings.model
        pick_model = (
            "`wai models` lists the current ones; pick one with `-m MODEL` or "
            "`wai config set model MODEL`"
        )
        switch_model = "`wai models` lists the current ones; switch with /model ID"
        if code in (1000, 10000):  # 1000: /user/tokens/verify's "Invalid API Token"
            return BackendError(
                f"Cloudflare refused the API token: {message}",
                hint=f"check {TOKEN_ENV}; the token needs Workers AI Read and Edit "
                f"permissions ({TOKEN_PAGE})",
                exit_code=EXIT_CONFIG,
            )
        if code in (7000, 7003):
            return BackendError(
                f"Cloudflare does not know the account id {self.settings.account_id!r}: {message}",
                hint="check CLOUDFLARE_ACCOUNT_ID: it is the 32-character id shown in the "
                "dashboard's Workers AI page",
                exit_code=EXIT_CONFIG,
            )
        if code == 5028:
            date = re.search(r"deprecated on ([^\s.]+(?:\.\d+)*)", message)
            when = f" on {date.group(1)}" if date else ""
            return BackendError(
                f"the model {model} was retired by Cloudflare{when}",
                hint=pick_model,
                repl_hint=switch_model,
            )
        if code in (5007, 3042):
            return BackendError(
                f"the model {model} is not available: {message}",
                hint=pick_model,
                repl_hint=switch_model,
            )
        if code == 3010:
            return BackendError(f"Workers AI rejected the input: {message}")
        if code == 3006:
            return BackendError(
                f"the conversation is too long for {model}: {message}",
                hint="shorten the input or lower --max-tokens",
                repl_hint="shorten the input or lower max_tokens with /set max_tokens N",
            )
        if code in (3007, 3008):
            return BackendError(
                f"Workers AI timed out: {message}", exit_code=EXIT_NETWORK, retryable=True
            )
        if code == 3036:
            return BackendError(
                f"the daily free Workers AI allocation is used up: {message}",
                hint="it resets at 00:00 UTC; the Workers Paid plan lifts the limit",
                exit_code=EXIT_RATE_LIMITED,
            )
        if code == 3040:
            return BackendError(
                f"Workers AI is out of capacity: {message}",
                hint="try again in a minute",
                exit_code=EXIT_RATE_LIMITED,
                retryable=True,
                retry_after=retry_after,
            )
        if code == 5035:
            return BackendError(
                f"the model {model} needs the Workers Paid plan: {message}",
                hint=pick_model,
                repl_hint=switch_model,
            )
        if code == 5016:
            return BackendError(
                f"the licence terms of {model} have not been accepted: {message}",
                hint="accept them as the model's page describes, then ask again",
            )
        return self._error_by_status(status, code, message, retry_after)

    @staticmethod
    def _error_by_status(
        status: int | None, code: int | None, message: str, retry_after: float | None
    ) -> BackendError:
        detail = f"{message} (code {code})" if code is not None else message
        if status is None:
            return BackendError(f"Workers AI reported an error: {detail}")
        text = f"Workers AI answered HTTP {status}: {detail}"
        return error_by_status(text, status, retry_after, refused_hint=f"check {TOKEN_ENV}")


# The catalogue has said 1310720 (glm-5.3-flash) where AI Gateway refuses more than this.
MAX_CONTEXT_WINDOW = 1_048_576


def _model_info(item: Mapping[str, Any]) -> ModelInfo:
    """A catalogue item as a ModelInfo. Its `properties` are typed strings in the API's schema
    but some hold lists and objects: each is read leniently, and what cannot be read is None."""
    properties = {
        prop.get("property_id"): prop.get("value")
        for prop in item.get("properties") or []
        if isinstance(prop, dict)
    }
    try:
        window: int | None = int(str(properties.get("context_window")).strip())
    except ValueError:
        window = None
    if window is not None:
        window = min(window, MAX_CONTEXT_WINDOW) if window > 0 else None
    return ModelInfo(
        str(item.get("name") or item.get("id")),
        str(item.get("description") or ""),
        window,
        reasons=_flag(properties.get("reasoning")),
        function_calling=_flag(properties.get("function_calling")),
        deprecation=_date(properties.get("planned_deprecation_date")),
        prices=_prices(properties.get("price")),
    )


def _flag(value: Any) -> bool | None:
    """A "true"/"false" property (or a JSON boolean); anything else is not said."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if value is not None else ""
    return {"true": True, "false": False}.get(text)


def _date(value: Any) -> str | None:
    """The YYYY-MM-DD at the start of a date property ("2026-09-30", "2026-09-30T00:00:00Z")."""
    found = re.match(r"\s*(\d{4}-\d{2}-\d{2})", value) if isinstance(value, str) else None
    return found.group(1) if found else None


def _prices(value: Any) -> tuple[str, ...]:
    """The price property, a list of {unit, price, currency} (or a JSON text of one), as
    "0.35 USD per M input tokens"; entries without a price are left out."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return ()
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        return ()
    prices = []
    for entry in value:
        price = entry.get("price") if isinstance(entry, dict) else None
        if isinstance(price, bool) or not isinstance(price, int | float | str):
            continue
        words = (str(price), str(entry.get("currency") or ""), str(entry.get("unit") or ""))
        if words[0].strip():
            prices.append(" ".join(word.strip() for word in words if word.strip()))
    return tuple(prices)


def model_path(model: str) -> str:
    """`model` as the end of a URL's path, each of its names percent-encoded (`@` stays):
    settings checked it where it was read, so a ConfigError here is only a second line."""
    problem = model_id_problem(model)
    if problem is not None:
        raise ConfigError(f"{problem}, so it is not a Workers AI model id", hint=MODEL_ID_HINT)
    return "/".join(quote(segment, safe="@:") for segment in model.split("/"))


def _account_segment(account_id: str | None) -> str:
    if not account_id:
        return "$CLOUDFLARE_ACCOUNT_ID"  # --show-request without credentials names the variable
    if not ACCOUNT_ID.fullmatch(account_id):
        raise ConfigError("the account id is not a Cloudflare account id")
    return account_id


def check_token_destination(url: str) -> None:
    """The token goes to Cloudflare over HTTPS, or over plain HTTP only to a loopback address."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if _is_loopback(host):
        return
    if parts.scheme == "https" and (host == "cloudflare.com" or host.endswith(".cloudflare.com")):
        return
    raise ConfigError(
        f"refusing to send the Cloudflare API token to {parts.scheme}://{host}",
        hint="the token goes only to https://*.cloudflare.com or a loopback address; "
        "check CLOUDFLARE_API_BASE_URL and the backend's base_url",
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
