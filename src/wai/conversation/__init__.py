"""A session and the settings to continue it: requests from its history, turns saved to its file.

`ask` and `chat` both talk through a Conversation; they differ only in where input comes from
and how often they call `send`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from wai.backends import make_backend
from wai.backends.base import Backend, ModelInfo, Request, TurnResult
from wai.backends.catalogue import CatalogueCache, find
from wai.conversation import continuation
from wai.conversation.retirement import retirement_notice
from wai.conversation.store import Session, SessionStore, check_name, name_from, now
from wai.conversation.turn import ReaderLeft, run_turn
from wai.conversation.window import fit_messages
from wai.environment import Environment
from wai.errors import ConfigError, UsageError
from wai.render import Renderer
from wai.settings import Overrides, Role, Settings, find_role, resolve, role_model_source, with_role
from wai.settings.models import model_facts
from wai.settings.params import REASONING_MAX_TOKENS, REASONING_MIN_TOKENS
from wai.settings.paths import cache_dir


class Conversation:
    """A session, the settings that continue it, and whether (and where) it is saved.

    Its state changes only through its methods: `switch` (backend, model, params), `set_system`,
    `use_role`, `send`, `undo`, `rename` and `save_settings`.
    """

    def __init__(
        self,
        env: Environment,
        overrides: Overrides,
        config: Mapping[str, Any],
        store: SessionStore,
        session: Session,
        *,
        persistent: bool,
        named_by_wai: bool,
    ):
        self.env = env
        self.overrides = overrides  # the command line's choices, and /model, /backend since
        self.config = config
        self.store = store
        self.session = session
        self.persistent = persistent  # saved after each turn (not with --no-save)
        self.on_disk = bool(session.name) and store.exists(session.name)
        self.named_by_wai = named_by_wai  # so its name may take -2, -3... if taken meanwhile
        self.params = {**session.params, **overrides.params}  # chosen for this conversation
        self.system_changed = False  # set_system was called since the last save
        self.unsaved: list[Callable[[Session], None]] = []  # changes a failed save left
        self.own: list[tuple[Any, str]] = []  # (time, prompt) of the exchanges sent from here
        self.settings: Settings
        self.backend: Backend
        self.model_info: ModelInfo | None  # the cached catalogue's entry for the model
        self._resolve()

    # --- opening ---

    @classmethod
    def open(
        cls,
        env: Environment,
        overrides: Overrides,
        config: Mapping[str, Any],
        *,
        name: str | None = None,
        resume_last: bool = False,
        persistent: bool = True,
        first_words: str = "",
    ) -> Conversation:
        """The named session (created if new), the most recent one, or a new one (named from
        `first_words` when given, else at its first turn)."""
        overrides = with_role(overrides, config)  # an unknown role is refused before anything
        store = SessionStore()
        if name is not None:
            check_name(name)
        if resume_last:
            session = store.most_recent()
        elif name and store.exists(name):
            session = store.load(name)
        else:
            session = Session(name=name or "")
        named_by_wai = not session.name
        if persistent and named_by_wai and first_words:  # a one-shot `wai ask`
            session.name = store.unique_name(name_from(first_words))
            session.one_shot = True
        new = not session.messages
        conversation = cls(
            env, overrides, config, store, session, persistent=persistent, named_by_wai=named_by_wai
        )
        if overrides.system is not None:
            conversation.set_system(overrides.system)
        elif new and conversation.settings.system:
            conversation.set_system(conversation.settings.system)
        return conversation

    def _resolve(self) -> None:
        """Settings from the overrides, falling back to what the session recorded."""
        session, overrides = self.session, self.overrides
        from_session = not overrides.model and session.model and self.on_disk
        merged = overrides._replace(  # every other choice of the command line stays as given
            backend=overrides.backend or session.backend,
            model=overrides.model or session.model,
            model_source=f"model in {self.store.path(session.name)}"
            if from_session
            else overrides.model_source,
            params=self.params,
        )
        settings = resolve(merged, self.config, self.env.environ)
        self.backend = make_backend(settings)
        self.settings = settings
        self.env.add_secret(settings.backend.api_token)
        self.model_info = self._catalogue_entry()

    def _catalogue_entry(self) -> ModelInfo | None:
        """What the cached catalogue says of the model (None: no fresh cache, or not in it);
        never fetched here, so that asking never waits for it."""
        models = CatalogueCache(cache_dir()).load(self.settings.backend.name, warn=self.env.notice)
        return find(models, self.settings.backend.model) if models else None

    @property
    def context_window(self) -> int | None:
        """The model's context window: the backend's `context_window` in the config, else the
        cached catalogue's (or a local server's list, for the model it offered), else what wai
        knows of the model."""
        backend = self.settings.backend
        configured = self.config.get("backends", {}).get(backend.name, {}).get("context_window")
        if configured is not None:
            return backend.context_window
        info = self.model_info or self.backend.picked
        return info.context_window if info and info.context_window else backend.context_window

    @property
    def reasons(self) -> bool:
        """The model thinks before it answers: the catalogue says so, else wai's table."""
        if self.model_info is not None and self.model_info.reasons is not None:
            return self.model_info.reasons
        return model_facts(self.settings.backend.model).reasons

    @property
    def known_model(self) -> str | None:
        """The model the next request uses, when known without asking the network: the one
        named, or the local server's first model once its list was fetched (by the first turn);
        None until then."""
        picked = self.backend.picked
        return self.settings.backend.model or (picked.id if picked else None)

    def switch(
        self,
        *,
        params: Mapping[str, Any] | None = None,
        unset: tuple[str, ...] = (),
        **changes: Any,
    ) -> None:
        """Change the backend, model or params for the next turns (`/model`, `/set`, ...), or
        drop the params named in `unset` (`/unset`); a change that does not resolve leaves
        everything as it was."""
        before = (self.overrides, self.params)
        if "model" in changes:  # a model chosen here, not the one an error would name
            changes.setdefault("model_source", None)
        self.overrides = self.overrides._replace(**changes)
        self.params = {**self.params, **(params or {})}
        for name in unset:
            self.params.pop(name, None)
        try:
            self._resolve()
        except BaseException:
            self.overrides, self.params = before
            raise

    @property
    def role(self) -> str | None:
        """The role in use: chosen with --role or /role, else the one the session recorded."""
        recorded = self.session.extra.get("role")
        return self.overrides.role or (recorded if isinstance(recorded, str) else None)

    def use_role(self, name: str) -> Role:
        """Switch to the config's role `name` (`/role`): its system message, and the backend,
        model and parameters it names; the rest stays as it is. Saved like /system and /set."""
        role = find_role(self.config, name)
        changes: dict[str, Any] = {"role": role.name}
        if role.backend is not None:
            changes.update(backend=role.backend, model=role.model)  # None: the backend's own
        elif role.model is not None:
            changes["model"] = role.model
        if role.model is not None:
            changes["model_source"] = role_model_source(role.name)
        self.switch(params=role.params, **changes)
        self.set_system(role.system)
        self.save_settings()
        return role

    def set_system(self, text: str | None) -> None:
        """Replace the system message; saved with the next change to the file."""
        self.session.set_system(text)
        self.system_changed = True

    def save_settings(self) -> None:
        """Record a changed system message, backend, model or parameter in a session that is
        already on disk (a new one records them with its first turn)."""
        if self.on_disk:
            self._save(lambda session: None)

    def undo(self) -> None:
        """Drop the last exchange sent from this conversation (another process's exchanges in
        the same file stay); a UsageError when there is none."""
        if not self.own:
            self.session.last_exchange_index()  # "there is no exchange yet"
            raise UsageError(
                "no exchange was sent from this chat yet; /undo drops only this chat's own",
                hint="the session's earlier exchanges stay as they are",
            )
        key = self.own[-1]

        def drop(session: Session) -> None:
            messages = session.messages
            for index in range(len(messages) - 1, -1, -1):
                if _exchange_key(messages[index]) == key:
                    end = index + 1
                    while end < len(messages) and messages[end].get("role") != "user":
                        end += 1
                    del messages[index:end]
                    return

        self._save(drop)
        self.own.pop()

    def last_prompt(self) -> str:
        """The user's message of the last exchange (to ask it again); a UsageError if none."""
        return str(self.session.messages[self.session.last_exchange_index()]["content"])

    def rename(self, name: str) -> None:
        """Give the session a name of the user's: its file is renamed, or it is saved under
        that name from its first turn."""
        check_name(name)
        if self.on_disk:
            self.session = self.store.rename(self.session.name, name)
        elif self.store.exists(name):
            raise UsageError(f"a session named {name!r} exists already")
        else:
            self.session.name = name
        self.named_by_wai = False

    # --- turns ---

    def request_for(
        self,
        prompt: str,
        *,
        raw: bool = False,
        stream: bool = True,
        replace_last: bool = False,
        response_format: Mapping[str, Any] | None = None,
    ) -> Request:
        """The request for a new message: the history that fits the context window, then it.
        `replace_last`: the history without its last exchange (to regenerate that answer);
        `response_format`: JSON mode, as Request has it."""
        settings = self.settings
        user = {"role": "user", "content": prompt}
        history = [] if raw else self.session.scoped_messages()
        if replace_last:
            del history[self.session.last_exchange_index() :]
        max_tokens = int(settings.params["max_tokens"])
        fill_down_to = None
        if self.reasons and not settings.max_tokens_given:
            max_tokens, fill_down_to = REASONING_MAX_TOKENS, REASONING_MIN_TOKENS
        if not settings.backend.model:  # a local server's first model: its list has the window
            self.backend.model  # noqa: B018 - asks the server, as sending would anyway
        window = self.context_window
        fit = fit_messages(
            [*history, user],
            window,
            max_tokens,
            settings.max_tokens_given,
            self.backend.model,
            fill_down_to,
        )
        if fit.left_out:
            self.env.notice(
                f"{fit.left_out} older message{'s' if fit.left_out > 1 else ''} left out to fit "
                f"the {window}-token context window"
            )
        params = {**settings.params, "max_tokens": fit.max_tokens}
        # A saved conversation asks for the same replica every turn, so that its prompt cache
        # holds the history; a conversation that is not kept has nothing to reuse.
        affinity = self.session.affinity if self.persistent else None
        return Request(
            messages=() if raw else tuple(fit.messages),
            prompt=prompt if raw else None,
            params=params,
            stream=stream,
            response_format=response_format,
            affinity=affinity,
        )

    def send(
        self,
        prompt: str,
        renderer: Renderer,
        *,
        raw: bool = False,
        stream: bool = True,
        replace_last: bool = False,
        response_format: Mapping[str, Any] | None = None,
    ) -> TurnResult:
        """Send one message and record the exchange; with `replace_last`, the new exchange
        takes the place of the last one, which stays if no answer arrives."""
        request = self.request_for(
            prompt,
            raw=raw,
            stream=stream,
            replace_last=replace_last,
            response_format=response_format,
        )
        if self.model_info is not None:
            notice = retirement_notice(
                self.settings.backend.model,
                self.model_info.deprecation,
                date.today(),
                cache_dir() / "retirement-notices.json",
            )
            if notice:
                self.env.notice(notice)
        if self.persistent:  # no answer is paid for that could not be kept
            self.store.check_writable(self.session, more=len(prompt.encode()))
        sent_at = now()
        try:
            result = run_turn(self.backend, request, renderer, self.env)
        except ReaderLeft as left:  # nobody reads the answer any more, but it is kept
            if left.result.text or left.result.reasoning:
                self._record(prompt, left.result, sent_at, replace_last=replace_last)
            raise
        if result.finish_reason == "length" and result.text:
            self.env.notice(
                f"the answer was cut at max_tokens ({request.params.get('max_tokens')}); "
                + self.env.phrased(
                    "raise --max-tokens", "/continue goes on, or raise it with /set max_tokens N"
                )
            )
        if result.text or result.reasoning:
            self._record(prompt, result, sent_at, replace_last=replace_last)
        return result

    def continuation_request(self, *, stream: bool = True) -> Request:
        """The request that continues the last answer, cut short (see `continue_answer`)."""
        return continuation.continuation_request(self, stream=stream)

    def continue_answer(self, renderer: Renderer, *, stream: bool = True) -> TurnResult:
        """Continue the last answer, which was interrupted or cut at max_tokens: only the new
        text reaches `renderer`, and it is appended to that answer in the session. A
        UsageError when there is no such answer."""
        return continuation.continue_answer(self, renderer, stream=stream)

    def _record(
        self, prompt: str, result: TurnResult, sent_at: str, *, replace_last: bool = False
    ) -> None:
        """Append the exchange (a partial answer marked interrupted) and save the session."""
        answer_meta: dict[str, Any] = {"time": now(), "model": self.backend.model}
        if result.usage is not None:
            answer_meta["usage"] = result.usage.as_dict()
        if result.reasoning:
            answer_meta["reasoning"] = result.reasoning  # shown apart, never sent back
        if result.interrupted:
            answer_meta["interrupted"] = True
        elif result.finish_reason != "stop":
            answer_meta["finish_reason"] = result.finish_reason
        exchange = [
            {"role": "user", "content": prompt, "meta": {"time": sent_at}},
            {"role": "assistant", "content": result.text, "meta": answer_meta},
        ]

        def append(session: Session) -> None:
            if replace_last:
                session.drop_last_exchange()
            session.messages.extend(copy.deepcopy(exchange))

        if replace_last and self.own and self.own[-1] == self.session_last_key():
            self.own.pop()
        self.own.append((sent_at, prompt))
        self._save(append, first_words=prompt)

    def session_last_key(self) -> tuple[Any, str] | None:
        """The key of the session's last exchange, None when there is none."""
        for message in reversed(self.session.messages):
            if message.get("role") == "user":
                return _exchange_key(message)
        return None

    def _save(self, change: Callable[[Session], None], first_words: str = "") -> None:
        """Apply `change` to the session and, when it is persistent, to its file (under the
        lock, to what is on disk, so that turns another process added meanwhile are kept)."""
        system = self.session.system

        def settle(session: Session) -> None:  # what every save records with its change
            if self.system_changed:
                session.set_system(system)
            session.backend = self.settings.backend.name
            session.model = self.backend.model  # a local server's first model, if none was set
            session.params = dict(self.params)
            session.one_shot = session.one_shot and session.turns <= 1  # until followed up
            if self.overrides.role:  # kept in the document beside the standard keys
                session.extra["role"] = self.overrides.role

        if not self.persistent:
            change(self.session)
            settle(self.session)
            return
        # What a failed save left is in memory already, and goes to the file with this change.
        pending = [*self.unsaved, change]
        in_memory = copy.deepcopy(self.session)

        def apply(session: Session) -> None:
            for each in pending if session is not in_memory else [change]:
                each(session)
            settle(session)

        try:
            if not self.on_disk and self.named_by_wai:
                in_memory.name = in_memory.name or name_from(first_words or "chat")
                self.session = self.store.create(in_memory, apply)
            else:
                self.session = self.store.update(in_memory, apply)
        except ConfigError:
            # The change is kept in memory (the chat goes on); the next save writes it.
            self.session.name = in_memory.name
            change(self.session)
            settle(self.session)
            self.unsaved = pending
            raise
        self.unsaved = []
        self.system_changed = False
        self.on_disk = True


def _exchange_key(message: Mapping[str, Any]) -> tuple[Any, str] | None:
    """What tells an exchange sent from here apart: its user message's time and text."""
    if message.get("role") != "user":
        return None
    meta = message.get("meta")
    return (meta.get("time") if isinstance(meta, dict) else None, str(message.get("content")))
