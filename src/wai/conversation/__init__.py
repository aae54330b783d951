"""A session and the settings to continue it: requests from its history, turns saved to its file.

`ask` and `chat` both talk through a Conversation; they differ only in where input comes from
and how often they call `send`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from wai.backends.base import Backend, Request, TurnResult
from wai.conversation.store import Session, SessionStore, check_name, name_from, now
from wai.conversation.window import fit_messages
from wai.environment import Environment
from wai.render import Renderer
from wai.settings import Options, Settings, resolve


class Conversation:
    def __init__(
        self,
        env: Environment,
        store: SessionStore,
        session: Session,
        options: Options,
        config: Mapping[str, Any],
        *,
        save: bool = True,
    ):
        self.env = env
        self.store = store
        self.config = config
        self.save = save
        self.options = options
        self.session = session
        self.settings: Settings
        self.backend: Backend
        self.saved = bool(session.name) and store.exists(session.name)
        self.params = {**session.params, **options.params}  # chosen for this conversation
        self._system_change: list[str | None] = []  # set, not yet saved
        self.auto_named = False  # a new session named by wai may take -2, -3... if taken
        self._resolve()

    # --- opening ---

    @classmethod
    def open(
        cls,
        env: Environment,
        options: Options,
        *,
        name: str | None = None,
        resume_last: bool = False,
        save: bool | None = None,
        first_words: str = "",
    ) -> Conversation:
        """The named session (created if new), the most recent one, or a new one (named from
        `first_words` when given, else at its first turn). `save=None`: a new unnamed session
        is saved unless the config says `save_one_shots = false`."""
        from wai.settings.file import load_config

        config = load_config()
        store = SessionStore()
        if name is not None:
            check_name(name)
        if resume_last:
            session = store.most_recent()
        elif name and store.exists(name):
            session = store.load(name)
        else:
            session = Session(name=check_name(name) if name else "")
        if save is None:
            save = bool(name or resume_last) or config.get("save_one_shots", True)
        auto_named = not session.name
        if save and auto_named and first_words:
            session.name = store.unique_name(name_from(first_words))
        new = not session.messages
        conversation = cls(env, store, session, options, config, save=save)
        conversation.auto_named = auto_named
        if options.system is not None:
            conversation.set_system(options.system)
        elif new and conversation.settings.system:
            conversation.set_system(conversation.settings.system)
        return conversation

    def _resolve(self) -> None:
        """Settings from the options, falling back to what the session recorded."""
        from wai.backends import make_backend

        session, options = self.session, self.options
        merged = Options(
            backend=options.backend or session.backend,
            model=options.model or session.model,
            system=options.system,
            params=self.params,
        )
        settings = resolve(merged, self.config, self.env.environ)
        self.backend = make_backend(settings)
        self.settings = settings
        self.env.add_secret(settings.backend.api_token)

    def switch(self, *, params: Mapping[str, Any] | None = None, **changes: Any) -> None:
        """Change the backend, model or params for the next turns (`/model`, `/set`, ...);
        a change that does not resolve leaves everything as it was."""
        before = (self.options, self.params)
        self.options = self.options._replace(**changes)
        self.params = {**self.params, **(params or {})}
        try:
            self._resolve()
        except BaseException:
            self.options, self.params = before
            raise

    def set_system(self, text: str | None) -> None:
        """Replace the system message; saved with the next change to the file."""
        self.session.set_system(text)
        self._system_change = [text]

    # --- turns ---

    def request_for(
        self, prompt: str, *, raw: bool = False, stream: bool = True, replace_last: bool = False
    ) -> Request:
        """The request for a new message: the history that fits the context window, then it.
        `replace_last`: the history without its last exchange (to regenerate that answer)."""
        settings = self.settings
        user = {"role": "user", "content": prompt}
        history = [] if raw else self.session.scoped_messages()
        if replace_last:
            del history[self.session.last_exchange_index() :]
        fit = fit_messages(
            [*history, user],
            settings.backend.context_window,
            int(settings.params["max_tokens"]),
            settings.max_tokens_given,
            settings.backend.model,
        )
        if fit.left_out:
            self.env.notice(
                f"{fit.left_out} older message{'s' if fit.left_out > 1 else ''} left out to fit "
                f"the {settings.backend.context_window}-token context window"
            )
        params = {**settings.params, "max_tokens": fit.max_tokens}
        if raw:
            return Request(prompt=prompt, params=params, stream=stream)
        return Request(messages=tuple(fit.messages), params=params, stream=stream)

    def send(
        self,
        prompt: str,
        renderer: Renderer,
        *,
        raw: bool = False,
        stream: bool = True,
        replace_last: bool = False,
    ) -> TurnResult:
        """Send one message and record the exchange; with `replace_last`, the new exchange
        takes the place of the last one, which stays if no answer arrives."""
        from wai.conversation.turn import run_turn

        request = self.request_for(prompt, raw=raw, stream=stream, replace_last=replace_last)
        sent_at = now()
        result = run_turn(self.backend, request, renderer, self.env)
        if result.text or not result.interrupted:
            self.record(prompt, result, sent_at, replace_last=replace_last)
        return result

    def record(
        self, prompt: str, result: TurnResult, sent_at: str, *, replace_last: bool = False
    ) -> None:
        """Append the exchange (a partial answer marked interrupted) and save the session."""
        answer_meta: dict[str, Any] = {"time": now(), "model": self.backend.model}
        if result.usage is not None:
            answer_meta["usage"] = result.usage.as_dict()
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
            session.messages.extend(exchange)

        self.update(append, first_words=prompt)

    def update(self, change: Any, first_words: str = "") -> None:
        """Apply `change` to the session and, when saving, to its file (under the lock)."""

        def apply(session: Session) -> None:
            if self._system_change:
                session.set_system(self._system_change[0])
            change(session)
            session.backend = self.settings.backend.name
            session.model = self.backend.model  # a local server's first model, if none was set
            session.params = dict(self.params)

        if not self.save:
            apply(self.session)
            return
        if not self.saved and self.auto_named:
            self.session.name = self.session.name or name_from(first_words or "chat")
            self.session = self.store.create(self.session, apply)
        else:
            self.session = self.store.update(self.session, apply)
        self._system_change = []
        self.saved = True
